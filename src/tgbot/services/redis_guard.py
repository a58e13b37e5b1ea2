"""Fail-open access to Redis: when it is down the bot keeps answering.

After a failure Redis is skipped for ``cooldown`` seconds, so an outage costs one fast error
per cooldown rather than a timeout per update.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import structlog
from prometheus_client import Counter
from redis.asyncio import Redis
from redis.exceptions import RedisError

log = structlog.get_logger(__name__)
T = TypeVar("T")

REDIS_FAILURES = Counter(
    "tgbot_redis_failures_total", "Redis operations that failed and fell back", ["operation"]
)


def create_redis(url: str, *, timeout: float = 0.5) -> Redis:
    return Redis.from_url(
        url,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        retry_on_timeout=False,
        decode_responses=False,
    )


class RedisGuard:
    def __init__(self, redis: Redis, *, cooldown: float = 2.0) -> None:
        self.redis = redis
        self._cooldown = cooldown
        self._skip_until = 0.0

    @property
    def available(self) -> bool:
        return time.monotonic() >= self._skip_until

    async def run(
        self, operation: str, fn: Callable[[Redis], Awaitable[T]], default: T
    ) -> tuple[T, bool]:
        """``(result, True)``, or ``(default, False)`` when Redis failed or is cooling down."""
        if not self.available:
            return default, False
        try:
            return await fn(self.redis), True
        except (TimeoutError, RedisError, OSError) as exc:
            self._skip_until = time.monotonic() + self._cooldown
            REDIS_FAILURES.labels(operation).inc()
            log.warning("redis.unavailable", operation=operation, error=type(exc).__name__)
            return default, False
