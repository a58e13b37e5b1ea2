"""What the admins of bot tables share: audit logging, a paginator without COUNT(*), and
the search and permissions of rows the bot creates for a Telegram user."""

from __future__ import annotations

import re
from typing import Any, TypeVar

from django.contrib import admin
from django.db import models
from django.db.models import QuerySet
from django.db.models.functions import Lower
from django.http import HttpRequest

from tgadmin.panel import audit
from tgadmin.panel.pagination import EstimatedCountPaginator

M = TypeVar("M", bound=models.Model)
# A Telegram id as a search term: ASCII digits only ("²".isdigit() is true, int("²") fails) and
# within PostgreSQL's bigint (a longer number would be a database error, not "no match").
TELEGRAM_ID = re.compile(r"-?[0-9]{1,19}")
MAX_BIGINT = 2**63 - 1


def _jsonable(message: Any) -> Any:
    return message if isinstance(message, list | str) else str(message)


class ReadOnlyMixin:
    """Rows the panel shows but never adds, changes or deletes (a ModelAdmin or an inline)."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyAdmin(ReadOnlyMixin, admin.ModelAdmin[M]):
    """A read-only ModelAdmin: the audit log, the outbox."""


class AuditedAdmin(admin.ModelAdmin[M]):
    """Writes every add, change and delete of the standard admin views to the audit log."""

    paginator = EstimatedCountPaginator
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER  # facet counts are COUNT(*) per filter choice
    list_per_page = 50

    def log_addition(self, request: HttpRequest, obj: M, message: Any) -> Any:
        audit.record_for(request.user, "add", obj, {"change": _jsonable(message)})
        return super().log_addition(request, obj, message)

    def log_change(self, request: HttpRequest, obj: M, message: Any) -> Any:
        audit.record_for(request.user, "change", obj, {"change": _jsonable(message)})
        return super().log_change(request, obj, message)

    def log_deletions(self, request: HttpRequest, queryset: QuerySet[M]) -> Any:
        for obj in queryset:
            audit.record_for(request.user, "delete", obj, {"repr": str(obj)[:200]})
        return super().log_deletions(request, queryset)


class TelegramUserRowsAdmin(AuditedAdmin[M]):
    """Rows the bot creates for a Telegram user (the user, their conversations): never added or
    deleted in the panel, and found by the user's exact Telegram id (``12345``) or username
    (``@name`` or ``name``, any case)."""

    telegram_id_lookup: str  # the lookup of the user's Telegram id, e.g. "user_id"
    username_lookup: str  # the lookup of the user's username, e.g. "user__username"

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[M], search_term: str
    ) -> tuple[QuerySet[M], bool]:
        term = search_term.strip()
        if not term:
            return queryset, False
        if TELEGRAM_ID.fullmatch(term) and abs(int(term)) <= MAX_BIGINT:
            return queryset.filter(**{self.telegram_id_lookup: int(term)}), False
        # lower(username) = ...: the expression index ix_tg_users_username_lower serves it.
        username = term.lstrip("@").lower()
        return queryset.alias(username_lower=Lower(self.username_lookup)).filter(
            username_lower=username
        ), False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
