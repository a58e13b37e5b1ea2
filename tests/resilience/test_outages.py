"""Scenarios 2 and 3: PostgreSQL restarted and Redis stopped while users write at a steady rate.

PostgreSQL down: readiness turns 503, the webhook answers 503 so the sender retries, and every
update is processed once after recovery. Redis down: the bot keeps answering (dedup falls back to
PostgreSQL, throttling fails open) without 5xx, and readiness recovers when Redis returns.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from tests.integration.bot.conftest import SandboxProcess
from tests.resilience.harness import (
    Injected,
    Replica,
    assert_exactly_once,
    exactly_once,
    inject,
    report,
    retry_causes,
    sandbox_stats,
    scale,
    set_webhook,
    wait_delivered,
    wait_status,
)
from tests.support.waiting import async_wait_until

SCALE = scale()


async def _outage_under_load(
    scenario: str,
    bot: Replica,
    sandbox: SandboxProcess,
    container: Any,
    *,
    stop_timeout: int,
) -> dict[str, Any]:
    """Load; stop ``container`` a third of the way in; start it after the outage; drain; report
    and check exactly-once. Returns the figures."""
    set_webhook(sandbox, bot.bot.webhook_url)
    injected = Injected()
    load = asyncio.create_task(
        inject(sandbox.base_url, SCALE.updates, users=SCALE.users, rate=SCALE.rate, into=injected)
    )

    async def a_third_accepted() -> bool:
        stats = await sandbox_stats(sandbox.base_url)
        return bool(stats["webhook"]["accepted"] >= SCALE.updates // 3)

    await async_wait_until(a_third_accepted, timeout=SCALE.deadline, what="load under way")
    wrapped = container.get_wrapped_container()
    stopped_at = time.monotonic()
    await asyncio.to_thread(wrapped.stop, timeout=stop_timeout)
    readiness_503_after = round(time.monotonic() - stopped_at, 2)  # stop() returns once down
    readiness_503_after = round(
        readiness_503_after + await wait_status(f"{bot.url}/readyz", 503, timeout=60), 2
    )
    outage_left = SCALE.outage_seconds - (time.monotonic() - stopped_at)
    if outage_left > 0:
        await asyncio.sleep(outage_left)  # the outage itself, not a synchronisation
    await asyncio.to_thread(wrapped.start)
    restarted_at = time.monotonic()
    ready_after_start = await wait_status(f"{bot.url}/readyz", 200, timeout=120)
    await load
    stats = await wait_delivered(sandbox.base_url, injected, SCALE.deadline)
    timings = {
        "outage_seconds": round(restarted_at - stopped_at, 1),
        "readiness_503_after_stop_seconds": readiness_503_after,
        "readiness_200_after_start_seconds": ready_after_start,
        "drained_after_start_seconds": round(time.monotonic() - restarted_at, 1),
    }
    figures = exactly_once(bot.bot.db_url, sandbox.base_url, injected, stats)
    report(scenario, rate=SCALE.rate, **figures, **timings, bot_retry_causes=retry_causes([bot]))
    assert_exactly_once(figures)
    return figures


async def test_postgres_restart_mid_load_loses_nothing_and_duplicates_nothing(
    own_postgres: tuple[str, Any],
    clean_redis: str,
    patient_sandbox: SandboxProcess,
    replicas: Callable[..., Replica],
) -> None:
    db_url, container = own_postgres
    bot = replicas(db_url, clean_redis)
    figures = await _outage_under_load(
        "postgres_restart", bot, patient_sandbox, container, stop_timeout=5
    )
    assert figures["webhook_statuses"].get("503", 0) > 0, "the outage never reached the webhook"
    assert set(figures["webhook_statuses"]) <= {"200", "409", "503"}, figures


async def test_redis_outage_mid_load_keeps_answering_without_5xx(
    fresh_migrated_db_url: str,
    own_redis: tuple[str, Any],
    patient_sandbox: SandboxProcess,
    replicas: Callable[..., Replica],
) -> None:
    redis_url, container = own_redis
    bot = replicas(fresh_migrated_db_url, redis_url)
    figures = await _outage_under_load(
        "redis_outage", bot, patient_sandbox, container, stop_timeout=1
    )
    assert figures["webhook_5xx"] == 0, figures
