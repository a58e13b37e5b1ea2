"""Replies to a conversation: an ``out`` message row and its outbox row, in one transaction.

The admin never calls Telegram; the outbox dispatcher delivers the row.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from tgadmin.panel.models import Conversation, Message, OutboxMessage


def reply_idempotency_key(message_id: int) -> str:
    return f"reply:{message_id}"


def send_reply(*, conversation: Conversation, text: str, author: AbstractBaseUser) -> Message:
    """Queue ``text`` for the conversation's user; returns the new ``out`` message."""
    now = timezone.now()
    with transaction.atomic():
        message = Message.objects.create(
            conversation=conversation,
            direction=Message.Direction.OUT,
            content_type="text",
            text=text,
            author_admin_id=author.pk,
            author_admin_username=author.get_username()[:150],
            created_at=now,
        )
        OutboxMessage.objects.create(
            chat_id=conversation.user_id,
            method="sendMessage",
            payload={"text": text},
            idempotency_key=reply_idempotency_key(message.pk),
            message=message,
            next_attempt_at=now,
            created_at=now,
        )
        Conversation.objects.filter(pk=conversation.pk).update(last_activity_at=now)
    return message
