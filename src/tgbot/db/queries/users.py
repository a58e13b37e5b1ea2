"""Telegram users: who they are, preferences and reachability.

Registered and refreshed by ``queries.updates.claim_updates`` with each update they send.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, update
from sqlalchemy.ext.asyncio import AsyncConnection

from tgbot.db.models import TelegramUser


@dataclass(frozen=True)
class UserProfile:
    """What Telegram says about the person behind an update."""

    telegram_id: int
    username: str | None
    first_name: str
    last_name: str | None
    language_code: str | None
    initial_language: str  # the bot language a new user starts with


@dataclass(frozen=True)
class SeenUser:
    """The user as the current update sees them."""

    telegram_id: int
    language: str
    is_banned: bool
    is_subscribed: bool
    is_new: bool


async def set_language(conn: AsyncConnection, *, telegram_id: int, language: str) -> None:
    await conn.execute(
        update(TelegramUser)
        .where(TelegramUser.telegram_id == telegram_id)
        .values(language=language)
    )


async def set_subscribed(conn: AsyncConnection, *, telegram_id: int, subscribed: bool) -> bool:
    """Returns whether the flag changed."""
    result = await conn.execute(
        update(TelegramUser)
        .where(TelegramUser.telegram_id == telegram_id, TelegramUser.is_subscribed != subscribed)
        .values(
            is_subscribed=subscribed,
            # "subscribed since" segments: when it was last turned on.
            subscribed_at=func.now() if subscribed else TelegramUser.subscribed_at,
        )
    )
    return bool(result.rowcount)


async def set_blocked(conn: AsyncConnection, *, telegram_id: int, blocked: bool) -> None:
    await conn.execute(
        update(TelegramUser)
        .where(TelegramUser.telegram_id == telegram_id)
        .values(is_blocked=blocked)
    )


async def remember_start_payload(conn: AsyncConnection, *, telegram_id: int, payload: str) -> None:
    """Keep the first deep-link payload: it says where the user came from."""
    await conn.execute(
        update(TelegramUser)
        .where(TelegramUser.telegram_id == telegram_id, TelegramUser.start_payload.is_(None))
        .values(start_payload=payload)
    )
