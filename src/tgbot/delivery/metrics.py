"""The dispatcher's Prometheus metrics and the cheap queries that refresh the gauges."""

from __future__ import annotations

import time
from collections import deque

from prometheus_client import Counter, Gauge, Histogram
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tgbot.build_info import BUILD_INFO as BUILD_INFO  # tgbot_build_info on this /metrics
from tgbot.db.statuses import OUTBOX_STATUSES

OUTBOX_ROWS = Gauge("tgbot_outbox_rows", "Outbox rows by status.", ["status"])
SENDS = Counter(
    "tgbot_outbox_sends_total",
    "Bot API calls made by the dispatcher, by result code (200, 400, 403, 429, 5xx, network...).",
    ["code"],
)
SEND_SECONDS = Histogram(
    "tgbot_outbox_send_seconds",
    "Latency of one Bot API call made by the dispatcher.",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
SEND_RATE = Gauge(
    "tgbot_outbox_send_rate", "Messages this dispatcher sent per second, over the last 10 s."
)
SLOTS_GIVEN_UP = Counter(
    "tgbot_outbox_late_slots_total",
    "Rate-limit slots given up because the dispatcher woke too late to use them.",
)
OLDEST_PENDING = Gauge(
    "tgbot_outbox_oldest_pending_seconds", "Age of the oldest due pending outbox row (0: none)."
)
BROADCASTS_RUNNING = Gauge(
    "tgbot_broadcasts_running", "Broadcasts in status 'running' (paused ones are not counted)."
)
BROADCAST_MESSAGES = Counter(
    "tgbot_broadcast_messages_total",
    "Bot API calls this dispatcher made for broadcast rows, by outcome "
    "(sent, blocked, rejected, retry_after, transient).",
    ["outcome"],
)

_COUNT_BY_STATUS = text("SELECT status, count(*) AS n FROM outbox GROUP BY status")
_RUNNING_BROADCASTS = text("SELECT count(*) FROM broadcasts WHERE status = 'running'")
_OLDEST_DUE = text(
    """
    SELECT COALESCE(EXTRACT(EPOCH FROM now() - min(next_attempt_at)), 0) AS age
    FROM outbox WHERE status = 'pending' AND next_attempt_at <= now()
    """
)


class RateMeter:
    """Sends per second over a sliding window, kept in per-second buckets."""

    def __init__(self, window: int = 10) -> None:
        self.window = window
        self._buckets: deque[tuple[int, int]] = deque()

    def add(self, n: int = 1, now: float | None = None) -> None:
        second = int(time.monotonic() if now is None else now)
        if self._buckets and self._buckets[-1][0] == second:
            self._buckets[-1] = (second, self._buckets[-1][1] + n)
        else:
            self._buckets.append((second, n))
        self._trim(second)

    def rate(self, now: float | None = None) -> float:
        second = int(time.monotonic() if now is None else now)
        self._trim(second)
        return sum(n for s, n in self._buckets if s < second) / self.window

    def _trim(self, second: int) -> None:
        while self._buckets and self._buckets[0][0] <= second - self.window - 1:
            self._buckets.popleft()


async def refresh_gauges(engine: AsyncEngine, *, counts: bool) -> None:
    """Oldest-pending age always (an index range scan); row and broadcast counts with ``counts``."""
    async with engine.connect() as conn:
        OLDEST_PENDING.set(float((await conn.execute(_OLDEST_DUE)).scalar_one()))
        if counts:
            found = {r.status: r.n for r in await conn.execute(_COUNT_BY_STATUS)}
            for status in OUTBOX_STATUSES:
                OUTBOX_ROWS.labels(status).set(found.get(status, 0))
            BROADCASTS_RUNNING.set(float((await conn.execute(_RUNNING_BROADCASTS)).scalar_one()))
