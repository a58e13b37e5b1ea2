"""Support threads and the messages in them."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text, func, text
from sqlalchemy.orm import Mapped, mapped_column

from tgbot.db.models.base import Base, check_in

CONVERSATION_STATUSES = ("open", "closed")
MESSAGE_DIRECTIONS = ("in", "out")


class Conversation(Base):
    __tablename__ = "conversations"
    __table_args__ = (
        CheckConstraint(check_in("status", CONVERSATION_STATUSES), name="status"),
        # At most one open conversation per user.
        Index(
            "uq_conversations_user_open",
            "user_id",
            unique=True,
            postgresql_where=text("status = 'open'"),
        ),
        Index("ix_conversations_status_last_activity", "status", "last_activity_at"),
        Index("ix_conversations_last_activity", "last_activity_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("tg_users.telegram_id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(16), server_default="open")
    created_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
    last_activity_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
    closed_at: Mapped[dt.datetime | None]


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (
        CheckConstraint(check_in("direction", MESSAGE_DIRECTIONS), name="direction"),
        # What operators send is within Telegram's limit (migration 0003); users' own messages
        # are what Telegram delivered.
        CheckConstraint(
            "direction = 'in' OR text IS NULL OR char_length(text) <= 4096", name="out_text_length"
        ),
        Index("ix_messages_conversation_created", "conversation_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    direction: Mapped[str] = mapped_column(String(3))
    content_type: Mapped[str] = mapped_column(
        String(32), server_default="text", comment="text, photo, document, sticker, ..."
    )
    text: Mapped[str | None] = mapped_column(Text, comment="Text or caption")
    file_id: Mapped[str | None] = mapped_column(String(256), comment="Telegram file_id of media")
    telegram_message_id: Mapped[int | None]
    author_admin_id: Mapped[int | None] = mapped_column(
        Integer, comment="Django auth_user.id of the replying admin"
    )
    author_admin_username: Mapped[str | None] = mapped_column(String(150))
    created_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
