"""Panel accounts: Django's user and group admins, with every change in the audit log.

Django's own LogEntry stays as it is; the audit log additionally records who changed which
account or group, and the resulting flags, groups and permissions, so a privilege change can be
reviewed in one place.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group, User
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest
from django_otp_webauthn.admin import WebAuthnCredentialAdmin
from django_otp_webauthn.models import WebAuthnCredential

from tgadmin.panel import audit


def _permissions(related: Any) -> list[str]:
    return sorted(
        f"{app}.{codename}"
        for app, codename in related.values_list("content_type__app_label", "codename")
    )


def account_state(obj: models.Model) -> dict[str, Any]:
    """What a reviewer needs after a change: flags, groups and permissions."""
    if isinstance(obj, User):
        return {
            "username": obj.username,
            "is_active": obj.is_active,
            "is_staff": obj.is_staff,
            "is_superuser": obj.is_superuser,
            "groups": sorted(obj.groups.values_list("name", flat=True)),
            "permissions": _permissions(obj.user_permissions),
        }
    if isinstance(obj, Group):
        return {"name": obj.name, "permissions": _permissions(obj.permissions)}
    return {}


def _plain(message: Any) -> Any:
    """Django's change message (lists of dicts holding lazy strings) as plain JSON."""
    return json.loads(json.dumps(message, default=str))


class AuditedAccountsMixin:
    """Writes an audit row wherever the admin writes a LogEntry (add, change, delete)."""

    def log_addition(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        audit.record_for(
            request.user, "account_added", obj, {"changes": _plain(message), **account_state(obj)}
        )
        return super().log_addition(request, obj, message)  # type: ignore[misc]

    def log_change(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        audit.record_for(
            request.user,
            "account_changed",
            obj,
            {"changes": _plain(message), **account_state(obj)},
        )
        return super().log_change(request, obj, message)  # type: ignore[misc]

    def log_deletions(self, request: HttpRequest, queryset: QuerySet[Any]) -> Any:
        for obj in queryset:
            audit.record_for(request.user, "account_deleted", obj, account_state(obj))
        return super().log_deletions(request, queryset)  # type: ignore[misc]


admin.site.unregister(User)
admin.site.unregister(Group)


@admin.register(User)
class AuditedUserAdmin(AuditedAccountsMixin, UserAdmin):  # type: ignore[type-arg]
    pass


@admin.register(Group)
class AuditedGroupAdmin(AuditedAccountsMixin, GroupAdmin):
    pass


@admin.register(WebAuthnCredential)
class SecurityKeyAdmin(WebAuthnCredentialAdmin):  # type: ignore[misc]  # the library is untyped
    """Users' security keys (django-otp-webauthn's admin): an admin removes a lost one, audited.
    Keys are added only in the browser, by their owner, on the two-factor page."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def log_deletions(self, request: HttpRequest, queryset: QuerySet[Any]) -> Any:
        for key in queryset:
            audit.record_for(
                request.user, "security_key_removed", key.user, {"name": key.name, "key_id": key.pk}
            )
        return super().log_deletions(request, queryset)
