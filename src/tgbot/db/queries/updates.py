"""Processed updates: the durable record that makes a duplicate delivery a no-op.

An update's claim commits together with its effects, so an update has its effects exactly once
even when the Redis fast path has forgotten it. The claim also registers or refreshes the person
behind the update. Plain SQL: it runs for every update, and SQLAlchemy never caches a
PostgreSQL ON CONFLICT construct.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from sqlalchemy import delete, func, text
from sqlalchemy.ext.asyncio import AsyncConnection

from tgbot.db.models import ProcessedUpdate
from tgbot.db.queries.users import SeenUser, UserProfile

# For the updates committed together (updates.store): claim every id,
# register or refresh the people behind the claimed ones (the latest update of a person wins;
# rows are locked in telegram_id order, so two batches touching the same people cannot deadlock
# each other). A person is given by a NULL-free telegram_id. Common table expressions, so that
# queries.effects can put the messages of the same updates in the same statement.
CLAIM_CTES = """
    claim_input AS (
        SELECT * FROM unnest(
            CAST(:update_ids AS bigint[]), CAST(:telegram_ids AS bigint[]),
            CAST(:usernames AS varchar[]), CAST(:first_names AS varchar[]),
            CAST(:last_names AS varchar[]), CAST(:language_codes AS varchar[]),
            CAST(:languages AS varchar[])
        ) AS t(update_id, telegram_id, username, first_name, last_name, language_code, language)
    ), claimed AS (
        INSERT INTO processed_updates (update_id)
        SELECT update_id FROM claim_input ORDER BY update_id
        ON CONFLICT (update_id) DO NOTHING
        RETURNING update_id
    ), seen AS (
        INSERT INTO tg_users
            (telegram_id, username, first_name, last_name, language_code, language)
        SELECT DISTINCT ON (telegram_id)
            telegram_id, username, first_name, last_name, language_code, language
        FROM claim_input JOIN claimed USING (update_id)
        WHERE telegram_id IS NOT NULL
        ORDER BY telegram_id, update_id DESC
        ON CONFLICT (telegram_id) DO UPDATE SET
            username = excluded.username,
            first_name = excluded.first_name,
            last_name = excluded.last_name,
            language_code = excluded.language_code,
            last_seen_at = now()
        RETURNING telegram_id, language, is_banned, is_subscribed, (xmax = 0) AS is_new
    )
"""
# Each claimed update with its person as the claim left them (before the update's effects).
CLAIMED = """
    SELECT claimed.update_id, seen.telegram_id, seen.language, seen.is_banned, seen.is_subscribed,
        seen.is_new
    FROM claimed JOIN claim_input USING (update_id)
    LEFT JOIN seen ON seen.telegram_id = claim_input.telegram_id
"""
CLAIM_UPDATES = text(f"WITH {CLAIM_CTES} {CLAIMED}")


def claim_parameters(claims: list[tuple[int, UserProfile | None]]) -> dict[str, list[Any]]:
    profiles = [profile for _, profile in claims]
    return {
        "update_ids": [update_id for update_id, _ in claims],
        "telegram_ids": [p.telegram_id if p else None for p in profiles],
        "usernames": [p.username if p else None for p in profiles],
        "first_names": [p.first_name if p else None for p in profiles],
        "last_names": [p.last_name if p else None for p in profiles],
        "language_codes": [p.language_code if p else None for p in profiles],
        "languages": [p.initial_language if p else None for p in profiles],
    }


def claimed_users(rows: Iterable[Any]) -> dict[int, SeenUser | None]:
    """The rows of a CLAIMED select (mappings or asyncpg records): each update id claimed now,
    with its person (None for an update with no person behind it)."""
    claimed: dict[int, SeenUser | None] = {}
    for row in rows:
        user = None
        if row["telegram_id"] is not None:
            user = SeenUser(
                telegram_id=row["telegram_id"],
                language=row["language"],
                is_banned=row["is_banned"],
                is_subscribed=row["is_subscribed"],
                is_new=bool(row["is_new"]),
            )
        claimed[int(row["update_id"])] = user
    return claimed


async def claim_updates(
    conn: AsyncConnection, claims: list[tuple[int, UserProfile | None]]
) -> dict[int, SeenUser | None]:
    """Claim updates and register or refresh their people in the caller's transaction: one
    statement for the whole batch. Returns the update ids claimed now, each with its person
    (the others were processed before, and their people are left alone)."""
    result = await conn.execute(CLAIM_UPDATES, claim_parameters(claims))
    return claimed_users(result.mappings())


async def prune_processed_updates(conn: AsyncConnection, *, older_than: dt.timedelta) -> int:
    result = await conn.execute(
        delete(ProcessedUpdate).where(ProcessedUpdate.processed_at < func.now() - older_than)
    )
    return int(result.rowcount)
