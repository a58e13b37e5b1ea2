"""Processed updates: the durable record that makes a duplicate delivery a no-op."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, func, text
from sqlalchemy.ext.asyncio import AsyncSession

from tgbot.db.models import ProcessedUpdate

# Plain SQL: SQLAlchemy never caches a PostgreSQL ON CONFLICT construct (it recompiles it on
# every call), and this runs once per update.
CLAIM_UPDATE = text(
    "INSERT INTO processed_updates (update_id) VALUES (:update_id) "
    "ON CONFLICT (update_id) DO NOTHING RETURNING update_id"
)


async def claim_update(session: AsyncSession, *, update_id: int) -> bool:
    """Record the update in the caller's transaction; False if it was processed before.

    Because the record commits together with the handler's effects, an update has its
    effects exactly once even when the Redis fast path has forgotten it.
    """
    result = await session.execute(CLAIM_UPDATE, {"update_id": update_id})
    return result.scalar_one_or_none() is not None


async def prune_processed_updates(session: AsyncSession, *, older_than: dt.timedelta) -> int:
    result = await session.execute(
        delete(ProcessedUpdate).where(ProcessedUpdate.processed_at < func.now() - older_than)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
