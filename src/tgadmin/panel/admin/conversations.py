"""Conversations: latest first, the history inline and read-only, a reply box, close/reopen."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db import IntegrityError, transaction
from django.db.models import OuterRef, QuerySet, Subquery
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.defaultfilters import linebreaksbr
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import lazy
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from tgadmin.panel import audit
from tgadmin.panel.admin.base import ReadOnlyMixin, TelegramUserRowsAdmin
from tgadmin.panel.models import Conversation, Message, OutboxMessage
from tgadmin.panel.replies import send_reply
from tgadmin.panel.validators import telegram_text

REPLY_MAX_LENGTH = 4096  # Telegram's limit for one text message
HISTORY_LIMIT = 200  # the newest messages shown on a conversation page


class MessageInline(ReadOnlyMixin, admin.TabularInline[Message, Conversation]):
    model = Message
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = False
    fields = ("created_at", "direction", "author_admin_username", "body", "delivery")
    readonly_fields = fields
    ordering = ("created_at", "id")
    verbose_name_plural = lazy(
        lambda: gettext("history (newest %(limit)d messages)") % {"limit": HISTORY_LIMIT}, str
    )()

    def get_queryset(self, request: HttpRequest) -> QuerySet[Message]:
        latest_delivery = OutboxMessage.objects.filter(message_id=OuterRef("pk")).order_by("-id")
        return (
            super()
            .get_queryset(request)
            .annotate(
                delivery_status=Subquery(latest_delivery.values("status")[:1]),
                delivery_error=Subquery(latest_delivery.values("last_error_code")[:1]),
                delivery_reason=Subquery(latest_delivery.values("last_error")[:1]),
            )
        )

    @admin.display(description=_("message"))
    def body(self, obj: Message) -> SafeString:
        if obj.content_type != "text":
            return format_html(
                "<em>[{}]</em>{}", obj.content_type, linebreaksbr(obj.text or "", autoescape=True)
            )
        return SafeString(linebreaksbr(obj.text or "", autoescape=True))

    @admin.display(description=_("delivery"))
    def delivery(self, obj: Message) -> str:
        if obj.direction != Message.Direction.OUT:
            return "—"
        status: str | None = getattr(obj, "delivery_status", None)
        if status is None:
            return gettext("not queued")
        if status not in {"failed", "dead"}:
            return status
        # What Telegram (or the network) said, e.g. "failed (400): Bad Request: chat not found".
        code = getattr(obj, "delivery_error", None)
        reason = getattr(obj, "delivery_reason", None)
        return f"{status}{f' ({code})' if code else ''}{f': {reason}' if reason else ''}"


class ReplyForm(forms.ModelForm[Conversation]):
    reply = forms.CharField(
        label=_("Reply"),
        required=False,
        max_length=REPLY_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4, "cols": 80}),
        help_text=_("Sent to the user through the outbox; its delivery status shows above."),
    )

    class Meta:
        model = Conversation
        fields: list[str] = []

    def clean_reply(self) -> str:
        text: str = self.cleaned_data.get("reply", "").strip()
        if text and self.instance.user.is_blocked:
            raise forms.ValidationError(_("The user blocked the bot; a reply cannot be delivered."))
        return telegram_text(text)


class NoReplyForm(forms.ModelForm[Conversation]):
    class Meta:
        model = Conversation
        fields: list[str] = []


@admin.register(Conversation)
class ConversationAdmin(TelegramUserRowsAdmin[Conversation]):
    telegram_id_lookup = "user_id"
    username_lookup = "user__username"
    list_display = ("id", "user_link", "status", "last_activity_at", "created_at")
    list_display_links = ("id",)
    list_filter = ("status",)
    list_select_related = ("user",)
    search_fields = ("user__username",)
    search_help_text = _("The user's exact Telegram id or username.")
    ordering = ("-last_activity_at",)
    actions = ("close", "reopen")
    readonly_fields = ("user_link", "status", "created_at", "last_activity_at", "closed_at")
    inlines = (MessageInline,)

    class Media:
        css = {"all": ("panel/admin.css",)}

    def can_reply(self, request: HttpRequest, obj: Conversation | None) -> bool:
        return (
            obj is not None
            and self.has_change_permission(request, obj)
            and request.user.has_perm("panel.reply_conversation")
        )

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        fieldsets: list[Any] = [(None, {"fields": list(self.readonly_fields)})]
        if self.can_reply(request, obj):
            fieldsets.append((_("Reply"), {"fields": ["reply"]}))
        return fieldsets

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        kwargs["form"] = ReplyForm if self.can_reply(request, obj) else NoReplyForm
        return super().get_form(request, obj, change, **kwargs)

    def save_model(self, request: HttpRequest, obj: Conversation, form: Any, change: bool) -> None:
        # Every column is read-only here: never write the row back (the bot updates it too).
        text = form.cleaned_data.get("reply", "")
        if text and self.can_reply(request, obj):
            message = send_reply(conversation=obj, text=text, author=request.user)  # type: ignore[arg-type]
            audit.record_for(request.user, "reply", obj, {"message_id": message.pk})
            self.message_user(request, gettext("Reply queued for delivery."), messages.SUCCESS)

    def get_formset_kwargs(
        self, request: HttpRequest, obj: Conversation, inline: Any, prefix: str
    ) -> dict[str, Any]:
        kwargs: dict[str, Any] = super().get_formset_kwargs(request, obj, inline, prefix)
        if isinstance(inline, MessageInline) and obj.pk is not None:
            # Only the newest messages (ix_messages_conversation_created finds the cut-off).
            cutoff = (
                Message.objects.filter(conversation_id=obj.pk)
                .order_by("-created_at")
                .values_list("created_at", flat=True)[HISTORY_LIMIT - 1 : HISTORY_LIMIT]
            )
            first = next(iter(cutoff), None)
            if first is not None:
                kwargs["queryset"] = kwargs["queryset"].filter(created_at__gte=first)
        return kwargs

    def response_change(self, request: HttpRequest, obj: Conversation) -> HttpResponse:
        # Saving here only ever sends a reply: stay on the conversation, say nothing else.
        return HttpResponseRedirect(request.path)

    def construct_change_message(
        self, request: HttpRequest, form: Any, formsets: Any, add: bool = False
    ) -> Any:
        return [{"changed": {"fields": ["reply"]}}] if form.cleaned_data.get("reply") else []

    @admin.display(description=_("user"), ordering="user__username")
    def user_link(self, obj: Conversation) -> SafeString:
        url = reverse("admin:panel_telegramuser_change", args=[obj.user_id])
        return format_html('<a href="{}">{}</a>', url, str(obj.user))

    @admin.action(description=_("Close selected conversations"), permissions=["change"])
    def close(self, request: HttpRequest, queryset: QuerySet[Conversation]) -> None:
        ids = list(queryset.filter(status="open").values_list("id", flat=True))
        Conversation.objects.filter(id__in=ids, status="open").update(
            status="closed", closed_at=timezone.now()
        )
        for conversation_id in ids:
            audit.record(
                request.user, "close", object_type="panel.conversation", object_id=conversation_id
            )
        self.message_user(
            request,
            ngettext("Closed %(n)d conversation.", "Closed %(n)d conversations.", len(ids))
            % {"n": len(ids)},
        )

    @admin.action(description=_("Reopen selected conversations"), permissions=["change"])
    def reopen(self, request: HttpRequest, queryset: QuerySet[Conversation]) -> None:
        reopened, refused = 0, 0
        for conversation_id in queryset.filter(status="closed").values_list("id", flat=True):
            try:
                with transaction.atomic():
                    Conversation.objects.filter(id=conversation_id, status="closed").update(
                        status="open", closed_at=None
                    )
            except IntegrityError:  # the user already has an open conversation
                refused += 1
                continue
            reopened += 1
            audit.record(
                request.user, "reopen", object_type="panel.conversation", object_id=conversation_id
            )
        self.message_user(
            request,
            ngettext("Reopened %(n)d conversation.", "Reopened %(n)d conversations.", reopened)
            % {"n": reopened},
        )
        if refused:
            self.message_user(
                request,
                ngettext(
                    "%(n)d conversation not reopened: its user already has an open one.",
                    "%(n)d conversations not reopened: their users already have an open one.",
                    refused,
                )
                % {"n": refused},
                messages.WARNING,
            )
