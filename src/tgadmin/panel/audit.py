"""The audit trail: one ``admin_audit_log`` row per admin action. Never updated or deleted."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import models

from tgadmin.panel.models import AdminAuditLog


def record(
    user: AbstractBaseUser | AnonymousUser | None,
    action: str,
    *,
    object_type: str,
    object_id: object,
    details: dict[str, Any] | None = None,
    username: str | None = None,
) -> AdminAuditLog:
    """Write one audit row for ``user`` doing ``action`` to ``object_type:object_id``."""
    user_id = user.pk if user is not None and user.is_authenticated else None
    name = username if username is not None else (user.get_username() if user else "")
    return AdminAuditLog.objects.create(
        admin_user_id=user_id,
        admin_username=(name or "anonymous")[:150],
        action=action[:64],
        object_type=object_type[:64],
        object_id=str(object_id)[:64],
        details=details or {},
    )


def record_for(
    user: AbstractBaseUser | AnonymousUser | None,
    action: str,
    obj: models.Model,
    details: dict[str, Any] | None = None,
) -> AdminAuditLog:
    """:func:`record` for a model instance (``object_type`` is ``app_label.model``)."""
    return record(
        user,
        action,
        object_type=obj._meta.label_lower,
        object_id=obj.pk,
        details=details,
    )
