"""Posting into a conversation's forum topic in the staff supergroup (outbox rows with a
``topic_conversation_id``).

The rows of one conversation's topic are claimed one at a time, in id order, by whichever
dispatcher (``store._CLAIM_DIRECT``), so what happens here never races for the same topic:

- the conversation has no topic in this group yet: ``createForumTopic`` (named after the user,
  "Anna Smirnova · @anna_s · #1042"), the thread id stored on the conversation, then a header
  (the user's language, start payload, a link to the conversation in the panel);
- the row is sent with ``message_thread_id`` filled in;
- Telegram answers that the thread is gone (deleted in the group): the stored id is forgotten,
  a new topic made (with its header) and the row sent there, once.

Every call into the group takes its own slot of the group's rate limit (``take_slot``). A
closeForumTopic/reopenForumTopic for a conversation without a topic has nothing to do.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import structlog
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tgbot.delivery.sender import Kind, Outcome, Sender
from tgbot.delivery.store import Claimed

log = structlog.get_logger(__name__)

TOPIC_NAME_MAX = 128
# What Telegram answers for a topic that was deleted (or an id that never was one).
THREAD_GONE = ("message thread not found", "topic_deleted", "topic was deleted", "topic_id_invalid")
# Methods that act on the topic itself: without a topic there is nothing to do.
TOPIC_ACTIONS = frozenset({"closeForumTopic", "reopenForumTopic", "editForumTopic"})

_CONVERSATION = text(
    """
    SELECT c.id, c.status, c.staff_chat_id, c.staff_topic_id, u.telegram_id, u.first_name,
           u.last_name, u.username, u.language, u.language_code, u.start_payload
    FROM conversations c JOIN tg_users u ON u.telegram_id = c.user_id
    WHERE c.id = :id
    """
)
_STORE_TOPIC = text(
    "UPDATE conversations SET staff_chat_id = :chat, staff_topic_id = :topic WHERE id = :id"
)
_FORGET_TOPIC = text(
    "UPDATE conversations SET staff_topic_id = NULL "
    "WHERE id = :id AND staff_chat_id = :chat AND staff_topic_id = :topic"
)

TakeSlot = Callable[[int], Awaitable[None]]


@dataclass(frozen=True)
class _Conversation:
    id: int
    status: str
    topic: int | None
    user_id: int
    first_name: str
    last_name: str | None
    username: str | None
    language: str
    language_code: str | None
    start_payload: str | None


def topic_name(
    conversation_id: int, first_name: str, last_name: str | None, username: str | None
) -> str:
    """ "Anna Smirnova · @anna_s · #1042", within Telegram's 128 characters (the name is cut)."""
    tail = (f" · @{username}" if username else "") + f" · #{conversation_id}"
    name = " ".join(part for part in (first_name, last_name) if part).strip() or "User"
    room = TOPIC_NAME_MAX - len(tail)
    if len(name) > room:
        name = name[: max(room - 1, 1)] + "…"
    return (name + tail)[:TOPIC_NAME_MAX]


def header_text(conversation: _Conversation, panel_url: str | None) -> str:
    lines = [f"Conversation #{conversation.id} with user {conversation.user_id}"]
    language = conversation.language
    if conversation.language_code and conversation.language_code != language:
        language += f" (Telegram: {conversation.language_code})"
    lines.append(f"Language: {language}")
    lines.append(f"Start payload: {conversation.start_payload or '—'}")
    if panel_url:
        lines.append(f"Panel: {panel_url.rstrip('/')}/inbox/{conversation.id}/")
    lines.append("Write here to answer; /close, /reopen, /ban, /unban, /note text.")
    return "\n".join(lines)


def thread_gone(outcome: Outcome) -> bool:
    error = (outcome.error or "").lower()
    return outcome.kind is Kind.REJECTED and any(marker in error for marker in THREAD_GONE)


class StaffTopics:
    def __init__(self, engine: AsyncEngine, panel_url: str | None) -> None:
        self._engine = engine
        self._panel_url = panel_url

    async def deliver(self, row: Claimed, send: Sender, take_slot: TakeSlot) -> Outcome:
        """Send ``row`` into its conversation's topic; its own rate-limit slot is taken
        already (the first call made uses it), every further call takes one."""
        assert row.topic_conversation_id is not None
        conversation = await self._load(row.topic_conversation_id, row.chat_id)
        if conversation is None:
            return Outcome(Kind.REJECTED, "invalid", "the conversation is gone")
        slot_used = False
        topic = conversation.topic
        if topic is None:
            if row.method in TOPIC_ACTIONS:
                return Outcome(Kind.SENT, "200")
            outcome, topic = await self._create(row.chat_id, conversation, send, take_slot)
            if topic is None:
                return outcome
            slot_used = True
        if slot_used:
            await take_slot(row.chat_id)
        outcome = await send(row.method, row.chat_id, {**row.payload, "message_thread_id": topic})
        if not thread_gone(outcome):
            return outcome
        log.info("staff_topic.gone", conversation_id=conversation.id, topic=topic)
        async with self._engine.begin() as conn:
            await conn.execute(
                _FORGET_TOPIC, {"id": conversation.id, "chat": row.chat_id, "topic": topic}
            )
        if row.method in TOPIC_ACTIONS:
            return Outcome(Kind.SENT, "200")
        await take_slot(row.chat_id)
        created, topic = await self._create(row.chat_id, conversation, send, take_slot)
        if topic is None:
            return created
        await take_slot(row.chat_id)
        return await send(row.method, row.chat_id, {**row.payload, "message_thread_id": topic})

    async def _load(self, conversation_id: int, chat_id: int) -> _Conversation | None:
        async with self._engine.connect() as conn:
            row = (await conn.execute(_CONVERSATION, {"id": conversation_id})).first()
        if row is None:
            return None
        topic = row.staff_topic_id if row.staff_chat_id == chat_id else None
        return _Conversation(
            row.id,
            row.status,
            topic,
            row.telegram_id,
            row.first_name,
            row.last_name,
            row.username,
            row.language,
            row.language_code,
            row.start_payload,
        )

    async def _create(
        self, chat_id: int, conversation: _Conversation, send: Sender, take_slot: TakeSlot
    ) -> tuple[Outcome, int | None]:
        """A new topic for the conversation (the caller holds a slot for this call) and its
        header; (the outcome, the new thread id or None when Telegram refused)."""
        name = topic_name(
            conversation.id, conversation.first_name, conversation.last_name, conversation.username
        )
        created = await send("createForumTopic", chat_id, {"name": name})
        if created.kind is not Kind.SENT or created.thread_id is None:
            log.warning("staff_topic.create_failed", code=created.code, error=created.error)
            if created.kind is Kind.SENT:  # answered, but not with a topic
                created = Outcome(Kind.TRANSIENT, "other", "createForumTopic: no message_thread_id")
            return created, None
        topic = created.thread_id
        async with self._engine.begin() as conn:
            await conn.execute(
                _STORE_TOPIC, {"id": conversation.id, "chat": chat_id, "topic": topic}
            )
        log.info("staff_topic.created", conversation_id=conversation.id, topic=topic)
        await take_slot(chat_id)
        header: dict[str, Any] = {
            "text": header_text(conversation, self._panel_url),
            "message_thread_id": topic,
            "link_preview_options": {"is_disabled": True},
        }
        outcome = await send("sendMessage", chat_id, header)
        if outcome.kind is not Kind.SENT:  # the topic exists; the row itself still goes
            log.warning("staff_topic.header_failed", code=outcome.code)
        return created, topic
