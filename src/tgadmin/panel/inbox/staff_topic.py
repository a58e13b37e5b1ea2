"""The panel's side of the staff supergroup: what operators do here shows in the topic too.

A conversation mirrored into the staff supergroup (``staff_chat_id``, set by the bot) gets an
outbox row per panel action into its forum topic (``topic_conversation``): the dispatcher fills
in the thread (creating the topic if it has none yet) and sends a conversation's topic rows one
at a time, in order (``tgbot.delivery.staff_topics``). Without a staff group nothing is added.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from tgadmin.panel.models import Conversation, OutboxMessage

TEXT_LIMIT = 4096


def post(conversation: Conversation, method: str, payload: dict[str, Any], key: str) -> None:
    """One row into the conversation's topic, inside the caller's transaction."""
    if conversation.staff_chat_id is None:
        return
    now = timezone.now()
    OutboxMessage.objects.create(
        chat_id=conversation.staff_chat_id,
        method=method,
        payload=payload,
        idempotency_key=f"topic:{key}"[:128],
        topic_conversation=conversation,
        next_attempt_at=now,
        created_at=now,
    )


def say(conversation: Conversation, text: str, key: str) -> None:
    post(conversation, "sendMessage", {"text": text[:TEXT_LIMIT]}, key)


def answered(
    conversation: Conversation,
    author: AbstractBaseUser,
    text: str,
    key: str,
    content_type: str = "text",
) -> None:
    """A panel reply, shown in the topic: "Answered in the panel by anna: ..."."""
    what = text if content_type == "text" else f"[{content_type}] {text}".rstrip()
    say(conversation, f"Answered in the panel by {author.get_username()}:\n{what}", key)
