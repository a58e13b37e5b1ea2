"""The staff supergroup's side of a conversation: what staff write and do in its forum topic.

A staff member's message in a topic (``bot.routers.staff``) is staged as an effect and committed
with the update's claim, so a retried update neither stores nor sends twice:

- ``StaffReply``: an ``out`` message authored by the staff member (Telegram id and name) and an
  outbox row copying it from the group to the user (copyMessage keeps any media);
- ``StaffCommand``: ``/close``, ``/reopen``, ``/ban confirm``, ``/unban confirm``, ``/note``; each
  writes what the panel's own action writes (status, ban, note, an audit row) and answers in
  the topic through the outbox (topic rows: ``delivery.staff_topics`` fills in the thread).

A topic that belongs to no conversation (the General topic, one staff opened themselves) is
ignored. The conversation is found by ``(staff_chat_id, staff_topic_id)``
(``uq_conversations_staff_topic``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from tgbot.db.queries.effects import Effect

COMMANDS = ("close", "reopen", "ban", "unban", "note")
HELP = (
    "Write here to answer the user (text or media). Commands: /close, /reopen, "
    "/ban confirm, /unban confirm, /note text (an internal note, not sent)."
)

_STAFF_REPLY = text(
    """
    WITH conv AS (
        SELECT id, user_id FROM conversations
        WHERE staff_chat_id = :chat AND staff_topic_id = :thread
    ), msg AS (
        INSERT INTO messages (conversation_id, direction, content_type, text, file_id,
                              author_admin_username, author_tg_id, author_tg_name)
        SELECT id, 'out', :content_type, :body, :file_id, :label, :author_id, :author_name
        FROM conv
        RETURNING id, conversation_id
    ), touched AS (
        UPDATE conversations SET last_activity_at = now() WHERE id IN (SELECT id FROM conv)
    )
    INSERT INTO outbox (chat_id, method, payload, idempotency_key, message_id)
    SELECT conv.user_id, 'copyMessage',
        jsonb_build_object('from_chat_id', CAST(:chat AS bigint),
                           'message_id', CAST(:message_id AS bigint)),
        :key, msg.id
    FROM msg JOIN conv ON conv.id = msg.conversation_id
    ON CONFLICT (idempotency_key) DO NOTHING
    """
)

_CONVERSATION = text(
    """
    SELECT c.id, c.status, c.user_id, u.first_name, u.last_name, u.username, u.is_banned
    FROM conversations c JOIN tg_users u ON u.telegram_id = c.user_id
    WHERE c.staff_chat_id = :chat AND c.staff_topic_id = :thread
    FOR UPDATE OF c
    """
)
_CLOSE = text(
    "UPDATE conversations SET status = 'closed', closed_at = now(), waiting_since = NULL, "
    "unread_count = 0 WHERE id = :id AND status = 'open'"
)
_OTHER_OPEN = text(
    "SELECT id FROM conversations WHERE user_id = :user_id AND status = 'open' AND id <> :id"
)
_REOPEN = text(
    "UPDATE conversations SET status = 'open', closed_at = NULL "
    "WHERE id = :id AND status = 'closed'"
)
_SET_BANNED = text("UPDATE tg_users SET is_banned = :banned WHERE telegram_id = :user_id")
_NOTE = text(
    """
    INSERT INTO conversation_notes (conversation_id, author_admin_username, author_tg_id, body)
    VALUES (:id, :label, :author_id, :body)
    RETURNING id
    """
)
_AUDIT = text(
    """
    INSERT INTO admin_audit_log (admin_username, action, object_type, object_id, details)
    VALUES (:label, :action, :object_type, :object_id, CAST(:details AS jsonb))
    """
)
_TOPIC_ROW = text(
    """
    INSERT INTO outbox (chat_id, method, payload, idempotency_key, topic_conversation_id)
    VALUES (:chat, :method, CAST(:payload AS jsonb), :key, :id)
    ON CONFLICT (idempotency_key) DO NOTHING
    """
)


def staff_label(name: str) -> str:
    """How a staff member shows as an author in the panel (``author_admin_username``)."""
    return f"{name} (Telegram)"[:150]


def user_label(first_name: str, last_name: str | None, username: str | None) -> str:
    name = " ".join(part for part in (first_name, last_name) if part) or "user"
    return f"{name} (@{username})" if username else name


@dataclass(frozen=True)
class StaffMessage:
    """Where a staff member wrote: the staff chat, the topic and the message, and who."""

    chat_id: int
    thread_id: int
    message_id: int
    author_id: int
    author_name: str

    def key(self, suffix: str) -> str:
        return f"staff:{self.chat_id}:{self.message_id}:{suffix}"


@dataclass(frozen=True)
class StaffReply(Effect):
    """What a staff member wrote in a conversation's topic: stored and copied to the user."""

    source: StaffMessage
    content_type: str
    text: str | None
    file_id: str | None

    async def apply(self, conn: AsyncConnection) -> None:
        s = self.source
        await conn.execute(
            _STAFF_REPLY,
            {
                "chat": s.chat_id,
                "thread": s.thread_id,
                "message_id": s.message_id,
                "content_type": self.content_type,
                "body": self.text,
                "file_id": self.file_id,
                "label": staff_label(s.author_name),
                "author_id": s.author_id,
                "author_name": s.author_name[:150],
                "key": s.key("reply"),
            },
        )


