"""Telegram users: register/refresh on every update, preferences, reachability."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text, update
from sqlalchemy.ext.asyncio import AsyncSession

from tgbot.db.models import TelegramUser


@dataclass(frozen=True)
class SeenUser:
    """The user as the current update sees them."""

    telegram_id: int
    language: str
    is_banned: bool
    is_subscribed: bool
    is_new: bool


# Plain SQL: SQLAlchemy never caches a PostgreSQL ON CONFLICT construct, and this runs once per
# update. ``xmax = 0`` holds only for a freshly inserted row version.
UPSERT_SEEN_USER = text(
    """
    INSERT INTO tg_users (telegram_id, username, first_name, last_name, language_code, language)
    VALUES (:telegram_id, :username, :first_name, :last_name, :language_code, :language)
    ON CONFLICT (telegram_id) DO UPDATE SET
        username = excluded.username,
        first_name = excluded.first_name,
        last_name = excluded.last_name,
        language_code = excluded.language_code,
        last_seen_at = now()
    RETURNING telegram_id, language, is_banned, is_subscribed, (xmax = 0) AS is_new
    """
)


async def upsert_seen_user(
    session: AsyncSession,
    *,
    telegram_id: int,
    username: str | None,
    first_name: str,
    last_name: str | None,
    language_code: str | None,
    initial_language: str,
) -> SeenUser:
    """Register the user on first sight, or refresh names and ``last_seen_at``. One statement."""
    row = (
        await session.execute(
            UPSERT_SEEN_USER,
            {
                "telegram_id": telegram_id,
                "username": username,
                "first_name": first_name,
                "last_name": last_name,
                "language_code": language_code,
                "language": initial_language,
            },
        )
    ).one()
    return SeenUser(
        telegram_id=row.telegram_id,
        language=row.language,
        is_banned=row.is_banned,
        is_subscribed=row.is_subscribed,
        is_new=bool(row.is_new),
    )


async def set_language(session: AsyncSession, *, telegram_id: int, language: str) -> None:
    await session.execute(
        update(TelegramUser)
        .where(TelegramUser.telegram_id == telegram_id)
        .values(language=language)
    )


async def set_subscribed(session: AsyncSession, *, telegram_id: int, subscribed: bool) -> bool:
    """Returns whether the flag changed."""
    result = await session.execute(
        update(TelegramUser)
        .where(TelegramUser.telegram_id == telegram_id, TelegramUser.is_subscribed != subscribed)
        .values(is_subscribed=subscribed)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def set_blocked(session: AsyncSession, *, telegram_id: int, blocked: bool) -> None:
    await session.execute(
        update(TelegramUser)
        .where(TelegramUser.telegram_id == telegram_id)
        .values(is_blocked=blocked)
    )


async def remember_start_payload(session: AsyncSession, *, telegram_id: int, payload: str) -> None:
    """Keep the first deep-link payload: it says where the user came from."""
    await session.execute(
        update(TelegramUser)
        .where(TelegramUser.telegram_id == telegram_id, TelegramUser.start_payload.is_(None))
        .values(start_payload=payload)
    )
