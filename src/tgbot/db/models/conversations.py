"""Support threads and the messages in them."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from tgbot.db.models.base import Base, check_in

CONVERSATION_STATUSES = ("open", "closed")
MESSAGE_DIRECTIONS = ("in", "out")
CANNED_ANSWER_LANGUAGES = ("en", "ru")


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
        # The lists by last activity within a status, ties broken by id (migration 0010).
        Index("ix_conversations_status_last_activity_id", "status", "last_activity_at", "id"),
        Index("ix_conversations_last_activity", "last_activity_at"),
        # The operator inbox (tgadmin.panel.inbox): waiting ones oldest first, the other open ones
        # by their last message, an operator's own.
        Index(
            "ix_conversations_waiting",
            "waiting_since",
            postgresql_where=text("status = 'open' AND waiting_since IS NOT NULL"),
        ),
        Index(
            "ix_conversations_open_last_message",
            "last_message_at",
            postgresql_where=text("status = 'open'"),
        ),
        Index(
            "ix_conversations_assigned_open",
            "assigned_admin_id",
            postgresql_where=text("status = 'open'"),
        ),
        # A staff member's message in a topic finds its conversation (migration 0009).
        Index(
            "uq_conversations_staff_topic",
            "staff_chat_id",
            "staff_topic_id",
            unique=True,
            postgresql_where=text("staff_topic_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("tg_users.telegram_id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(16), server_default="open")
    created_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
    last_activity_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
    closed_at: Mapped[dt.datetime | None]
    # Kept by the trigger messages_track_conversation (migration 0003) from every message insert,
    # whoever writes it; the panel resets unread_count when an operator reads the conversation.
    waiting_since: Mapped[dt.datetime | None] = mapped_column(
        comment="When the oldest user message not yet answered arrived; NULL when answered"
    )
    last_message_at: Mapped[dt.datetime | None]
    last_message_direction: Mapped[str | None] = mapped_column(String(3))
    last_message_content_type: Mapped[str | None] = mapped_column(String(32))
    last_message_preview: Mapped[str | None] = mapped_column(
        String(200), comment="The start of the last message's text or caption"
    )
    unread_count: Mapped[int] = mapped_column(
        Integer, server_default="0", comment="User messages since an operator last read it"
    )
    assigned_admin_id: Mapped[int | None] = mapped_column(
        Integer, comment="Django auth_user.id of the operator it is assigned to"
    )
    # The staff supergroup's forum topic (delivery.staff_topics, migration 0009).
    staff_chat_id: Mapped[int | None] = mapped_column(
        comment="The staff supergroup it is mirrored into (STAFF_CHAT_ID), NULL: not mirrored"
    )
    staff_topic_id: Mapped[int | None] = mapped_column(
        comment="message_thread_id of its forum topic in the staff supergroup"
    )


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
        # tgadmin purge-messages deletes the oldest first (migration 0008).
        Index("ix_messages_created_at", "created_at"),
        # The inbox's text search, Django's icontains: UPPER(text) LIKE UPPER('%q%') (0008).
        Index(
            "ix_messages_text_trgm",
            func.upper(text("text")).label("text"),
            postgresql_using="gin",
            postgresql_ops={"text": "gin_trgm_ops"},
        ),
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
    author_tg_id: Mapped[int | None] = mapped_column(
        comment="Telegram user id of the staff member who wrote it in the staff topic"
    )
    author_tg_name: Mapped[str | None] = mapped_column(String(150))
    created_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())


class ConversationNote(Base):
    """An operator's internal note on a conversation: never sent to the user."""

    __tablename__ = "conversation_notes"
    __table_args__ = (
        Index("ix_conversation_notes_conversation_created", "conversation_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    author_admin_id: Mapped[int | None] = mapped_column(
        Integer, comment="Django auth_user.id of the author"
    )
    author_admin_username: Mapped[str] = mapped_column(String(150))
    author_tg_id: Mapped[int | None] = mapped_column(
        comment="Telegram user id of the staff member who wrote it with /note"
    )
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())


class CannedAnswer(Base):
    """A ready reply operators insert into the reply box; ``{name}`` is the user's first name."""

    __tablename__ = "canned_answers"
    __table_args__ = (
        UniqueConstraint("title", "language"),
        CheckConstraint(check_in("language", CANNED_ANSWER_LANGUAGES), name="language"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(100))
    language: Mapped[str] = mapped_column(String(8))
    body: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[dt.datetime] = mapped_column(server_default=func.now(), onupdate=func.now())
