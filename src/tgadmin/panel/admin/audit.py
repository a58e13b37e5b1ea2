"""The audit log: read-only for everyone, including superusers."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from tgadmin.panel.models import AdminAuditLog
from tgadmin.panel.pagination import EstimatedCountPaginator


@admin.register(AdminAuditLog)
class AdminAuditLogAdmin(admin.ModelAdmin[AdminAuditLog]):
    list_display = ("created_at", "admin_username", "action", "object_type", "object_id")
    search_fields = ("=admin_username", "=object_id")
    ordering = ("-created_at",)
    date_hierarchy = None
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER  # facet counts are COUNT(*) per filter choice
    readonly_fields = (
        "created_at",
        "admin_user_id",
        "admin_username",
        "action",
        "object_type",
        "object_id",
        "details",
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
