"""Broadcasts: one message to many subscribed users, sent through the outbox."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from tgbot.db.models.base import Base, check_in

BROADCAST_STATUSES = ("draft", "scheduled", "running", "paused", "done", "cancelled")


class Broadcast(Base):
    __tablename__ = "broadcasts"
    __table_args__ = (
        CheckConstraint(check_in("status", BROADCAST_STATUSES), name="status"),
        CheckConstraint("char_length(text) <= 4096", name="text_length"),  # migration 0003
        CheckConstraint("parse_mode IS NULL OR parse_mode = 'HTML'", name="parse_mode"),
        CheckConstraint("audience_active_days > 0", name="audience_active_days"),
        CheckConstraint(
            "method IN ('sendMessage', 'sendPhoto', 'sendDocument', 'sendVideo', 'sendAnimation')",
            name="method",
        ),  # migrations 0007, 0008
        Index("ix_broadcasts_status_scheduled_at", "status", "scheduled_at"),
        Index("ix_broadcasts_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    parse_mode: Mapped[str | None] = mapped_column(
        String(16), comment="NULL: plain text; HTML: Telegram's HTML formatting"
    )
    method: Mapped[str] = mapped_column(
        String(32),
        server_default="sendMessage",
        comment="sendMessage, or sendPhoto / sendDocument with the text as the caption",
    )
    upload_id: Mapped[int | None] = mapped_column(
        ForeignKey("outbox_uploads.id", ondelete="SET NULL"),
        comment="The attached file (outbox_uploads), uploaded once for every recipient",
    )
    buttons: Mapped[list[list[dict[str, str]]] | None] = mapped_column(
        JSONB, comment='Inline keyboard rows: [[{"text": ..., "url": ...}, ...], ...]'
    )
    audience_language: Mapped[str | None] = mapped_column(
        String(8), comment="Only users with this language; NULL means everyone subscribed"
    )
    audience_active_days: Mapped[int | None] = mapped_column(
        Integer, comment="Only users active within this many days"
    )
    audience_start_payload: Mapped[str | None] = mapped_column(
        String(64), comment="Only users who came through this /start payload (deep link)"
    )
    audience_subscribed_since: Mapped[dt.datetime | None] = mapped_column(
        comment="Only users who subscribed at or after this time"
    )
    audience_tag: Mapped[str | None] = mapped_column(String(32), comment="Only users with this tag")
    status: Mapped[str] = mapped_column(String(16), server_default="draft")
    scheduled_at: Mapped[dt.datetime | None]
    started_at: Mapped[dt.datetime | None]
    finished_at: Mapped[dt.datetime | None]
    expansion_cursor: Mapped[int | None] = mapped_column(
        comment="Last tg_users.telegram_id expanded into outbox rows; NULL before expansion"
    )
    expanded_at: Mapped[dt.datetime | None] = mapped_column(
        comment="When the audience was fully expanded into outbox rows"
    )
    total_count: Mapped[int] = mapped_column(Integer, server_default="0")
    sent_count: Mapped[int] = mapped_column(Integer, server_default="0")
    failed_count: Mapped[int] = mapped_column(Integer, server_default="0")
    blocked_count: Mapped[int] = mapped_column(Integer, server_default="0")
    skipped_count: Mapped[int] = mapped_column(
        Integer,
        server_default="0",
        comment="Rows skipped because the user unsubscribed, blocked or was banned first",
    )
    created_by_admin_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[dt.datetime] = mapped_column(server_default=func.now(), onupdate=func.now())
