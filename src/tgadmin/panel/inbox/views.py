"""HTTP for the inbox: parse the request, call ``queries``/``actions``, render a template.

Pages answer in full; the live parts (the list, a thread) are fragments the page's script fetches
again every second. Posts from the page's script (header ``X-Inbox: 1``) are answered with JSON;
plain form posts are redirected back with a message.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_POST

from tgadmin.panel import user_tags
from tgadmin.panel.inbox import actions, attachments, media, queries
from tgadmin.panel.models import Conversation, Message
from tgadmin.panel.validators import telegram_text

REPLY_MAX_LENGTH = 4096  # Telegram's limit for one text message
NOTE_MAX_LENGTH = 4000
WAITING_HEADER = "X-Inbox-Waiting"


class ReplyForm(forms.Form):
    """A text, or a file with an optional caption."""

    text = forms.CharField(
        required=False,
        max_length=REPLY_MAX_LENGTH,
        error_messages={
            "max_length": _(
                "A reply is at most %(limit_value)d characters (it has %(show_value)d)."
            ),
        },
    )
    attachment = forms.FileField(required=False, allow_empty_file=True)
    seen = forms.IntegerField(min_value=0)

    def clean(self) -> dict[str, Any]:
        data: dict[str, Any] = super().clean() or {}
        if "text" not in data:  # too long: its own error says so
            return data
        text, upload = data["text"], data.get("attachment")
        if upload is None:
            if not text:
                raise forms.ValidationError(_("Write a reply first."))
            return data
        try:
            data["attachment"] = attachments.read_attachment(upload)
        except attachments.AttachmentRefused as exc:
            raise forms.ValidationError(str(exc)) from None
        telegram_text(text, attachments.MAX_CAPTION)  # a caption, as Telegram counts it
        return data

    def clean_text(self) -> str:
        return telegram_text(self.cleaned_data.get("text") or "")


class NoteForm(forms.Form):
    body = forms.CharField(
        max_length=NOTE_MAX_LENGTH,
        error_messages={"required": _("Write the note first.")},
    )


class CloseForm(forms.Form):
    send_closing_text = forms.BooleanField(required=False)


def _require(request: HttpRequest, permission: str) -> None:
    if not request.user.has_perm(permission):
        raise PermissionDenied


def _user(request: HttpRequest) -> AbstractBaseUser:
    user = request.user
    assert isinstance(user, AbstractBaseUser)  # admin_view let only staff in
    return user


def _from_script(request: HttpRequest) -> bool:
    return request.headers.get("X-Inbox") == "1"


def _answer(
    request: HttpRequest,
    conversation_id: int,
    *,
    error: str | None = None,
    notice: str | None = None,
    **data: Any,
) -> HttpResponse:
    if _from_script(request):
        body: dict[str, Any] = {"ok": error is None, **data}
        if error is not None:
            body["error"] = error
        if notice is not None:
            body["notice"] = notice
        return JsonResponse(body, status=400 if error is not None else 200)
    if error is not None:
        messages.error(request, error)
    elif notice is not None:
        messages.info(request, notice)
    return HttpResponseRedirect(reverse("inbox:conversation", args=[conversation_id]))


def _form_error(form: forms.Form) -> str:
    return " ".join(str(e) for errors in form.errors.values() for e in errors)


def _selected(request: HttpRequest) -> queries.Filter:
    value = request.GET.get("filter", "waiting")
    for name in queries.FILTERS:
        if name == value:
            return name
    return "waiting"


def _list_context(request: HttpRequest) -> dict[str, Any]:
    selected = _selected(request)
    query = request.GET.get("q", "").strip()[:100]
    return {
        "conversations": queries.inbox_conversations(
            selected=selected, query=query, user=request.user
        ),
        "selected": selected,
        "query": query,
        "waiting": queries.waiting_count(),
    }


def _with_waiting(response: HttpResponse, waiting: int) -> HttpResponse:
    response[WAITING_HEADER] = str(waiting)
    return response


FILTER_LABELS = {
    "waiting": _("Waiting"),
    "mine": _("Mine"),
    "unassigned": _("Unassigned"),
    "open": _("All open"),
    "closed": _("Closed"),
}


@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    _require(request, "panel.view_conversation")
    context = {
        **admin.site.each_context(request),
        **_list_context(request),
        "title": gettext("Inbox"),
        "filters": list(FILTER_LABELS.items()),
    }
    return _with_waiting(render(request, "inbox/inbox.html", context), context["waiting"])


@require_GET
def inbox_list(request: HttpRequest) -> HttpResponse:
    _require(request, "panel.view_conversation")
    context = _list_context(request)
    return _with_waiting(render(request, "inbox/_list.html", context), context["waiting"])


def _conversation_context(request: HttpRequest, conversation: Conversation) -> dict[str, Any]:
    return {
        "conversation": conversation,
        "items": queries.thread(conversation.pk),
        "can_reply": request.user.has_perm("panel.reply_conversation")
        and conversation.status == Conversation.Status.OPEN,
    }


def _staff() -> list[AbstractBaseUser]:
    model = get_user_model()
    return list(
        model.objects.filter(is_active=True, is_staff=True)
        .filter(Q(is_superuser=True) | Q(groups__name__in=["operators", "admins"]))
        .distinct()
        .order_by("username")
    )


@require_GET
def conversation_page(request: HttpRequest, conversation_id: int) -> HttpResponse:
    _require(request, "panel.view_conversation")
    conversation = get_object_or_404(
        Conversation.objects.select_related("user", "assigned_admin"), pk=conversation_id
    )
    actions.mark_read(conversation.pk)
    user = conversation.user
    answers = [
        (answer, answer.body.replace("{name}", user.first_name or ""))
        for answer in queries.canned_answers(user.language)
    ]
    waiting = queries.waiting_count()
    context = {
        **admin.site.each_context(request),
        **_conversation_context(request, conversation),
        "title": " ".join(filter(None, [user.first_name, user.last_name])) or str(user),
        "waiting": waiting,
        "seen": queries.last_message_id(conversation.pk),
        "canned_answers": answers,
        "staff": _staff(),
        "can_note": request.user.has_perm("panel.add_conversationnote"),
        "can_change": request.user.has_perm("panel.change_conversation"),
        "can_tag": user_tags.may_tag(request),
        "tags": user_tags.tags_of(user.telegram_id),
        "reply_max_length": REPLY_MAX_LENGTH,
    }
    return _with_waiting(render(request, "inbox/conversation.html", context), waiting)


@require_GET
def thread_fragment(request: HttpRequest, conversation_id: int) -> HttpResponse:
    _require(request, "panel.view_conversation")
    conversation = get_object_or_404(
        Conversation.objects.select_related("user"), pk=conversation_id
    )
    actions.mark_read(conversation.pk)
    response = render(request, "inbox/_thread.html", _conversation_context(request, conversation))
    return _with_waiting(response, queries.waiting_count())


def _open_conversation(conversation_id: int) -> Conversation:
    return get_object_or_404(Conversation.objects.select_related("user"), pk=conversation_id)


@require_POST
def reply(request: HttpRequest, conversation_id: int) -> HttpResponse:
    _require(request, "panel.reply_conversation")
    conversation = _open_conversation(conversation_id)
    form = ReplyForm(request.POST, request.FILES)
    if not form.is_valid():
        return _answer(request, conversation_id, error=_form_error(form))
    if conversation.status != Conversation.Status.OPEN:
        return _answer(
            request, conversation_id, error=gettext("The conversation is closed: reopen it first.")
        )
    queued = actions.reply(
        conversation=conversation,
        text=form.cleaned_data["text"],
        seen_message_id=form.cleaned_data["seen"],
        author=_user(request),
        attachment=form.cleaned_data.get("attachment"),
    )
    notice = (
        gettext("This reply was already sent; it was not sent again.") if queued.duplicate else None
    )
    return _answer(
        request,
        conversation_id,
        notice=notice,
        message_id=queued.message.pk,
        duplicate=queued.duplicate,
    )


@require_POST
def note(request: HttpRequest, conversation_id: int) -> HttpResponse:
    _require(request, "panel.add_conversationnote")
    conversation = _open_conversation(conversation_id)
    form = NoteForm(request.POST)
    if not form.is_valid():
        return _answer(request, conversation_id, error=_form_error(form))
    created = actions.add_note(
        conversation=conversation, body=form.cleaned_data["body"], author=_user(request)
    )
    return _answer(request, conversation_id, note_id=created.pk)


@require_POST
def assign(request: HttpRequest, conversation_id: int) -> HttpResponse:
    _require(request, "panel.change_conversation")
    conversation = _open_conversation(conversation_id)
    target = request.POST.get("to", "")
    assignee: AbstractBaseUser | None
    if target == "me":
        assignee = _user(request)
    elif target == "":
        assignee = None
    else:
        found = next((u for u in _staff() if str(u.pk) == target), None)
        if found is None:
            return _answer(request, conversation_id, error=gettext("No such operator."))
        assignee = found
    actions.assign(conversation=conversation, assignee=assignee, actor=_user(request))
    return _answer(request, conversation_id)


@require_POST
def close(request: HttpRequest, conversation_id: int) -> HttpResponse:
    _require(request, "panel.change_conversation")
    conversation = _open_conversation(conversation_id)
    form = CloseForm(request.POST)
    form.is_valid()
    try:
        actions.close(
            conversation=conversation,
            send_closing_text=bool(form.cleaned_data.get("send_closing_text")),
            actor=_user(request),
        )
    except actions.ActionRefused as exc:
        return _answer(request, conversation_id, error=str(exc))
    return _answer(request, conversation_id, notice=gettext("Conversation closed."))


@require_POST
def reopen(request: HttpRequest, conversation_id: int) -> HttpResponse:
    _require(request, "panel.change_conversation")
    conversation = _open_conversation(conversation_id)
    try:
        actions.reopen(conversation=conversation, actor=_user(request))
    except actions.ActionRefused as exc:
        return _answer(request, conversation_id, error=str(exc))
    return _answer(request, conversation_id, notice=gettext("Conversation reopened."))


@require_POST
def tag(request: HttpRequest, conversation_id: int) -> HttpResponse:
    """Add (``op=add``) or remove (``op=remove``) a tag on the conversation's user: the same
    check and audit as the users list's actions (``user_tags``)."""
    if not user_tags.may_tag(request):
        raise PermissionDenied
    conversation = _open_conversation(conversation_id)
    op = request.POST.get("op", "add")
    if op not in ("add", "remove"):
        return _answer(request, conversation_id, error=gettext("Add or remove a tag."))
    try:
        name = user_tags.clean_tag(request.POST.get("tag"))
    except user_tags.TagRefused as exc:
        return _answer(request, conversation_id, error=str(exc))
    user_id = conversation.user_id
    if op == "add":
        changed = user_tags.add_tag(_user(request), [user_id], name)
        notice = gettext("Tagged %(tag)s.") if changed else gettext("Already tagged %(tag)s.")
    else:
        changed = user_tags.remove_tag(_user(request), [user_id], name)
        notice = gettext("Untagged %(tag)s.") if changed else gettext("Not tagged %(tag)s.")
    return _answer(
        request, conversation_id, notice=notice % {"tag": name}, tags=user_tags.tags_of(user_id)
    )


INLINE_TYPES = ("image/jpeg", "image/png", "image/webp", "image/gif")


@require_GET
def media_file(request: HttpRequest, message_id: int) -> HttpResponse:
    """A message's photo or file, fetched from Telegram by the server (the token stays here)."""
    _require(request, "panel.view_conversation")
    message = get_object_or_404(Message, pk=message_id, file_id__isnull=False)
    assert message.file_id is not None
    try:
        found = media.fetch(message.file_id)
    except media.MediaUnavailable as exc:
        return HttpResponse(str(exc), status=502, content_type="text/plain; charset=utf-8")
    response = HttpResponse(found.data, content_type=found.content_type)
    name = found.file_path.rsplit("/", 1)[-1]
    disposition = "inline" if found.content_type in INLINE_TYPES else "attachment"
    response["Content-Disposition"] = f'{disposition}; filename="{name}"'
    response["Cache-Control"] = "private, max-age=3600"
    return response
