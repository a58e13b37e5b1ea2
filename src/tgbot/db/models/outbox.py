"""The outbox: one row per message to send. The dispatcher is its only consumer."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from tgbot.db.models.base import Base, check_in
from tgbot.db.statuses import OUTBOX_STATUSES


class OutboxMessage(Base):
    __tablename__ = "outbox"
    __table_args__ = (
        CheckConstraint(check_in("status", OUTBOX_STATUSES), name="status"),
        # What the dispatcher claims: due pending rows, and rows whose lease ran out.
        Index(
            "ix_outbox_due",
            "next_attempt_at",
            postgresql_where=text("status = 'pending'"),
        ),
        # Direct messages (admin replies, notifications) are claimed ahead of broadcasts.
        Index(
            "ix_outbox_due_direct",
            "next_attempt_at",
            postgresql_where=text("status = 'pending' AND broadcast_id IS NULL"),
        ),
        Index(
            "ix_outbox_leased",
            "leased_until",
            postgresql_where=text("status = 'sending'"),
        ),
        Index("ix_outbox_broadcast_status", "broadcast_id", "status"),
        Index("ix_outbox_message_id", "message_id"),
        # A conversation's topic rows go one at a time: the claim looks for an earlier one.
        Index(
            "ix_outbox_topic_open",
            "topic_conversation_id",
            "id",
            postgresql_where=text(
                "topic_conversation_id IS NOT NULL AND status IN ('pending', 'sending')"
            ),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    chat_id: Mapped[int]
    method: Mapped[str] = mapped_column(String(32), server_default="sendMessage")
    payload: Mapped[dict[str, Any]] = mapped_column(comment="Bot API method parameters")
    status: Mapped[str] = mapped_column(String(16), server_default="pending")
    attempts: Mapped[int] = mapped_column(Integer, server_default="0")
    max_attempts: Mapped[int] = mapped_column(Integer, server_default="8")
    next_attempt_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
    leased_until: Mapped[dt.datetime | None]
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_code: Mapped[int | None] = mapped_column(Integer)
    idempotency_key: Mapped[str] = mapped_column(String(128), unique=True)
    broadcast_id: Mapped[int | None] = mapped_column(
        ForeignKey("broadcasts.id", ondelete="CASCADE")
    )
    message_id: Mapped[int | None] = mapped_column(
        ForeignKey("messages.id", ondelete="SET NULL"),
        comment="The support message this row delivers (admin replies)",
    )
    telegram_message_id: Mapped[int | None]
    upload_id: Mapped[int | None] = mapped_column(
        ForeignKey("outbox_uploads.id", ondelete="SET NULL"),
        comment="The file this row sends (sendPhoto/sendDocument), uploaded once",
    )
    topic_conversation_id: Mapped[int | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"),
        comment="Posts into this conversation's staff topic (one at a time, in id order)",
    )
    created_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
    sent_at: Mapped[dt.datetime | None]


class OutboxUpload(Base):
    """A file an operator attached to a reply: uploaded to Telegram once, then sent by file_id."""

    __tablename__ = "outbox_uploads"

    id: Mapped[int] = mapped_column(primary_key=True)
    data: Mapped[bytes | None] = mapped_column(
        LargeBinary, comment="The file until Telegram has it (then file_id is set and this is NULL)"
    )
    file_name: Mapped[str] = mapped_column(String(255))
    mime_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    file_id: Mapped[str | None] = mapped_column(
        String(256), comment="Telegram's file_id after the first upload; later sends use it"
    )
    created_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
