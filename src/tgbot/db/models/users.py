"""Telegram users who talked to the bot."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Index, String, func, text
from sqlalchemy.orm import Mapped, mapped_column

from tgbot.db.models.base import Base


class TelegramUser(Base):
    __tablename__ = "tg_users"
    __table_args__ = (
        Index("ix_tg_users_username_lower", func.lower(text("username"))),
        Index("ix_tg_users_last_seen_at", "last_seen_at"),
        # The broadcast audience: subscribed, reachable, not banned.
        Index(
            "ix_tg_users_audience",
            "language",
            "telegram_id",
            postgresql_where=text("is_subscribed AND NOT is_blocked AND NOT is_banned"),
        ),
    )

    telegram_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    username: Mapped[str | None] = mapped_column(String(64))
    first_name: Mapped[str] = mapped_column(String(256), server_default="")
    last_name: Mapped[str | None] = mapped_column(String(256))
    language_code: Mapped[str | None] = mapped_column(
        String(16), comment="Language Telegram reported for the user"
    )
    language: Mapped[str] = mapped_column(
        String(8), server_default="en", comment="Language the bot speaks to the user"
    )
    is_subscribed: Mapped[bool] = mapped_column(server_default="false")
    is_blocked: Mapped[bool] = mapped_column(
        server_default="false", comment="The user blocked the bot"
    )
    is_banned: Mapped[bool] = mapped_column(
        server_default="false", comment="An admin banned the user"
    )
    start_payload: Mapped[str | None] = mapped_column(String(64))
    first_seen_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
    last_seen_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
