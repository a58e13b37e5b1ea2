"""Direct outbox rows: exactly-once with two dispatchers, prompt wake-up, result handling."""

from __future__ import annotations

from importlib.metadata import version

import aiohttp
import pytest

from tests.integration.delivery.harness import Db, Launcher, SandboxControl, per_chat
from tests.support.waiting import async_wait_until


async def test_two_dispatchers_send_every_row_exactly_once(
    db: Db, launch: Launcher, control: SandboxControl
) -> None:
    chats = list(range(1_000_001, 1_000_601))
    await db.add_rows(chats)
    first = launch(outbox_global_rate=1000, outbox_batch_size=50)
    second = launch(outbox_global_rate=1000, outbox_batch_size=50)

    await async_wait_until(
        lambda: _all_sent(db, len(chats)), timeout=90, interval=0.2, what="all rows sent"
    )
    delivered = per_chat(await control.delivered())
    assert set(delivered) == set(chats)
    assert max(delivered.values()) == 1  # nobody got a message twice
    # Both processes took part, and both stop cleanly on SIGTERM.
    owners = {e.get("owner") for p in (first, second) for e in p.events()}
    assert len(owners - {None}) == 2
    assert first.terminate() == 0
    assert second.terminate() == 0


async def _all_sent(db: Db, n: int) -> bool:
    return (await db.statuses())["sent"] == n


async def test_a_new_row_wakes_an_idle_dispatcher_at_once(
    db: Db, launch: Launcher, control: SandboxControl
) -> None:
    # The safety-net poll is 60 s: only the INSERT trigger's NOTIFY can wake it in time.
    proc = launch(outbox_poll_seconds=60)
    await async_wait_until(lambda: _listening(proc), timeout=30, what="dispatcher listening")
    await db.add_rows([4242])
    await async_wait_until(lambda: _all_sent(db, 1), timeout=5, what="row sent after NOTIFY")
    assert per_chat(await control.delivered()) == {4242: 1}
    port = next(e["port"] for e in proc.events() if e.get("event") == "dispatcher.http")
    async with aiohttp.ClientSession() as http:
        async with http.get(f"http://127.0.0.1:{port}/healthz") as resp:
            assert resp.status == 200
            assert (await resp.json())["version"] == version("tgbot-platform")
        async with http.get(f"http://127.0.0.1:{port}/metrics") as resp:
            exposition = await resp.text()
    assert 'tgbot_outbox_sends_total{code="200"} 1.0' in exposition
    assert "tgbot_outbox_send_seconds_bucket" in exposition
    assert f'tgbot_build_info{{version="{version("tgbot-platform")}"}} 1.0' in exposition
    sent = await db.execute("SELECT telegram_message_id, sent_at FROM outbox")
    assert sent[0][0] is not None
    assert sent[0][1] is not None


async def _listening(proc: object) -> bool:
    return any(e.get("event") == "dispatcher.listening" for e in proc.events())  # type: ignore[attr-defined]


async def test_blocked_user_is_marked_and_unknown_chat_fails_permanently(
    db: Db, launch: Launcher, control: SandboxControl
) -> None:
    await db.add_users([501, 502, 503])
    await control.faults(blocked_chats=[502], unknown_chats=[503])
    await db.add_rows([501, 502, 503])
    launch()

    async def settled() -> bool:
        s = await db.statuses()
        return s["sent"] == 1 and s["failed"] == 2

    await async_wait_until(settled, timeout=30, what="rows settled")
    rows = dict(
        (r[0], r[1:])
        for r in await db.execute(
            "SELECT chat_id, status, last_error_code, last_error, attempts FROM outbox"
        )
    )
    assert rows[502][:2] == ("failed", 403)
    assert "blocked" in rows[502][2]
    assert rows[503][:2] == ("failed", 400)
    assert "chat not found" in rows[503][2]
    blocked = await db.execute("SELECT telegram_id FROM tg_users WHERE is_blocked")
    assert blocked == [(502,)]
    # Permanent failures are not retried: one call each.
    assert per_chat(await control.calls()) == {501: 1, 502: 1, 503: 1}


async def test_server_errors_are_retried_then_dead_with_the_last_error(
    db: Db, launch: Launcher, control: SandboxControl
) -> None:
    await control.faults(fail_next={"count": 1000, "status": 500})
    await db.add_rows([777])
    launch(outbox_max_attempts=3, outbox_retry_base_seconds=0.2)

    async def dead() -> bool:
        return (await db.statuses())["dead"] == 1

    await async_wait_until(dead, timeout=30, what="row dead")
    status, attempts, code, error = (
        await db.execute("SELECT status, attempts, last_error_code, last_error FROM outbox")
    )[0]
    assert (status, attempts, code) == ("dead", 3, 500)
    assert error
    assert per_chat(await control.calls()) == {777: 3}


async def test_a_server_error_then_success_is_sent_once(
    db: Db, launch: Launcher, control: SandboxControl
) -> None:
    await control.faults(fail_next={"count": 2, "status": 502})
    await db.add_rows([778])
    launch(outbox_max_attempts=5, outbox_retry_base_seconds=0.2)
    await async_wait_until(lambda: _all_sent(db, 1), timeout=30, what="row sent")
    assert await db.scalar("SELECT attempts FROM outbox") == 2
    assert per_chat(await control.delivered()) == {778: 1}


@pytest.mark.parametrize("retry_after_chats", [6])
async def test_retry_after_is_honoured_per_chat(
    db: Db, launch: Launcher, control: SandboxControl, retry_after_chats: int
) -> None:
    # The sandbox allows 2 msg/s overall; the dispatcher is configured for 50/s and so
    # provokes 429s. Every chat's next call must wait the retry_after it was given.
    chats = list(range(9001, 9001 + retry_after_chats))
    await control.faults(rate_limit=True, global_rate=2, per_chat_rate=1)
    await db.add_rows(chats)
    launch(outbox_global_rate=50)
    await async_wait_until(
        lambda: _all_sent(db, len(chats)), timeout=60, interval=0.2, what="all sent"
    )
    calls = await control.calls()
    limited = [c for c in calls if c["error_code"] == 429]
    assert limited, "the sandbox never answered 429: the test proves nothing"
    for c in limited:
        later = [d for d in calls if d["chat_id"] == c["chat_id"] and d["seq"] > c["seq"]]
        assert later, "a 429'd row was never retried"
        assert min(d["time"] for d in later) - c["time"] >= 1.0 - 0.05  # retry_after: 1 s
    assert max(per_chat([c for c in calls if c["ok"]]).values()) == 1


async def test_listen_goes_to_the_direct_database_url(
    db: Db, launch: Launcher, control: SandboxControl
) -> None:
    """Behind a transaction-mode pooler LISTEN never hears a NOTIFY: with DATABASE_DIRECT_URL
    the dispatcher listens on a connection of its own to the server (told apart here by its
    application_name), and a new row still wakes it at once."""
    url = launch.database_url
    direct = f"{url}{'&' if '?' in url else '?'}application_name=tgbot-direct-listen"
    proc = launch(outbox_poll_seconds=60, database_direct_url=direct)
    await async_wait_until(lambda: _listening(proc), timeout=30, what="dispatcher listening")

    rows = await db.execute(
        "SELECT query FROM pg_stat_activity WHERE application_name = 'tgbot-direct-listen'"
    )
    assert [q for (q,) in rows if q.upper().startswith("LISTEN")], rows
    await db.add_rows([4343])
    await async_wait_until(lambda: _all_sent(db, 1), timeout=5, what="row sent after NOTIFY")
