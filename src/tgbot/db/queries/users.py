"""Telegram users: register/refresh on every update, preferences, reachability."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, literal_column, update
from sqlalchemy.dialects.postgresql import insert
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
    stmt = insert(TelegramUser).values(
        telegram_id=telegram_id,
        username=username,
        first_name=first_name,
        last_name=last_name,
        language_code=language_code,
        language=initial_language,
    )
    upsert: Any = stmt.on_conflict_do_update(
        index_elements=[TelegramUser.telegram_id],
        set_={
            "username": stmt.excluded.username,
            "first_name": stmt.excluded.first_name,
            "last_name": stmt.excluded.last_name,
            "language_code": stmt.excluded.language_code,
            "last_seen_at": func.now(),
        },
    ).returning(
        TelegramUser.telegram_id,
        TelegramUser.language,
        TelegramUser.is_banned,
        TelegramUser.is_subscribed,
        # xmax = 0 only for a freshly inserted row version.
        literal_column("xmax = 0").label("is_new"),
    )
    row = (await session.execute(upsert)).one()
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
