"""``/healthz`` (the process answers), ``/readyz`` (dependencies usable), ``/metrics``."""

from __future__ import annotations

import asyncio

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tgbot.metrics import READY
from tgbot.schema_revisions import schema_problem
from tgbot.version import VERSION
from tgbot.web.drain import Drain

CHECK_TIMEOUT = 2.0


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok", "version": VERSION})


class Metrics:
    """``/metrics``: readiness is checked first, so ``tgbot_ready`` is fresh at every scrape."""

    def __init__(self, readiness: Readiness) -> None:
        self._readiness = readiness

    async def __call__(self, request: web.Request) -> web.Response:
        await self._readiness.evaluate()
        return web.Response(
            body=generate_latest(REGISTRY), headers={"Content-Type": CONTENT_TYPE_LATEST}
        )


class Readiness:
    """PostgreSQL reachable with a schema this code runs on (tgbot.schema_revisions); Redis too."""

    def __init__(
        self,
        *,
        engine: AsyncEngine,
        redis: Redis,
        expected_heads: set[str],
        known_revisions: set[str],
        drain: Drain | None = None,
    ) -> None:
        self._engine = engine
        self._redis = redis
        self._heads = expected_heads
        self._known = known_revisions
        self._drain = drain

    async def _database(self) -> str | None:
        try:
            async with asyncio.timeout(CHECK_TIMEOUT), self._engine.connect() as conn:
                rows = await conn.execute(text("SELECT version_num FROM alembic_version"))
                current = {row[0] for row in rows}
        except Exception as exc:
            return f"database unreachable: {type(exc).__name__}"
        return schema_problem(current, self._heads, self._known)

    async def _redis_check(self) -> str | None:
        try:
            async with asyncio.timeout(CHECK_TIMEOUT):
                await self._redis.ping()
        except Exception as exc:
            return f"redis unreachable: {type(exc).__name__}"
        return None

    async def evaluate(self) -> dict[str, str]:
        """Each check's problem or ``"ok"``; also sets the ``tgbot_ready`` gauge."""
        database, redis = await asyncio.gather(self._database(), self._redis_check())
        checks = {"database": database or "ok", "redis": redis or "ok"}
        for name, outcome in checks.items():
            READY.labels(name).set(1 if outcome == "ok" else 0)
        return checks

    async def __call__(self, request: web.Request) -> web.Response:
        if self._drain is not None and self._drain.draining:
            # Stopping (tgbot.web.drain): no new work, whatever the dependencies say.
            return web.json_response({"status": "draining"}, status=503)
        checks = await self.evaluate()
        if any(outcome != "ok" for outcome in checks.values()):
            return web.json_response({"status": "unavailable", "checks": checks}, status=503)
        return web.json_response({"status": "ready", "checks": checks})
