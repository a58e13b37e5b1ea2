"""Fast duplicate filter for Telegram updates across replicas (Redis ``SET NX``).

The claim itself is made by ``updates.admission`` (together with the throttle count); this
module names the keys and records the outcome.

The durable guarantee is the processed_updates row written in the update's own transaction
(see ``tgbot.db.queries.updates``); this filter only saves work on the common path and tells a
retry that arrives while the first delivery is still being handled to come back later.
"""

from __future__ import annotations

from enum import Enum

from redis.asyncio import Redis

from tgbot.services.redis_guard import RedisGuard
from tgbot.updates.batching import Batcher

IN_FLIGHT = b"in-flight"
DONE = b"done"


class Seen(Enum):
    NEW = "new"  # first delivery: handle it
    DONE = "done"  # handled before: acknowledge, no effect
    IN_FLIGHT = "in_flight"  # another replica is handling it right now
    UNKNOWN = "unknown"  # Redis unavailable: handle it, the database decides


class UpdateDeduplicator:
    def __init__(
        self,
        guard: RedisGuard,
        *,
        bot_id: int,
        done_ttl: int = 86_400,
        in_flight_ttl: int = 120,
    ) -> None:
        self._guard = guard
        self._bot_id = bot_id
        self._done_ttl = done_ttl
        self.in_flight_ttl = in_flight_ttl
        self._finished: Batcher[int, None] = Batcher(self._finish_batch, name="finish")

    def key(self, update_id: int) -> str:
        # update_ids are numbered per bot: two bots sharing one Redis must not see each other's.
        return f"tgbot:{self._bot_id}:update:{update_id}"

    async def finish(self, update_id: int) -> None:
        """Mark the update done (the updates finishing together share one round trip)."""
        await self._finished.submit(update_id)

    def finish_soon(self, update_id: int) -> None:
        """Mark the update done without waiting: the acknowledgement need not wait for the
        marker, since the update's record in the database already makes a redelivery a no-op
        (a marker that never lands leaves the in-flight one to expire)."""
        self._finished.submit_nowait(update_id)

    async def _finish_batch(self, update_ids: list[int]) -> list[None]:
        async def mark(redis: Redis) -> None:
            async with redis.pipeline(transaction=False) as pipe:
                for update_id in update_ids:
                    pipe.set(self.key(update_id), DONE, ex=self._done_ttl)
                await pipe.execute()

        await self._guard.run("dedup.finish", mark, None)
        return [None] * len(update_ids)

    async def abandon(self, update_id: int) -> None:
        """The handling failed: let Telegram's retry handle it again."""
        key = self.key(update_id)
        await self._guard.run("dedup.abandon", lambda r: r.delete(key), None)
