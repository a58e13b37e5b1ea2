"""The rate limits as the receiving end sees them, with two dispatcher processes sharing Redis."""

from __future__ import annotations

import itertools

from tests.integration.delivery.harness import (
    Db,
    Launcher,
    SandboxControl,
    max_in_window,
)
from tests.support.waiting import async_wait_until


async def test_observed_rate_never_exceeds_the_configured_limits(
    db: Db, launch: Launcher, control: SandboxControl
) -> None:
    rate = 20
    # The sandbox enforces Telegram's limits: any excess would show up as a 429.
    await control.faults(rate_limit=True, global_rate=rate, per_chat_rate=1)
    chats = list(range(70_001, 70_151))
    same_chat = [80_000] * 5  # five replies to one private chat: 1 msg/s
    group = [-100_500] * 2  # a group: 20 msg/min, i.e. one per 3 s
    await db.add_rows(chats + same_chat + group)
    launch(outbox_global_rate=rate)
    launch(outbox_global_rate=rate)

    async def all_sent() -> bool:
        return (await db.statuses())["sent"] == len(chats) + 7

    await async_wait_until(all_sent, timeout=60, interval=0.2, what="all sent")
    calls = await control.calls()
    assert [c for c in calls if not c["ok"]] == []  # not one 429
    times = [c["time"] for c in calls]
    assert max_in_window(times) <= rate
    bulk = sorted(c["time"] for c in calls if c["chat_id"] in set(chats))
    assert (len(bulk) - 1) / (bulk[-1] - bulk[0]) >= rate * 0.9  # the limit is also used
    same = sorted(c["time"] for c in calls if c["chat_id"] == 80_000)
    assert min(b - a for a, b in itertools.pairwise(same)) >= 1.0 - 0.02
    grp = sorted(c["time"] for c in calls if c["chat_id"] == -100_500)
    assert grp[1] - grp[0] >= 3.0 - 0.02
