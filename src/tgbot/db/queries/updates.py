"""Processed updates: the durable record that makes a duplicate delivery a no-op.

Every update starts with one statement that claims its id and registers or refreshes the person
behind it (plain SQL: it runs once per update, and SQLAlchemy never caches a PostgreSQL
ON CONFLICT construct).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import delete, func, text
from sqlalchemy.ext.asyncio import AsyncConnection

from tgbot.db.models import ProcessedUpdate
from tgbot.db.queries.users import SeenUser, UserProfile

CLAIM_UPDATE = text(
    "INSERT INTO processed_updates (update_id) VALUES (:update_id) "
    "ON CONFLICT (update_id) DO NOTHING RETURNING update_id"
)

# The user is written only when the claim succeeded: a duplicate has no effect at all.
# ``xmax = 0`` holds only for a freshly inserted row version.
CLAIM_UPDATE_OF_USER = text(
    """
    WITH claimed AS (
        INSERT INTO processed_updates (update_id) VALUES (:update_id)
        ON CONFLICT (update_id) DO NOTHING
        RETURNING update_id
    ), seen AS (
        INSERT INTO tg_users
            (telegram_id, username, first_name, last_name, language_code, language)
        SELECT CAST(:telegram_id AS bigint), CAST(:username AS varchar),
            CAST(:first_name AS varchar), CAST(:last_name AS varchar),
            CAST(:language_code AS varchar), CAST(:language AS varchar)
        WHERE EXISTS (SELECT 1 FROM claimed)
        ON CONFLICT (telegram_id) DO UPDATE SET
            username = excluded.username,
            first_name = excluded.first_name,
            last_name = excluded.last_name,
            language_code = excluded.language_code,
            last_seen_at = now()
        RETURNING telegram_id, language, is_banned, is_subscribed, (xmax = 0) AS is_new
    )
    SELECT EXISTS (SELECT 1 FROM claimed) AS claimed,
        seen.telegram_id, seen.language, seen.is_banned, seen.is_subscribed, seen.is_new
    FROM (VALUES (1)) AS one LEFT JOIN seen ON true
    """
)


@dataclass(frozen=True)
class UpdateClaim:
    claimed: bool  # False: processed before, do nothing
    user: SeenUser | None  # the person behind the update, when claimed and there is one


async def claim_update(
    conn: AsyncConnection, *, update_id: int, user: UserProfile | None = None
) -> UpdateClaim:
    """Record the update in the caller's transaction and register or refresh its user.

    Because the record commits together with the handler's effects, an update has its
    effects exactly once even when the Redis fast path has forgotten it. One round trip.
    """
    if user is None:
        result = await conn.execute(CLAIM_UPDATE, {"update_id": update_id})
        return UpdateClaim(claimed=result.scalar_one_or_none() is not None, user=None)
    row = (
        await conn.execute(
            CLAIM_UPDATE_OF_USER,
            {
                "update_id": update_id,
                "telegram_id": user.telegram_id,
                "username": user.username,
                "first_name": user.first_name,
                "last_name": user.last_name,
                "language_code": user.language_code,
                "language": user.initial_language,
            },
        )
    ).one()
    if not row.claimed:
        return UpdateClaim(claimed=False, user=None)
    seen = SeenUser(
        telegram_id=row.telegram_id,
        language=row.language,
        is_banned=row.is_banned,
        is_subscribed=row.is_subscribed,
        is_new=bool(row.is_new),
    )
    return UpdateClaim(claimed=True, user=seen)


async def prune_processed_updates(conn: AsyncConnection, *, older_than: dt.timedelta) -> int:
    result = await conn.execute(
        delete(ProcessedUpdate).where(ProcessedUpdate.processed_at < func.now() - older_than)
    )
    return int(result.rowcount)
