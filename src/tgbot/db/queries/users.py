"""Telegram users: who they are, preferences and reachability.

Registered and refreshed by ``queries.updates.claim_updates`` with each update they send.
"""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg
from sqlalchemy import text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from tgbot.db.driver import DriverStatement
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


LOAD_USERS = text(
    "SELECT telegram_id, language, is_banned, is_subscribed FROM tg_users "
    "WHERE telegram_id = ANY(CAST(:telegram_ids AS bigint[]))"
)
_LOAD_USERS = DriverStatement(LOAD_USERS)


async def load_users(conn: asyncpg.Connection, profiles: list[UserProfile]) -> list[SeenUser]:
    """The people behind a batch of updates as the database knows them, one statement on the
    driver's connection (``db.driver``); a person it does not know yet is new, with the language
    they would start with."""
    rows = await _LOAD_USERS.fetch(conn, {"telegram_ids": [p.telegram_id for p in profiles]})
    known = {row["telegram_id"]: row for row in rows}
    users = []
    for profile in profiles:
        row = known.get(profile.telegram_id)
        if row is None:
            users.append(
                SeenUser(
                    telegram_id=profile.telegram_id,
                    language=profile.initial_language,
                    is_banned=False,
                    is_subscribed=False,
                    is_new=True,
                )
            )
        else:
            users.append(
                SeenUser(
                    telegram_id=row["telegram_id"],
                    language=row["language"],
                    is_banned=row["is_banned"],
                    is_subscribed=row["is_subscribed"],
                    is_new=False,
                )
            )
    return users


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
        .values(is_subscribed=subscribed)
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
