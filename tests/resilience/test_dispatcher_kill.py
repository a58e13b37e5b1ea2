"""Scenario 4: a dispatcher is SIGKILLed mid-broadcast and started again; every recipient gets
the message, and duplicates stay within the rows that were leased at the kill."""

from __future__ import annotations

import time
from pathlib import Path

from tests.integration.delivery.harness import Db, Launcher, SandboxControl, per_chat
from tests.resilience.harness import report, scale, sends_ok
from tests.support.sandbox import start_sandbox
from tests.support.waiting import async_wait_until

SCALE = scale()
DISPATCHERS = 2
BATCH = 50
RATE = 300
SETTINGS: dict[str, str | int | float] = {
    "outbox_global_rate": RATE,
    "outbox_lease_seconds": 5,
    "outbox_batch_size": BATCH,
    "broadcast_expansion_batch": 1000,
    "log_level": "WARNING",
}


async def test_dispatcher_sigkill_mid_broadcast_reaches_everyone_with_bounded_duplicates(
    fresh_migrated_db_url: str, clean_redis: str, tmp_path: Path
) -> None:
    db = Db(fresh_migrated_db_url)
    users = list(range(60_000_000, 60_000_000 + SCALE.recipients))
    await db.add_users(users)
    with start_sandbox() as sandbox:
        launch = Launcher(
            fresh_migrated_db_url, clean_redis, sandbox.base_url, sandbox.token, tmp_path
        )
        try:
            for _ in range(DISPATCHERS):
                launch(**SETTINGS)
            started = time.monotonic()
            broadcast_id = await db.add_broadcast(status="running")
            deadline = max(120.0, 10 * SCALE.recipients / RATE)
            await async_wait_until(
                lambda: sends_ok(sandbox, int(SCALE.recipients * 0.4)),
                timeout=deadline,
                what="broadcast under way",
            )
            victim = launch.started[0]
            victim.kill()  # SIGKILL: its leased rows stay 'sending' until the lease runs out
            killed = time.monotonic()
            assert victim.proc is not None
            leased = await db.execute(
                "SELECT lease_owner LIKE %s, count(*) FROM outbox"
                " WHERE broadcast_id = %s AND status = 'sending' GROUP BY 1",
                (f"%:{victim.proc.pid}:%", broadcast_id),
            )
            by_victim = dict(leased)
            in_flight = by_victim.get(True, 0)  # only the victim's rows can go out twice
            launch(**SETTINGS)

            async def done() -> bool:
                return bool((await db.broadcast(broadcast_id))["status"] == "done")

            await async_wait_until(done, timeout=deadline, interval=0.25, what="broadcast done")
            finished = time.monotonic()
            delivered = per_chat(await SandboxControl(sandbox.base_url).delivered())
        finally:
            launch.stop_all()
    b = await db.broadcast(broadcast_id)
    duplicates = sum(n - 1 for n in delivered.values())
    report(
        "dispatcher_sigkill",
        recipients=len(users),
        dispatchers=DISPATCHERS,
        batch_size=BATCH,
        delivered_chats=len(delivered),
        lost=len(set(users) - set(delivered)),
        duplicates=duplicates,
        leased_by_victim_at_kill=in_flight,
        leased_by_others_at_kill=by_victim.get(False, 0),
        sent_count=b["sent_count"],
        seconds_to_done=round(finished - started, 1),
        seconds_kill_to_done=round(finished - killed, 1),
    )
    assert set(delivered) == set(users)
    assert duplicates <= in_flight
    assert b["sent_count"] == len(users)
