"""Scenario 1: rolling restart under load. Replicas behind one webhook address are restarted in
turn with SIGTERM while users write at a steady rate; every update is processed exactly once."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from tests.integration.bot.conftest import SandboxProcess
from tests.resilience.harness import (
    Injected,
    LoadBalancer,
    Replica,
    assert_exactly_once,
    exactly_once,
    inject,
    report,
    retry_causes,
    sandbox_stats,
    scale,
    serve,
    set_webhook,
    wait_delivered,
)
from tests.support.waiting import async_wait_until

SCALE = scale()


async def test_rolling_restart_under_load_processes_every_update_exactly_once(
    fresh_migrated_db_url: str,
    clean_redis: str,
    patient_sandbox: SandboxProcess,
    replicas: Callable[..., Replica],
) -> None:
    bots = [replicas(fresh_migrated_db_url, clean_redis) for _ in range(SCALE.replicas)]
    lb = LoadBalancer([bot.url for bot in bots])
    proxy = serve(lb)
    try:
        set_webhook(patient_sandbox, f"{proxy.base_url}/telegram/webhook")
        injected = Injected()
        load = asyncio.create_task(
            inject(
                patient_sandbox.base_url,
                SCALE.updates,
                users=SCALE.users,
                rate=SCALE.rate,
                into=injected,
            )
        )
        restarts = []
        step = SCALE.updates // (SCALE.replicas + 2)
        for n, bot in enumerate(bots, start=1):
            await _accepted_at_least(patient_sandbox, step * n)
            restarts.append(await asyncio.to_thread(bot.restart))
        await load
        started = time.monotonic()
        stats = await wait_delivered(patient_sandbox.base_url, injected, SCALE.deadline)
        drain_seconds = round(time.monotonic() - started, 1)
    finally:
        proxy.stop()
    figures = exactly_once(fresh_migrated_db_url, patient_sandbox.base_url, injected, stats)
    report(
        "rolling_restart",
        replicas=SCALE.replicas,
        rate=SCALE.rate,
        **figures,
        drain_after_load_seconds=drain_seconds,
        restarts=restarts,
        **lb.figures(),
        bot_retry_causes=retry_causes(bots),
    )
    assert_exactly_once(figures)
    assert all(r["exit_code"] == 0 for r in restarts), restarts


async def _accepted_at_least(sandbox: SandboxProcess, n: int) -> None:
    async def reached() -> bool:
        return bool((await sandbox_stats(sandbox.base_url))["webhook"]["accepted"] >= n)

    await async_wait_until(reached, timeout=SCALE.deadline, interval=0.2, what=f"{n} accepted")
