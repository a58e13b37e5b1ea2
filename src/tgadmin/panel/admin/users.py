"""Telegram users: search by id or username, filters, ban and unban, tags (broadcast segments)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME, ActionForm
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from tgadmin.panel import audit, user_data, user_tags
from tgadmin.panel.admin.base import TelegramUserRowsAdmin
from tgadmin.panel.models import TelegramUser


class ActiveRecentlyFilter(admin.SimpleListFilter):
    """Seen within a period; uses ix_tg_users_last_seen_at."""

    title = _("active")
    parameter_name = "active"
    PERIODS = {"1d": dt.timedelta(days=1), "7d": dt.timedelta(days=7), "30d": dt.timedelta(days=30)}

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [
            ("1d", _("in the last 24 hours")),
            ("7d", _("in the last 7 days")),
            ("30d", _("in the last 30 days")),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        period = self.PERIODS.get(str(self.value()))
        if period is None:
            return queryset
        return queryset.filter(last_seen_at__gte=timezone.now() - period)


class TagActionForm(ActionForm):
    """The list's action bar with a tag box, for "Tag" and "Untag"."""

    tag = forms.CharField(
        label=_("tag"),
        required=False,
        max_length=32,
        widget=forms.TextInput(attrs={"placeholder": _("tag, e.g. vip"), "size": 12}),
    )


@admin.register(TelegramUser)
class TelegramUserAdmin(TelegramUserRowsAdmin[TelegramUser]):
    action_form = TagActionForm
    telegram_id_lookup = "telegram_id"
    username_lookup = "username"
    list_display = (
        "telegram_id",
        "username",
        "first_name",
        "language",
        "is_subscribed",
        "is_blocked",
        "is_banned",
        "last_seen_at",
        "conversations_link",
    )
    # Fixed choices only: no filter may SELECT DISTINCT over a million rows.
    list_filter = ("is_subscribed", "is_blocked", "is_banned", "language", ActiveRecentlyFilter)
    search_fields = ("username",)
    search_help_text = _("Exact Telegram id, or username with or without @ (any case).")
    ordering = ("-last_seen_at",)
    actions = ("ban", "unban", "add_tag", "remove_tag", "export_data", "erase_data")
    readonly_fields = (
        "telegram_id",
        "username",
        "first_name",
        "last_name",
        "language_code",
        "language",
        "is_subscribed",
        "is_blocked",
        "is_banned",
        "start_payload",
        "first_seen_at",
        "last_seen_at",
        "subscribed_at",
        "tag_list",
        "conversations_link",
    )

    def has_ban_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("panel.ban_user")

    def has_tag_permission(self, request: HttpRequest) -> bool:
        return user_tags.may_tag(request)

    @admin.display(description=_("tags"))
    def tag_list(self, obj: TelegramUser) -> str:
        return ", ".join(sorted(t.tag for t in obj.tags.all())) or "—"

    def _tag_from(self, request: HttpRequest) -> str | None:
        try:
            return user_tags.clean_tag(request.POST.get("tag"))
        except user_tags.TagRefused as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return None

    @admin.action(description=_("Tag selected users"), permissions=["tag"])
    def add_tag(self, request: HttpRequest, queryset: QuerySet[TelegramUser]) -> None:
        tag = self._tag_from(request)
        if tag is None:
            return
        ids = list(queryset.values_list("telegram_id", flat=True))
        created = user_tags.add_tag(request.user, ids, tag)
        self.message_user(
            request,
            ngettext("Tagged %(n)d user %(tag)s.", "Tagged %(n)d users %(tag)s.", created)
            % {"n": created, "tag": tag},
            messages.SUCCESS,
        )

    @admin.action(description=_("Untag selected users"), permissions=["tag"])
    def remove_tag(self, request: HttpRequest, queryset: QuerySet[TelegramUser]) -> None:
        tag = self._tag_from(request)
        if tag is None:
            return
        ids = list(queryset.values_list("telegram_id", flat=True))
        removed = user_tags.remove_tag(request.user, ids, tag)
        self.message_user(
            request,
            ngettext("Untagged %(n)d user.", "Untagged %(n)d users.", removed) % {"n": removed},
            messages.SUCCESS,
        )

    def has_personal_data_permission(self, request: HttpRequest) -> bool:
        """Exporting and erasing a person's data: superusers only."""
        return bool(request.user.is_superuser)

    @admin.display(description=_("conversations"))
    def conversations_link(self, obj: TelegramUser) -> SafeString:
        url = reverse("admin:panel_conversation_changelist")
        return format_html('<a href="{}?user={}">{}</a>', url, obj.telegram_id, _("conversations"))

    def _set_banned(
        self, request: HttpRequest, queryset: QuerySet[TelegramUser], banned: bool
    ) -> None:
        ids = list(queryset.filter(is_banned=not banned).values_list("telegram_id", flat=True))
        TelegramUser.objects.filter(telegram_id__in=ids).update(is_banned=banned)
        for telegram_id in ids:
            audit.record(
                request.user,
                "ban" if banned else "unban",
                object_type="panel.telegramuser",
                object_id=telegram_id,
            )
        text = (
            ngettext("Banned %(n)d user.", "Banned %(n)d users.", len(ids))
            if banned
            else ngettext("Unbanned %(n)d user.", "Unbanned %(n)d users.", len(ids))
        )
        self.message_user(request, text % {"n": len(ids)}, messages.SUCCESS)

    @admin.action(description=_("Ban selected users"), permissions=["ban"])
    def ban(self, request: HttpRequest, queryset: QuerySet[TelegramUser]) -> None:
        self._set_banned(request, queryset, banned=True)

    @admin.action(description=_("Unban selected users"), permissions=["ban"])
    def unban(self, request: HttpRequest, queryset: QuerySet[TelegramUser]) -> None:
        self._set_banned(request, queryset, banned=False)

    @admin.action(
        description=_("Export selected users' data (JSON)"), permissions=["personal_data"]
    )
    def export_data(self, request: HttpRequest, queryset: QuerySet[TelegramUser]) -> HttpResponse:
        ids = sorted(queryset.values_list("telegram_id", flat=True))
        exports = [user_data.export_user(telegram_id) for telegram_id in ids]
        for telegram_id in ids:
            user_data.record_export(request.user, telegram_id, by="panel")
        name = f"telegram-user-{ids[0]}.json" if len(ids) == 1 else "telegram-users.json"
        response = JsonResponse(
            exports[0] if len(exports) == 1 else {"users": exports},
            json_dumps_params={"ensure_ascii": False, "indent": 2},
        )
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response

    @admin.action(description=_("Erase selected users' data"), permissions=["personal_data"])
    def erase_data(
        self, request: HttpRequest, queryset: QuerySet[TelegramUser]
    ) -> TemplateResponse | None:
        if request.POST.get("confirm") != "yes":
            context = {
                **self.admin_site.each_context(request),
                "title": _("Erase users' data?"),
                "users": list(queryset),
                "opts": self.model._meta,
                "action_checkbox_name": ACTION_CHECKBOX_NAME,
            }
            return TemplateResponse(
                request, "admin/panel/telegramuser/erase_confirmation.html", context
            )
        ids = list(queryset.values_list("telegram_id", flat=True))
        for telegram_id in ids:
            user_data.erase_user(telegram_id, request.user, by="panel")
        self.message_user(
            request,
            ngettext("Erased %(n)d user's data.", "Erased %(n)d users' data.", len(ids))
            % {"n": len(ids)},
            messages.SUCCESS,
        )
        return None
