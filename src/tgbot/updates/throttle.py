"""Per-user message throttling shared by all replicas (fixed window counters in Redis)."""

from __future__ import annotations

import time
from dataclasses import dataclass

from redis.asyncio import Redis

from tgbot.services.redis_guard import RedisGuard


@dataclass(frozen=True)
class ThrottleDecision:
    allowed: bool
    notify: bool  # the first message over the limit in a window gets a polite reply


class Throttle:
    def __init__(self, guard: RedisGuard, *, limit: int, window_seconds: int) -> None:
        self._guard = guard
        self._limit = limit
        self.window_seconds = window_seconds

    def key(self, user_id: int) -> str:
        window = int(time.time()) // self.window_seconds
        return f"tgbot:throttle:{user_id}:{window}"

    def decide(self, hits: int) -> ThrottleDecision:
        """What the ``hits``-th message of a user in the current window may do."""
        return ThrottleDecision(allowed=hits <= self._limit, notify=hits == self._limit + 1)

    async def hit(self, user_id: int) -> ThrottleDecision:
        """Count one message (the webhook counts it in its admission call instead)."""
        key = self.key(user_id)

        async def count(redis: Redis) -> int:
            async with redis.pipeline(transaction=True) as pipe:
                pipe.incr(key)
                pipe.expire(key, self.window_seconds + 1)
                result = await pipe.execute()
            return int(result[0])

        hits, _ = await self._guard.run("throttle", count, 0)  # fail open
        return self.decide(hits)
