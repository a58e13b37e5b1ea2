"""Broadcasts: compose with preview and live recipient count, schedule, control, progress."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import escape, format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from tgadmin.panel import audit
from tgadmin.panel.admin.base import MAX_BIGINT, TELEGRAM_ID, AuditedAdmin
from tgadmin.panel.broadcast_control import (
    ALLOWED_FROM,
    Segment,
    Transition,
    apply,
    audience_count,
    test_send,
)
from tgadmin.panel.inbox import attachments
from tgadmin.panel.models import Broadcast, OutboxUpload
from tgbot.telegram_html import (
    CAPTION_LIMIT,
    MESSAGE_LIMIT,
    length_problem,
    preview_html,
    problems,
    url_problem,
)

AUDIENCE = (
    "audience_language",
    "audience_active_days",
    "audience_start_payload",
    "audience_subscribed_since",
    "audience_tag",
)
EDITABLE = ("title", "text", *AUDIENCE, "scheduled_at")
ATTACHMENT_KINDS = {
    "sendPhoto": _("photo"),
    "sendVideo": _("video"),
    "sendAnimation": _("animation"),
    "sendDocument": _("file"),
}
LIVE_STATUSES = (Broadcast.Status.RUNNING, Broadcast.Status.SCHEDULED)
TRANSITION_LABELS = {
    Transition.START: _("Start"),
    Transition.PAUSE: _("Pause"),
    Transition.RESUME: _("Resume"),
    Transition.CANCEL: _("Cancel"),
}


def progress(broadcast: Broadcast) -> dict[str, Any]:
    """The numbers behind the progress bar (also the JSON the page polls)."""
    total = broadcast.total_count
    parts = {
        "sent": broadcast.sent_count,
        "failed": broadcast.failed_count,
        "blocked": broadcast.blocked_count,
        "pending": broadcast.pending_count,
    }

    def percent(n: int) -> float:
        return round(100 * n / total, 1) if total else 0.0

    return {
        "status": broadcast.status,
        "status_display": broadcast.get_status_display(),
        "total": total,
        **parts,
        "percent": {name: percent(n) for name, n in parts.items()},
        "live": broadcast.status in LIVE_STATUSES,
    }


def progress_bar(broadcast: Broadcast, url: str = "") -> SafeString:
    data = progress(broadcast)
    pct = data["percent"]
    return format_html(
        '<div class="tg-progress" data-url="{url}" data-live="{live}">'
        '<div class="tg-progress-bar">'
        '<span class="tg-sent" style="width:{ps}%"></span>'
        '<span class="tg-failed" style="width:{pf}%"></span>'
        '<span class="tg-blocked" style="width:{pb}%"></span></div>'
        '<div class="tg-progress-text">'
        '{l_sent} <b class="tg-n-sent">{sent}</b> · {l_failed} <b class="tg-n-failed">{failed}</b>'
        ' · {l_blocked} <b class="tg-n-blocked">{blocked}</b>'
        ' · {l_pending} <b class="tg-n-pending">{pending}</b> / <b class="tg-n-total">{total}</b>'
        "</div></div>",
        url=url,
        live="1" if data["live"] else "0",
        ps=pct["sent"],
        pf=pct["failed"],
        pb=pct["blocked"],
        l_sent=gettext("sent"),
        l_failed=gettext("failed"),
        l_blocked=gettext("blocked"),
        l_pending=gettext("pending"),
        sent=data["sent"],
        failed=data["failed"],
        blocked=data["blocked"],
        pending=data["pending"],
        total=data["total"],
    )


BUTTONS_HELP = _(
    "One row of buttons per line; buttons on a row separated by |; each button is its label "
    "followed by its http://, https:// or tg:// URL. Example: "
    "Shop https://shop.example.com | Help https://example.com/help"
)
MAX_BUTTON_LABEL = 64
MAX_BUTTONS = 100  # Telegram's limit for one inline keyboard


def parse_buttons(value: str) -> tuple[list[list[dict[str, str]]], list[str]]:
    """``Label URL | Label URL`` per line → inline keyboard rows, and the problems found."""
    rows: list[list[dict[str, str]]] = []
    problems: list[str] = []
    for number, line in enumerate(value.splitlines(), start=1):
        if not line.strip():
            continue
        row = []
        for cell in line.split("|"):
            label, _space, url = cell.strip().rpartition(" ")
            label = label.strip()
            where = gettext("row %(n)d") % {"n": number}
            if not label or not url:
                problems.append(
                    gettext("%(where)s: %(cell)s needs a label and a URL")
                    % {"where": where, "cell": repr(cell.strip())}
                )
                continue
            if len(label) > MAX_BUTTON_LABEL:
                problems.append(
                    gettext("%(where)s: a label is longer than %(n)d characters")
                    % {"where": where, "n": MAX_BUTTON_LABEL}
                )
            if problem := url_problem(url):
                problems.append(f"{where}: {problem}")
            row.append({"text": label, "url": url})
        if row:
            rows.append(row)
    if sum(len(row) for row in rows) > MAX_BUTTONS:
        problems.append(gettext("at most %(n)d buttons") % {"n": MAX_BUTTONS})
    return rows, problems


def _row_html(row: list[dict[str, str]]) -> SafeString:
    return format_html_join(
        "", '<span class="tg-button" title="{}">{}</span>', ((b["url"], b["text"]) for b in row)
    )


def format_buttons(rows: list[list[dict[str, str]]] | None) -> str:
    return "\n".join(" | ".join(f"{b['text']} {b['url']}" for b in row) for row in rows or [])


class BroadcastForm(forms.ModelForm[Broadcast]):
    """Text in Telegram's HTML, checked as Telegram would; URL buttons as plain lines."""

    attachment = forms.FileField(
        label=_("Attachment"),
        required=False,
        help_text=_(
            "One photo (JPEG, PNG, WebP up to 10 MB), video (MP4), animation (GIF, or MP4 "
            "without sound) or file, each up to 50 MB; the text becomes its caption (1024 "
            "characters). Uploaded to Telegram once, then sent by reference."
        ),
    )
    send_as = forms.TypedChoiceField(
        label=_("Send the attachment as"),
        required=False,
        choices=[("", _("what it is (guessed from the file)")), *attachments.KIND_LABELS.items()],
        coerce=attachments.Kind,
        empty_value=None,
        help_text=_("Applies to a newly chosen file."),
    )
    remove_attachment = forms.BooleanField(label=_("Remove the attachment"), required=False)
    buttons_text = forms.CharField(
        label=_("Buttons"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 80}),
        help_text=BUTTONS_HELP,
    )

    class Meta:
        model = Broadcast
        fields = ("title", "text", *AUDIENCE, "scheduled_at")
        # Django renders help texts as HTML: the tags are written as entities to show as typed.
        help_texts = {
            "text": _(
                "Telegram's HTML: &lt;b&gt;bold&lt;/b&gt;, &lt;i&gt;italic&lt;/i&gt;, "
                "&lt;u&gt;underline&lt;/u&gt;, &lt;s&gt;strike&lt;/s&gt;, "
                "&lt;tg-spoiler&gt;spoiler&lt;/tg-spoiler&gt;, "
                '&lt;a href="https://..."&gt;link&lt;/a&gt;, &lt;code&gt;code&lt;/code&gt;, '
                "&lt;pre&gt;block&lt;/pre&gt;, &lt;blockquote&gt;quote&lt;/blockquote&gt;. "
                "Write &amp;lt; &amp;gt; &amp;amp; for the characters themselves."
            )
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            self.fields["buttons_text"].initial = format_buttons(self.instance.buttons)

    def clean_text(self) -> str:
        text = self.cleaned_data.get("text") or ""
        found = problems(text, limit=MESSAGE_LIMIT)
        if found:
            raise forms.ValidationError(found)
        return text

    def clean_buttons_text(self) -> str:
        value: str = self.cleaned_data.get("buttons_text") or ""
        self.parsed_buttons, found = parse_buttons(value)
        if found:
            raise forms.ValidationError(found)
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        upload = data.get("attachment")
        if upload is not None:
            try:
                data["attachment"] = attachments.read_attachment(
                    upload, data.get("send_as"), media=True
                )
            except attachments.AttachmentRefused as exc:
                self.add_error("attachment", str(exc))
        keeps_file = self.instance.upload_id is not None and not data.get("remove_attachment")
        text = data.get("text")
        # With a file the text is its caption: Telegram's limit is 1024.
        has_file = bool(data.get("attachment")) or keeps_file
        if text and has_file and (too_long := length_problem(text, CAPTION_LIMIT)):
            self.add_error("text", _("As a caption: %(problem)s") % {"problem": too_long})
        return data

    def save(self, commit: bool = True) -> Broadcast:
        if self.instance.pk is not None and self.instance.status != Broadcast.Status.DRAFT:
            return super().save(commit)  # started: what it sends stays as it was started
        self.instance.parse_mode = "HTML"  # what the form checked the text as
        self.instance.buttons = getattr(self, "parsed_buttons", None) or None
        attachment = self.cleaned_data.get("attachment")
        if isinstance(attachment, attachments.Attachment):
            # Stored once; every recipient's row points at it (uploaded once, then by file_id).
            self.instance.upload = OutboxUpload.objects.create(
                data=attachment.data,
                file_name=attachment.file_name,
                mime_type=attachment.mime_type,
                size=len(attachment.data),
            )
            self.instance.method = attachment.method
        elif self.cleaned_data.get("remove_attachment"):
            self.instance.upload = None
            self.instance.method = "sendMessage"
        return super().save(commit)


@admin.register(Broadcast)
class BroadcastAdmin(AuditedAdmin[Broadcast]):
    form = BroadcastForm
    list_display = ("title", "status", "audience", "scheduled_at", "progress_column", "created_at")
    list_filter = ("status",)
    search_fields = ("title",)
    ordering = ("-created_at",)
    actions = ("start", "pause", "resume", "cancel")
    change_form_template = "admin/panel/broadcast/change_form.html"
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "title",
                    "text",
                    "preview",
                    "attachment",
                    "send_as",
                    "remove_attachment",
                    "buttons_text",
                )
            },
        ),
        (
            _("Audience and schedule"),
            {"fields": (*AUDIENCE, "recipients", "scheduled_at")},
        ),
        (_("Progress"), {"fields": ("status", "progress_field", "started_at", "finished_at")}),
    )

    class Media:
        css = {"all": ("panel/admin.css",)}
        js = ("panel/broadcast.js",)

    # --- fields ----------------------------------------------------------------------------
    def get_fieldsets(self, request: HttpRequest, obj: Broadcast | None = None) -> Any:
        """A started broadcast shows what it sends (the preview) without the inputs for it."""
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None or obj.status == Broadcast.Status.DRAFT:
            return fieldsets
        inputs = {"attachment", "send_as", "remove_attachment", "buttons_text"}
        return [
            (name, {**options, "fields": [f for f in options["fields"] if f not in inputs]})
            for name, options in fieldsets
        ]

    def get_readonly_fields(self, request: HttpRequest, obj: Broadcast | None = None) -> Any:
        always = ("preview", "recipients", "status", "progress_field", "started_at", "finished_at")
        if obj is not None and obj.status != Broadcast.Status.DRAFT:
            return EDITABLE + always
        return always

    @admin.display(description=_("preview"))
    def preview(self, obj: Broadcast) -> SafeString:
        """The text as the user will see it: Telegram's HTML re-rendered by us (only the
        formatting tags, every text and URL escaped), or plain text for an older broadcast."""
        shown = (
            preview_html(obj.text or "")
            if obj.parse_mode == "HTML" or obj.pk is None
            else escape(obj.text or "")
        )
        keyboard = format_html_join(
            "", '<div class="tg-button-row">{}</div>', ((_row_html(r),) for r in obj.buttons or [])
        )
        attached = (
            format_html(
                '<div class="tg-attachment">📎 {}: {}</div>',
                ATTACHMENT_KINDS.get(obj.method, obj.method),
                obj.upload.file_name,
            )
            if obj.upload is not None
            else SafeString("")
        )
        return attached + format_html(
            '<div class="tg-preview" id="tg-preview" data-url="{}">{}</div>'
            '<div class="tg-keyboard" id="tg-keyboard">{}</div>',
            reverse("admin:panel_broadcast_preview"),
            SafeString(shown),
            keyboard,
        )

    @admin.display(description=_("recipients now"))
    def recipients(self, obj: Broadcast) -> SafeString:
        url = reverse("admin:panel_broadcast_audience_count")
        return format_html(
            '<span id="tg-recipients" data-url="{}">{}</span>',
            url,
            audience_count(Segment.of(obj)),
        )

    @admin.display(description=_("progress"))
    def progress_field(self, obj: Broadcast) -> SafeString:
        if obj.pk is None:
            return SafeString("—")
        return progress_bar(obj, reverse("admin:panel_broadcast_progress", args=[obj.pk]))

    @admin.display(description=_("progress"))
    def progress_column(self, obj: Broadcast) -> SafeString:
        return progress_bar(obj, reverse("admin:panel_broadcast_progress", args=[obj.pk]))

    @admin.display(description=_("audience"), ordering="audience_language")
    def audience(self, obj: Broadcast) -> str:
        return obj.get_audience_language_display() if obj.audience_language else gettext("all")

    # --- permissions -------------------------------------------------------------------------
    def has_control_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("panel.control_broadcast")

    def has_delete_permission(self, request: HttpRequest, obj: Broadcast | None = None) -> bool:
        if obj is not None and obj.status != Broadcast.Status.DRAFT:
            return False
        return super().has_delete_permission(request, obj)

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # only drafts may go, one at a time
        return actions

    def save_model(self, request: HttpRequest, obj: Broadcast, form: Any, change: bool) -> None:
        if not change:
            obj.created_by_admin_id = request.user.pk
            obj.status = Broadcast.Status.DRAFT
        super().save_model(request, obj, form, change)

    # --- transitions ---------------------------------------------------------------------------
    def transition(
        self, request: HttpRequest, broadcasts: QuerySet[Broadcast], which: Transition
    ) -> None:
        done, refused = 0, 0
        for broadcast in broadcasts:
            if apply(broadcast, which):
                done += 1
                audit.record_for(request.user, which.value, broadcast, {"status": broadcast.status})
            else:
                refused += 1
        if done:
            self.message_user(
                request,
                gettext("%(action)s: %(n)d broadcast(s).")
                % {"action": TRANSITION_LABELS[which], "n": done},
                messages.SUCCESS,
            )
        if refused:
            self.message_user(
                request,
                gettext("%(n)d broadcast(s) skipped: their status does not allow it.")
                % {"n": refused},
                messages.WARNING,
            )

    @admin.action(description=_("Start selected broadcasts"), permissions=["control"])
    def start(self, request: HttpRequest, queryset: QuerySet[Broadcast]) -> None:
        self.transition(request, queryset, Transition.START)

    @admin.action(description=_("Pause selected broadcasts"), permissions=["control"])
    def pause(self, request: HttpRequest, queryset: QuerySet[Broadcast]) -> None:
        self.transition(request, queryset, Transition.PAUSE)

    @admin.action(description=_("Resume selected broadcasts"), permissions=["control"])
    def resume(self, request: HttpRequest, queryset: QuerySet[Broadcast]) -> None:
        self.transition(request, queryset, Transition.RESUME)

    @admin.action(description=_("Cancel selected broadcasts"), permissions=["control"])
    def cancel(self, request: HttpRequest, queryset: QuerySet[Broadcast]) -> None:
        self.transition(request, queryset, Transition.CANCEL)

    # --- extra views -------------------------------------------------------------------------
    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view
        return [
            path(
                "audience-count/",
                view(self.audience_count_view),
                name="panel_broadcast_audience_count",
            ),
            path("preview/", view(require_POST(self.preview_view)), name="panel_broadcast_preview"),
            path(
                "<int:object_id>/progress/",
                view(self.progress_view),
                name="panel_broadcast_progress",
            ),
            path(
                "<int:object_id>/test-send/",
                view(require_POST(self.test_send_view)),
                name="panel_broadcast_test_send",
            ),
            path(
                "<int:object_id>/transition/<str:which>/",
                view(require_POST(self.transition_view)),
                name="panel_broadcast_transition",
            ),
            *super().get_urls(),
        ]

    def audience_count_view(self, request: HttpRequest) -> JsonResponse:
        """The live recipient count for the segment the form shows (its audience_* fields)."""
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        form = self.get_form(request, fields=AUDIENCE)(request.GET)
        if not form.is_valid():
            return JsonResponse({"errors": form.errors}, status=400)
        data = form.cleaned_data
        segment = Segment(
            language=data["audience_language"] or None,
            active_days=data["audience_active_days"],
            start_payload=data["audience_start_payload"] or None,
            subscribed_since=data["audience_subscribed_since"],
            tag=data["audience_tag"] or None,
        )
        return JsonResponse({"count": audience_count(segment)})

    def preview_view(self, request: HttpRequest) -> JsonResponse:
        """The live preview: the text's safe rendering and what Telegram would refuse in it."""
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        text = request.POST.get("text", "")[:20_000]
        rows, button_problems = parse_buttons(request.POST.get("buttons", "")[:20_000])
        return JsonResponse(
            {
                "html": preview_html(text),
                "problems": problems(text, limit=MESSAGE_LIMIT) + button_problems,
                "buttons": rows,
            }
        )

    def progress_view(self, request: HttpRequest, object_id: int) -> JsonResponse:
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        return JsonResponse(progress(get_object_or_404(Broadcast, pk=object_id)))

    def test_send_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        """ "Send a test": the exact broadcast to one Telegram id, through the outbox."""
        if not self.has_control_permission(request):
            raise PermissionDenied
        broadcast = get_object_or_404(Broadcast, pk=object_id)
        back = HttpResponseRedirect(reverse("admin:panel_broadcast_change", args=[object_id]))
        raw = (request.POST.get("chat_id") or "").strip()
        if not TELEGRAM_ID.fullmatch(raw) or not 0 < abs(int(raw)) <= MAX_BIGINT:
            self.message_user(
                request,
                gettext("A test goes to a Telegram id (digits; a group's starts with -)."),
                messages.ERROR,
            )
            return back
        chat_id = int(raw)
        test_send(broadcast, chat_id)
        request.session["broadcast_test_chat_id"] = chat_id  # offered again next time
        audit.record_for(request.user, "test_send", broadcast, {"chat_id": chat_id})
        self.message_user(
            request,
            gettext("Test queued for %(chat)d: it arrives as the recipients will see it.")
            % {"chat": chat_id},
            messages.SUCCESS,
        )
        return back

    def transition_view(self, request: HttpRequest, object_id: int, which: str) -> HttpResponse:
        if not self.has_control_permission(request):
            raise PermissionDenied
        try:
            transition = Transition(which)
        except ValueError:
            return HttpResponse(status=404)
        broadcast = get_object_or_404(Broadcast, pk=object_id)
        self.transition(request, Broadcast.objects.filter(pk=broadcast.pk), transition)
        return HttpResponseRedirect(reverse("admin:panel_broadcast_change", args=[object_id]))

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: Broadcast | None = None,
    ) -> Any:
        buttons: list[dict[str, Any]] = []
        if obj is not None and self.has_control_permission(request):
            for which, allowed in _allowed_transitions(obj):
                if allowed:
                    buttons.append(
                        {
                            "name": which.value,
                            "label": TRANSITION_LABELS[which],
                            "url": reverse(
                                "admin:panel_broadcast_transition", args=[obj.pk, which.value]
                            ),
                        }
                    )
        context["transition_buttons"] = buttons
        if obj is not None and self.has_control_permission(request):
            context["test_send_url"] = reverse("admin:panel_broadcast_test_send", args=[obj.pk])
            context["test_chat_id"] = request.session.get("broadcast_test_chat_id", "")
        if (obj is None or obj.status == Broadcast.Status.DRAFT) and self.has_control_permission(
            request
        ):
            when = obj.scheduled_at if obj is not None else None
            ahead = when is not None and when > timezone.now()
            context["start_is_schedule"] = ahead
            context["start_label"] = gettext("Schedule") if ahead else gettext("Start now")
        return super().render_change_form(request, context, add, change, form_url, obj)

    # --- "Start now" / "Schedule" from the form: save, then start ----------------------------
    def response_add(
        self, request: HttpRequest, obj: Broadcast, post_url_continue: str | None = None
    ) -> HttpResponse:
        return self._started(request, obj) or super().response_add(request, obj, post_url_continue)

    def response_change(self, request: HttpRequest, obj: Broadcast) -> HttpResponse:
        return self._started(request, obj) or super().response_change(request, obj)

    def _started(self, request: HttpRequest, obj: Broadcast) -> HttpResponse | None:
        if "_start" not in request.POST:
            return None
        if not self.has_control_permission(request):
            raise PermissionDenied
        self.transition(request, Broadcast.objects.filter(pk=obj.pk), Transition.START)
        return HttpResponseRedirect(reverse("admin:panel_broadcast_change", args=[obj.pk]))


def _allowed_transitions(obj: Broadcast) -> list[tuple[Transition, bool]]:
    return [(which, obj.status in ALLOWED_FROM[which]) for which in Transition]
