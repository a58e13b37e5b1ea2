"""Processed updates: the durable record that makes a duplicate delivery a no-op."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, func
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from tgbot.db.models import ProcessedUpdate


async def claim_update(session: AsyncSession, *, update_id: int) -> bool:
    """Record the update in the caller's transaction; False if it was processed before.

    Because the record commits together with the handler's effects, an update has its
    effects exactly once even when the Redis fast path has forgotten it.
    """
    result = await session.execute(
        insert(ProcessedUpdate)
        .values(update_id=update_id)
        .on_conflict_do_nothing(index_elements=[ProcessedUpdate.update_id])
        .returning(ProcessedUpdate.update_id)
    )
    return result.scalar_one_or_none() is not None


async def prune_processed_updates(session: AsyncSession, *, older_than: dt.timedelta) -> int:
    result = await session.execute(
        delete(ProcessedUpdate).where(ProcessedUpdate.processed_at < func.now() - older_than)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
