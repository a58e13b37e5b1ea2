"""The audit log: read-only for everyone, including superusers."""

from __future__ import annotations

from django.contrib import admin

from tgadmin.panel.admin.base import ReadOnlyAdmin
from tgadmin.panel.models import AdminAuditLog
from tgadmin.panel.pagination import EstimatedCountPaginator


@admin.register(AdminAuditLog)
class AdminAuditLogAdmin(ReadOnlyAdmin[AdminAuditLog]):
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
