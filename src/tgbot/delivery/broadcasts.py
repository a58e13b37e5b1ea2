"""Broadcast lifecycle on the dispatcher side: start scheduled ones, expand, cancel, finish.

The admin panel only sets ``broadcasts.status``. Every step here is an idempotent, short
transaction, safe to run from any number of dispatchers at once:

- expansion holds ``FOR UPDATE SKIP LOCKED`` on the broadcast row for one keyset batch, so one
  dispatcher expands a broadcast at a time and a crash resumes from ``expansion_cursor``;
- a paused broadcast is neither expanded nor claimed; resuming continues both;
- a cancelled broadcast's pending rows become ``cancelled``;
- a running, fully expanded broadcast with no pending or sending rows becomes ``done``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import structlog
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tgbot.db.broadcast_payload import BROADCAST_PAYLOAD_SQL

log = structlog.get_logger(__name__)

_START_SCHEDULED = text(
    """
    UPDATE broadcasts SET status = 'running', started_at = COALESCE(started_at, now()),
                          updated_at = now()
    WHERE status = 'scheduled' AND scheduled_at <= now()
    RETURNING id
    """
)
_MARK_STARTED = text(
    "UPDATE broadcasts SET started_at = now() WHERE status = 'running' AND started_at IS NULL"
)
_TO_EXPAND = text(
    "SELECT id FROM broadcasts WHERE status = 'running' AND expanded_at IS NULL ORDER BY id"
)
_LOCK_FOR_EXPANSION = text(
    """
    SELECT id, expansion_cursor, audience_language, audience_active_days,
           audience_start_payload, audience_subscribed_since, audience_tag
    FROM broadcasts
    WHERE id = :id AND status = 'running' AND expanded_at IS NULL
    FOR UPDATE SKIP LOCKED
    """
)
_EXPAND_BATCH = text(
    """
    WITH audience AS (
        SELECT u.telegram_id FROM tg_users u
        WHERE u.is_subscribed AND NOT u.is_blocked AND NOT u.is_banned
          AND u.telegram_id > :cursor
          AND (CAST(:language AS text) IS NULL OR u.language = :language)
          AND (CAST(:active_days AS int) IS NULL
               OR u.last_seen_at >= now() - make_interval(days => CAST(:active_days AS int)))
          AND (CAST(:start_payload AS text) IS NULL OR u.start_payload = :start_payload)
          AND (CAST(:subscribed_since AS timestamptz) IS NULL
               OR u.subscribed_at >= CAST(:subscribed_since AS timestamptz))
          AND (CAST(:tag AS text) IS NULL OR EXISTS (
               SELECT 1 FROM user_tags t WHERE t.telegram_id = u.telegram_id AND t.tag = :tag))
        ORDER BY u.telegram_id
        LIMIT :limit
    ), inserted AS (
        INSERT INTO outbox (chat_id, method, payload, idempotency_key, broadcast_id, upload_id)
        SELECT a.telegram_id, b.method, {payload},
               'broadcast:' || b.id || ':' || a.telegram_id, b.id, b.upload_id
        FROM audience a CROSS JOIN broadcasts b WHERE b.id = :id
        ON CONFLICT (idempotency_key) DO NOTHING
        RETURNING 1
    )
    SELECT (SELECT count(*) FROM audience) AS scanned,
           (SELECT max(telegram_id) FROM audience) AS last_id,
           (SELECT count(*) FROM inserted) AS inserted
    """.replace("{payload}", BROADCAST_PAYLOAD_SQL)
)
_ADVANCE = text(
    """
    UPDATE broadcasts
    SET expansion_cursor = :cursor, total_count = total_count + :inserted,
        expanded_at = CASE WHEN :finished THEN now() END, updated_at = now()
    WHERE id = :id
    """
)
_CANCEL_PENDING = text(
    """
    UPDATE outbox o SET status = 'cancelled'
    FROM (SELECT o2.id FROM outbox o2 JOIN broadcasts b ON b.id = o2.broadcast_id
          WHERE b.status = 'cancelled' AND o2.status = 'pending'
          LIMIT :limit FOR UPDATE OF o2 SKIP LOCKED) x
    WHERE o.id = x.id
    """
)
_FINISH_CANCELLED = text(
    """
    UPDATE broadcasts SET finished_at = now(), updated_at = now()
    WHERE status = 'cancelled' AND finished_at IS NULL
    """
)
_FINISH_DONE = text(
    """
    UPDATE broadcasts b SET status = 'done', finished_at = now(), updated_at = now()
    WHERE b.status = 'running' AND b.expanded_at IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.broadcast_id = b.id
                      AND o.status IN ('pending', 'sending'))
    RETURNING b.id
    """
)
_HALTED = text(
    "SELECT id FROM broadcasts WHERE id = ANY(CAST(:ids AS bigint[])) AND status <> 'running'"
)


@dataclass(frozen=True)
class Expansion:
    broadcast_id: int
    inserted: int
    finished: bool


class Broadcasts:
    def __init__(self, engine: AsyncEngine, batch_size: int) -> None:
        self.engine = engine
        self.batch_size = batch_size

    async def start_scheduled(self) -> list[int]:
        async with self.engine.begin() as conn:
            started = [r.id for r in await conn.execute(_START_SCHEDULED)]
            await conn.execute(_MARK_STARTED)
        for broadcast_id in started:
            log.info("broadcast.started", broadcast_id=broadcast_id)
        return started

    async def expand_batch(self, broadcast_id: int) -> Expansion | None:
        """Expand one keyset batch; None when another dispatcher holds it or it stopped."""
        async with self.engine.begin() as conn:
            row = (await conn.execute(_LOCK_FOR_EXPANSION, {"id": broadcast_id})).first()
            if row is None:
                return None
            cursor = row.expansion_cursor if row.expansion_cursor is not None else -(2**63)
            batch = (
                await conn.execute(
                    _EXPAND_BATCH,
                    {
                        "id": broadcast_id,
                        "cursor": cursor,
                        "language": row.audience_language,
                        "active_days": row.audience_active_days,
                        "start_payload": row.audience_start_payload,
                        "subscribed_since": row.audience_subscribed_since,
                        "tag": row.audience_tag,
                        "limit": self.batch_size,
                    },
                )
            ).one()
            finished = batch.scanned < self.batch_size
            await conn.execute(
                _ADVANCE,
                {
                    "id": broadcast_id,
                    "cursor": batch.last_id if batch.last_id is not None else cursor,
                    "inserted": batch.inserted,
                    "finished": finished,
                },
            )
        return Expansion(broadcast_id, int(batch.inserted), finished)

    async def expand_all(self, time_budget: float = 1.0) -> int:
        """Expand running broadcasts for about ``time_budget`` seconds; returns rows added."""
        deadline = time.monotonic() + time_budget
        added = 0
        async with self.engine.connect() as conn:
            ids = [r.id for r in await conn.execute(_TO_EXPAND)]
        for broadcast_id in ids:
            while time.monotonic() < deadline:
                step = await self.expand_batch(broadcast_id)
                if step is None:
                    break
                added += step.inserted
                if step.finished:
                    log.info("broadcast.expanded", broadcast_id=broadcast_id)
                    break
        return added

    async def settle(self, limit: int = 5000) -> None:
        """Cancel pending rows of cancelled broadcasts; mark finished broadcasts done."""
        while True:
            async with self.engine.begin() as conn:
                result = await conn.execute(_CANCEL_PENDING, {"limit": limit})
            if result.rowcount < limit:
                break
        async with self.engine.begin() as conn:
            await conn.execute(_FINISH_CANCELLED)
            done = [r.id for r in await conn.execute(_FINISH_DONE)]
        for broadcast_id in done:
            log.info("broadcast.done", broadcast_id=broadcast_id)

    async def halted(self, ids: set[int]) -> set[int]:
        """Which of ``ids`` are no longer running: their claimed rows must not be sent."""
        if not ids:
            return set()
        async with self.engine.connect() as conn:
            return {r.id for r in await conn.execute(_HALTED, {"ids": sorted(ids)})}
