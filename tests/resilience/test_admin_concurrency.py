"""Scenario 6: two admins at once, through the admin's own service functions (Django ORM, one
thread and connection each, real PostgreSQL), with real dispatchers delivering the result.

- Both reply to the same conversation at the same moment: every reply is stored, queued and
  delivered exactly once.
- Both start, pause and resume the same broadcast at the same moments while dispatchers expand
  it: each race has one winner, and the audience is expanded once (outbox rows = audience).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import tests.integration.admin.conftest  # noqa: F401 - configures Django (settings only)
from tests.integration.delivery.harness import Db, Launcher, SandboxControl, per_chat
from tests.resilience.harness import report, scale, sends_ok
from tests.support.sandbox import start_sandbox
from tests.support.waiting import async_wait_until

SCALE = scale()
ADMINS = 2
DISPATCH: dict[str, str | int | float] = {
    "outbox_global_rate": 300,
    "outbox_rate_limits_enabled": "false",  # replies to one chat: not a rate-limit test
    "broadcast_expansion_batch": 100,
    "log_level": "WARNING",
}
T = TypeVar("T")


@contextmanager
def django_database(url: str) -> Iterator[None]:
    """Point Django's connections (every thread's) at ``url`` for the block."""
    from django.db import connections

    from tgadmin.dburl import database_settings

    settings = connections["default"].settings_dict  # shared by the threads' connections
    saved = dict(settings)
    connections.close_all()
    settings.update(database_settings(url))
    try:
        yield
    finally:
        connections.close_all()
        settings.clear()
        settings.update(saved)


def at_once(*actions: Callable[[], T]) -> list[T]:
    """Run each action in its own thread (its own DB connection), released together."""
    from django.db import connections

    barrier = threading.Barrier(len(actions))
    results: list[Any] = [None] * len(actions)
    errors: list[BaseException] = []

    def run(i: int, action: Callable[[], T]) -> None:
        try:
            barrier.wait(timeout=30)
            results[i] = action()
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, a)) for i, a in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    if errors:
        raise errors[0]
    return results


def _admin(n: int) -> Any:
    from django.contrib.auth.models import User

    return User(pk=n, username=f"admin{n}")  # replies record the author's id and name only


async def test_two_admins_reply_to_one_conversation_at_once_and_nothing_is_lost(
    fresh_migrated_db_url: str, clean_redis: str, tmp_path: Path
) -> None:
    from tgadmin.panel.models import Conversation, Message, OutboxMessage
    from tgadmin.panel.replies import send_reply

    db = Db(fresh_migrated_db_url)
    user_id = 61_000_001
    await db.add_users([user_id])
    conversation_id = await db.scalar(
        "INSERT INTO conversations (user_id) VALUES (%s) RETURNING id", (user_id,)
    )
    per_admin = SCALE.replies_per_admin

    def replies_of(admin: int) -> Callable[[], int]:
        def reply_all() -> int:
            conversation = Conversation.objects.get(pk=conversation_id)
            for k in range(per_admin):
                send_reply(conversation=conversation, text=f"a{admin} r{k}", author=_admin(admin))
            return per_admin

        return reply_all

    def admins_reply() -> tuple[float, Counter[str], int]:
        with django_database(fresh_migrated_db_url):
            started = time.monotonic()
            at_once(*(replies_of(a) for a in range(1, ADMINS + 1)))
            seconds = round(time.monotonic() - started, 2)
            texts: Any = Message.objects.filter(
                conversation_id=conversation_id, direction="out"
            ).values_list("text", flat=True)
            rows = OutboxMessage.objects.filter(chat_id=user_id, message__isnull=False).count()
            return seconds, Counter(texts), rows

    write_seconds, stored, queued = await asyncio.to_thread(admins_reply)
    expected = {f"a{a} r{k}" for a in range(1, ADMINS + 1) for k in range(per_admin)}

    with start_sandbox() as sandbox:
        launch = Launcher(
            fresh_migrated_db_url, clean_redis, sandbox.base_url, sandbox.token, tmp_path
        )
        try:
            launch(**DISPATCH)
            launch(**DISPATCH)
            await async_wait_until(
                lambda: sends_ok(sandbox, len(expected)), timeout=120, what="replies delivered"
            )
            calls = await SandboxControl(sandbox.base_url).delivered()
        finally:
            launch.stop_all()
    delivered = Counter(c["params"]["text"] for c in calls if c["chat_id"] == user_id)
    report(
        "admin_concurrent_replies",
        admins=ADMINS,
        replies=len(expected),
        stored=sum(stored.values()),
        queued=queued,
        delivered=sum(delivered.values()),
        lost=len(expected - set(delivered)),
        duplicated=sum(n - 1 for n in delivered.values() if n > 1),
        write_seconds=write_seconds,
    )
    assert stored == Counter(expected)
    assert queued == len(expected)
    assert delivered == Counter(expected)


async def test_two_admins_racing_start_pause_resume_expand_the_broadcast_once(
    fresh_migrated_db_url: str, clean_redis: str, tmp_path: Path
) -> None:
    from tgadmin.panel.broadcast_control import Transition, apply
    from tgadmin.panel.models import Broadcast

    db = Db(fresh_migrated_db_url)
    audience = list(range(62_000_000, 62_000_000 + SCALE.recipients // 4))
    await db.add_users(audience)
    broadcast_id = await db.add_broadcast(status="draft")

    def press(transition: Transition) -> Callable[[], bool]:
        return lambda: apply(Broadcast.objects.get(pk=broadcast_id), transition)

    races: list[tuple[str, list[bool]]] = []
    with start_sandbox() as sandbox:
        launch = Launcher(
            fresh_migrated_db_url, clean_redis, sandbox.base_url, sandbox.token, tmp_path
        )
        try:
            slow = {**DISPATCH, "outbox_global_rate": 50}  # still sending while they race
            launch(**slow)
            launch(**slow)
            start = press(Transition.START)
            pause, resume = press(Transition.PAUSE), press(Transition.RESUME)

            def admins_race() -> str:
                with django_database(fresh_migrated_db_url):
                    races.append(("start+start", at_once(start, start)))
                    for _ in range(3):  # while the dispatchers expand and send
                        races.append(("pause+pause", at_once(pause, pause)))
                        races.append(("resume+resume", at_once(resume, resume)))
                    return str(Broadcast.objects.get(pk=broadcast_id).status)

            final_status = await asyncio.to_thread(admins_race)

            async def done() -> bool:
                return bool((await db.broadcast(broadcast_id))["status"] == "done")

            await async_wait_until(done, timeout=180, interval=0.25, what="broadcast done")
            delivered = per_chat(await SandboxControl(sandbox.base_url).delivered())
        finally:
            launch.stop_all()
    rows = await db.scalar("SELECT count(*) FROM outbox WHERE broadcast_id = %s", (broadcast_id,))
    b = await db.broadcast(broadcast_id)
    report(
        "admin_concurrent_broadcast_control",
        admins=ADMINS,
        audience=len(audience),
        races=races,
        outbox_rows=rows,
        total_count=b["total_count"],
        delivered_chats=len(delivered),
        duplicated=sum(n - 1 for n in delivered.values()),
    )
    assert final_status == "running"
    assert all(sorted(outcome) == [False, True] for _, outcome in races), races
    assert rows == len(audience)
    assert b["total_count"] == len(audience)
    assert set(delivered) == set(audience)
    assert all(n == 1 for n in delivered.values())