@dataclass(frozen=True)
class StaffCommand(Effect):
    """A command in a conversation's topic; answered in the topic."""

    source: StaffMessage
    command: str  # one of COMMANDS, or anything else (answered with the help)
    argument: str

    async def apply(self, conn: AsyncConnection) -> None:
        s = self.source
        where = {"chat": s.chat_id, "thread": s.thread_id}
        row = (await conn.execute(_CONVERSATION, where)).first()
        if row is None:
            return  # not a conversation's topic
        topic = _Topic(conn, s, row.id)
        who = user_label(row.first_name, row.last_name, row.username)
        confirmed = self.argument.strip().lower() == "confirm"
        if self.command == "close":
            if (await conn.execute(_CLOSE, {"id": row.id})).rowcount:
                await topic.audit("close", "panel.conversation", row.id)
                await topic.say(f"Closed by {s.author_name}.")
                await topic.post("closeForumTopic", {}, "close")
            else:
                await topic.say("This conversation is already closed.")
        elif self.command == "reopen":
            other = (
                await conn.execute(_OTHER_OPEN, {"user_id": row.user_id, "id": row.id})
            ).scalar_one_or_none()
            if row.status == "open":
                await topic.say("This conversation is open.")
            elif other is not None:
                await topic.say(f"{who} already has an open conversation (#{other}); answer there.")
            elif (await conn.execute(_REOPEN, {"id": row.id})).rowcount:
                await topic.audit("reopen", "panel.conversation", row.id)
                await topic.post("reopenForumTopic", {}, "reopen")
                await topic.say(f"Reopened by {s.author_name}.")
        elif self.command in ("ban", "unban"):
            banning = self.command == "ban"
            if row.is_banned == banning:
                await topic.say(f"{who} is {'already' if banning else 'not'} banned.")
            elif not confirmed:
                effect = (
                    "the bot will ignore their messages and they get no answers"
                    if banning
                    else "the bot will take their messages again"
                )
                await topic.say(
                    f"{self.command.capitalize()} {who}? Then {effect}. "
                    f"Send /{self.command} confirm to do it."
                )
            else:
                await conn.execute(_SET_BANNED, {"banned": banning, "user_id": row.user_id})
                await topic.audit(self.command, "panel.telegramuser", row.user_id)
                await topic.say(f"{who} {'banned' if banning else 'unbanned'} by {s.author_name}.")
        elif self.command == "note":
            body = self.argument.strip()
            if not body:
                await topic.say("Write the note after the command: /note text")
                return
            note_id = (
                await conn.execute(
                    _NOTE,
                    {
                        "id": row.id,
                        "label": staff_label(s.author_name),
                        "author_id": s.author_id,
                        "body": body,
                    },
                )
            ).scalar_one()
            await topic.audit("note", "panel.conversation", row.id, {"note_id": note_id})
            await topic.say("Note saved (not sent to the user).")
        else:
            await topic.say(HELP)


class _Topic:
    """Answers in the topic, as outbox rows keyed by the command's message (retries add none)."""

    def __init__(self, conn: AsyncConnection, source: StaffMessage, conversation_id: int) -> None:
        self._conn = conn
        self._source = source
        self._id = conversation_id
        self._count = 0

    async def post(self, method: str, payload: dict[str, Any], what: str) -> None:
        self._count += 1
        await self._conn.execute(
            _TOPIC_ROW,
            {
                "chat": self._source.chat_id,
                "method": method,
                "payload": json.dumps(payload),
                "key": self._source.key(f"{what}:{self._count}"),
                "id": self._id,
            },
        )

    async def say(self, body: str) -> None:
        await self.post("sendMessage", {"text": body[:4096]}, "say")

    async def audit(
        self, action: str, object_type: str, object_id: int, details: dict[str, Any] | None = None
    ) -> None:
        s = self._source
        await self._conn.execute(
            _AUDIT,
            {
                "label": staff_label(s.author_name),
                "action": action,
                "object_type": object_type,
                "object_id": str(object_id),
                "details": json.dumps({"telegram_id": s.author_id, **(details or {})}),
            },
        )
