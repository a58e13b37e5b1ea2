"""The outbox, read-only: what is queued for Telegram and how delivery went."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from tgadmin.panel.admin.base import ReadOnlyAdmin
from tgadmin.panel.models import OutboxMessage
from tgadmin.panel.pagination import EstimatedCountPaginator
from tgbot.db.statuses import OUTBOX_STATUSES


class OutboxStatusFilter(admin.SimpleListFilter):
    title = _("delivery")
    parameter_name = "status"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(status, status) for status in OUTBOX_STATUSES]

    def queryset(self, request: HttpRequest, queryset: Any) -> Any:
        return queryset.filter(status=self.value()) if self.value() else queryset


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyAdmin[OutboxMessage]):
    list_display = (
        "id",
        "method",
        "chat_id",
        "status",
        "attempts",
        "last_error_code",
        "broadcast_id",
        "message_id",
        "created_at",
        "sent_at",
    )
    list_filter = (OutboxStatusFilter,)
    search_fields = ("=idempotency_key",)
    ordering = ("-id",)
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER  # facet counts are COUNT(*) per filter choice
    exclude = ("payload",)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return [f.name for f in OutboxMessage._meta.fields if f.name != "payload"]
