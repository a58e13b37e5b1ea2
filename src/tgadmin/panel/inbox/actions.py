"""What operators do to a conversation, each in one transaction with its audit row.

A reply is an ``out`` message and its outbox row (the dispatcher is the only sender). A reply's
outbox idempotency key is made of the conversation, the newest message the operator saw when
writing, and the text: the same reply sent twice — a double click, two tabs on the same
conversation — is one reply.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext

from tgadmin.panel import audit
from tgadmin.panel.inbox import staff_topic
from tgadmin.panel.inbox.attachments import Attachment
from tgadmin.panel.metrics import FIRST_RESPONSE
from tgadmin.panel.models import (
    BotText,
    Conversation,
    ConversationNote,
    Message,
    OutboxMessage,
    OutboxUpload,
)
from tgbot.texts_defaults import DEFAULT_TEXTS

CLOSING_TEXT_KEY = "conversation_closed"


class ActionRefused(Exception):
    """The action cannot be done; the message says why, for the operator."""


@dataclass(frozen=True)
class Queued:
    message: Message
    duplicate: bool  # the same reply was already queued: nothing new was sent


def reply_key(
    conversation_id: int, seen_message_id: int, text: str, attachment: Attachment | None = None
) -> str:
    digest = hashlib.sha256(text.encode())
    if attachment is not None:
        digest.update(b"\0" + attachment.file_name.encode() + b"\0" + attachment.data)
    return f"inbox-reply:{conversation_id}:{seen_message_id}:{digest.hexdigest()[:40]}"


def _queue(
    conversation: Conversation,
    text: str,
    author: AbstractBaseUser,
    key: str,
    attachment: Attachment | None = None,
) -> Message:
    """The ``out`` message and its outbox row; a file is stored once, for the dispatcher to
    upload (outbox_uploads)."""
    now = timezone.now()
    message = Message.objects.create(
        conversation=conversation,
        direction=Message.Direction.OUT,
        content_type=attachment.content_type if attachment else "text",
        text=text or None,
        author_admin_id=author.pk,
        author_admin_username=author.get_username()[:150],
        created_at=now,
    )
    upload = None
    if attachment is not None:
        upload = OutboxUpload.objects.create(
            data=attachment.data,
            file_name=attachment.file_name,
            mime_type=attachment.mime_type,
            size=len(attachment.data),
            created_at=now,
        )
    if attachment is not None:
        method, payload = attachment.method, ({"caption": text} if text else {})
    else:
        method, payload = "sendMessage", {"text": text}
    OutboxMessage.objects.create(
        chat_id=conversation.user_id,
        method=method,
        payload=payload,
        idempotency_key=key,
        message=message,
        upload=upload,
        next_attempt_at=now,
        created_at=now,
    )
    staff_topic.answered(
        conversation, author, text, key, attachment.content_type if attachment else "text"
    )
    Conversation.objects.filter(pk=conversation.pk).update(last_activity_at=now)
    return message


def reply(
    *,
    conversation: Conversation,
    text: str,
    seen_message_id: int,
    author: AbstractBaseUser,
    attachment: Attachment | None = None,
) -> Queued:
    """Queue ``text`` (and a file) for the user, once for the same conversation, seen message,
    text and file."""
    key = reply_key(conversation.pk, seen_message_id, text, attachment)
    waiting_since = conversation.waiting_since
    try:
        with transaction.atomic():
            message = _queue(conversation, text, author, key, attachment)
            audit.record_for(author, "reply", conversation, {"message_id": message.pk})
    except IntegrityError:
        existing = OutboxMessage.objects.filter(idempotency_key=key).first()
        if existing is None or existing.message_id is None:
            raise
        return Queued(Message.objects.get(pk=existing.message_id), duplicate=True)
    if waiting_since is not None:
        FIRST_RESPONSE.observe(max((message.created_at - waiting_since).total_seconds(), 0.0))
    return Queued(message, duplicate=False)


def add_note(
    *, conversation: Conversation, body: str, author: AbstractBaseUser
) -> ConversationNote:
    with transaction.atomic():
        note = ConversationNote.objects.create(
            conversation=conversation,
            author_admin_id=author.pk,
            author_admin_username=author.get_username()[:150],
            body=body,
            created_at=timezone.now(),
        )
        audit.record_for(author, "note", conversation, {"note_id": note.pk})
        staff_topic.say(
            conversation, f"Note by {author.get_username()}:\n{body}", f"note:{note.pk}"
        )
    return note


def assign(
    *, conversation: Conversation, assignee: AbstractBaseUser | None, actor: AbstractBaseUser
) -> None:
    with transaction.atomic():
        Conversation.objects.filter(pk=conversation.pk).update(
            assigned_admin_id=assignee.pk if assignee else None
        )
        to = assignee.get_username() if assignee else None
        audit.record_for(actor, "assign", conversation, {"to": to})
        staff_topic.say(
            conversation,
            f"Assigned to {to} by {actor.get_username()}." if to else "Unassigned.",
            f"assign:{conversation.pk}:{uuid.uuid4().hex}",
        )


def closing_text(language: str) -> str:
    """The ``conversation_closed`` bot text in ``language``, as edited in the panel or built in."""
    edited = (
        BotText.objects.filter(key=CLOSING_TEXT_KEY, language=language)
        .values_list("body", flat=True)
        .first()
    )
    return (
        edited
        or DEFAULT_TEXTS[CLOSING_TEXT_KEY].get(language)
        or DEFAULT_TEXTS[CLOSING_TEXT_KEY]["en"]
    )


def close(*, conversation: Conversation, send_closing_text: bool, actor: AbstractBaseUser) -> None:
    with transaction.atomic():
        locked = (
            Conversation.objects.select_for_update().select_related("user").get(pk=conversation.pk)
        )
        if locked.status != Conversation.Status.OPEN:
            raise ActionRefused(gettext("The conversation is already closed."))
        details: dict[str, object] = {}
        if send_closing_text:
            text = closing_text(locked.user.language).replace("{name}", locked.user.first_name)
            message = _queue(locked, text, actor, f"inbox-close:{locked.pk}:{uuid.uuid4().hex}")
            details["message_id"] = message.pk
        Conversation.objects.filter(pk=locked.pk).update(
            status=Conversation.Status.CLOSED,
            closed_at=timezone.now(),
            waiting_since=None,
            unread_count=0,
        )
        audit.record_for(actor, "close", locked, details)
        closing = f"close:{locked.pk}:{uuid.uuid4().hex}"
        staff_topic.say(locked, f"Closed in the panel by {actor.get_username()}.", closing)
        staff_topic.post(locked, "closeForumTopic", {}, closing + ":topic")


def reopen(*, conversation: Conversation, actor: AbstractBaseUser) -> None:
    try:
        with transaction.atomic():
            changed = Conversation.objects.filter(
                pk=conversation.pk, status=Conversation.Status.CLOSED
            ).update(status=Conversation.Status.OPEN, closed_at=None)
            if not changed:
                raise ActionRefused(gettext("The conversation is already open."))
            audit.record_for(actor, "reopen", conversation)
            reopening = f"reopen:{conversation.pk}:{uuid.uuid4().hex}"
            staff_topic.post(conversation, "reopenForumTopic", {}, reopening + ":topic")
            staff_topic.say(
                conversation, f"Reopened in the panel by {actor.get_username()}.", reopening
            )
    except IntegrityError:
        raise ActionRefused(
            gettext("The user already has an open conversation; answer there.")
        ) from None


def mark_read(conversation_id: int) -> None:
    Conversation.objects.filter(pk=conversation_id, unread_count__gt=0).update(unread_count=0)
