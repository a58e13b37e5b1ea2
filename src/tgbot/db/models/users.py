"""Telegram users who talked to the bot."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Identity,
    Index,
    String,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from tgbot.db.models.base import Base


class TelegramUser(Base):
    __tablename__ = "tg_users"
    __table_args__ = (
        Index("ix_tg_users_username_lower", func.lower(text("username"))),
        Index("ix_tg_users_last_seen_at", "last_seen_at"),
        # The inbox's search by name and @username, as Django's icontains/iexact write it (0008).
        Index(
            "ix_tg_users_names_trgm",
            func.upper(text("first_name")).label("first_name"),
            func.upper(text("last_name")).label("last_name"),
            postgresql_using="gin",
            postgresql_ops={"first_name": "gin_trgm_ops", "last_name": "gin_trgm_ops"},
        ),
        Index("ix_tg_users_username_upper", func.upper(text("username"))),
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
    subscribed_at: Mapped[dt.datetime | None] = mapped_column(
        comment="When the subscription was last turned on (NULL: before this was recorded)"
    )


class UserTag(Base):
    """A tag an operator put on a user; a tag is a broadcast segment."""

    __tablename__ = "user_tags"
    __table_args__ = (
        UniqueConstraint("telegram_id", "tag", name="uq_user_tags_telegram_id"),
        CheckConstraint("tag ~ '^[a-z0-9_-]{1,32}$'", name="tag"),
        Index("ix_user_tags_tag", "tag", "telegram_id"),
        {"comment": "Tags operators put on users; a tag is a broadcast segment"},
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    telegram_id: Mapped[int] = mapped_column(
        BigInteger,
        ForeignKey(
            "tg_users.telegram_id", ondelete="CASCADE", name="fk_user_tags_telegram_id_tg_users"
        ),
    )
    tag: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
