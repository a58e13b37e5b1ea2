"""What every admin of a bot table shares: audit logging and a paginator without COUNT(*)."""

from __future__ import annotations

from typing import Any, TypeVar

from django.contrib import admin
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest

from tgadmin.panel import audit
from tgadmin.panel.pagination import EstimatedCountPaginator

M = TypeVar("M", bound=models.Model)


def _jsonable(message: Any) -> Any:
    return message if isinstance(message, list | str) else str(message)


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


def telegram_search(term: str) -> tuple[int | None, str]:
    """A search term as (Telegram id, username): ``12345`` or ``@name`` / ``name``."""
    term = term.strip()
    if term.lstrip("-").isdigit():
        return int(term), ""
    return None, term.lstrip("@").lower()
