"""Scenario 7: a zero-downtime update on one host, for real. The staging stack behind the edge
proxy (Caddy with its certificate from Pebble, compose/test/edge.yaml) runs 3 bot replicas; the
sandbox delivers users' messages at a steady rate over HTTPS through the proxy while
scripts/compose-roll.sh rolls bot, admin and dispatcher to a new tag, then back (the rollback).
Each phase: 0 lost, 0 duplicated, every user answered; reported: the non-2xx answers the sender
saw (target 0) and the longest acknowledgement.

RESILIENCE_SCALE=full runs it longer and faster (docs/reliability.md); the images are built from
the working tree once, the second tag is the same image under another name.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import os
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.resilience.harness import (
    RESULTS,
    Injected,
    assert_exactly_once,
    exactly_once,
    inject,
    replies_by_chat,
    report,
    sandbox_stats,
    scale,
    wait_delivered,
)
from tests.support.edge_stack import EdgeStack, build_images, docker, remove_images, retag_images
from tests.support.waiting import async_wait_until

SCALE = scale()
# Images, a stack, two rolls: longer than the other scenarios' budget.
pytestmark = pytest.mark.timeout(900 if SCALE.name == "ci" else 3600)
RATE = 8.0 if SCALE.name == "ci" else 40.0  # updates per second through the proxy
USERS = 50 if SCALE.name == "ci" else 500
REPLICAS = 3
# Telegram keeps retrying; so does this sandbox (its retries are what a 502 would cost).
PATIENT = {
    "SANDBOX_WEBHOOK_ATTEMPTS": "100000",
    "SANDBOX_WEBHOOK_RETRY_DELAY": "0.2",
    "SANDBOX_WEBHOOK_MAX_DELAY": "1",
    "SANDBOX_MAX_RECORDED_CALLS": "200000",
    "SANDBOX_LOG_LEVEL": "WARNING",
}


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[EdgeStack]:
    tag = f"roll-{os.getpid()}"
    build_images(f"{tag}-a")
    retag_images(f"{tag}-a", f"{tag}-b")
    edge = EdgeStack(
        project=f"tgbot-roll-{os.getpid()}", tag=f"{tag}-a", work=tmp_path, sandbox_env=PATIENT
    )
    try:
        with logs_kept_on_failure(edge):
            edge.up(scale={"bot": REPLICAS})
        yield edge
    finally:
        edge.down()
        remove_images(f"{tag}-a", f"{tag}-b")


@contextlib.contextmanager
def logs_kept_on_failure(stack: EdgeStack) -> Iterator[None]:
    """On any failure, every service's log goes to test-artifacts/resilience/ before teardown."""
    try:
        yield
    except BaseException:
        logs = RESULTS.parent / f"compose-roll-{stack.project}.log"
        logs.parent.mkdir(parents=True, exist_ok=True)
        logs.write_text(stack.compose("logs", "--no-color", "--timestamps", check=False))
        print(f"\nthe stack's logs: {logs}")
        raise


def stored_incoming(stack: EdgeStack, users: set[int]) -> Counter[tuple[int, int]]:
    rows = stack.psql(
        "SELECT c.user_id, m.telegram_message_id, count(*) FROM messages m"
        " JOIN conversations c ON c.id = m.conversation_id WHERE m.direction = 'in'"
        f" AND c.user_id IN ({','.join(str(u) for u in sorted(users))}) GROUP BY 1, 2"
    )
    return Counter({(int(u), int(m)): int(n) for u, m, n in rows})


def bot_tags(stack: EdgeStack) -> set[str]:
    """The image tags the running bot replicas were started from."""
    ids = stack.compose("ps", "-q", "bot").split()
    images = docker("inspect", "-f", "{{.Config.Image}}", *ids).split()
    return {image.rsplit(":", 1)[1] for image in images}


def proxy_errors(stack: EdgeStack, *, since: dt.datetime) -> dict[str, int]:
    """The proxy's error and warning lines since ``since``, counted by logger, message and error:
    why a request was retried (a refused dial) or answered 502 (a broken connection)."""
    log = stack.compose(
        "logs", "--no-color", "--no-log-prefix", "--since", since.isoformat(), "proxy"
    )
    counts: Counter[str] = Counter()
    for line in log.splitlines():
        with contextlib.suppress(ValueError):
            entry = json.loads(line[line.index("{") :])
            if entry.get("level") in {"error", "warn"}:
                what = f"{entry.get('logger')}: {entry.get('msg')}: {entry.get('error', '')}"
                counts[re.sub(r"\d+\.\d+\.\d+\.\d+:\d+", "<address>", what)] += 1
    return dict(counts)


async def phase(stack: EdgeStack, name: str, tag: str, first_user: int) -> dict[str, Any]:
    """Steady load through the proxy while the roll runs; figures once everything settled."""
    sandbox_url = stack.sandbox_url()
    async with httpx.AsyncClient() as http:
        (await http.post(f"{sandbox_url}/sandbox/reset")).raise_for_status()
    injected, done = Injected(), asyncio.Event()
    load = asyncio.create_task(
        inject(
            sandbox_url,
            1_000_000,
            users=USERS,
            rate=RATE,
            first_user=first_user,
            into=injected,
            until=done,
        )
    )

    async def flowing() -> bool:
        return len(injected) > 0

    await async_wait_until(flowing, timeout=30, what="the load started")
    started = dt.datetime.now(dt.UTC)
    rolled = await asyncio.to_thread(stack.roll, tag)
    done.set()
    await load
    assert rolled.returncode == 0, rolled.stdout + rolled.stderr
    stats = await wait_delivered(sandbox_url, injected, SCALE.deadline)
    per_user = Counter(user for user, _ in injected.messages)

    async def answered() -> bool:
        replies = await asyncio.to_thread(replies_by_chat, sandbox_url)
        return all(replies[u] >= n for u, n in per_user.items())

    with contextlib.suppress(TimeoutError):  # the figures below say who is unanswered
        await async_wait_until(answered, timeout=120, interval=0.5, what="every user answered")
    stats = await sandbox_stats(sandbox_url)
    stored = stored_incoming(stack, set(per_user))
    figures = exactly_once(None, sandbox_url, injected, stats, stored=stored)
    report(
        f"compose_{name}",
        replicas=REPLICAS,
        rate=RATE,
        to_tag=tag,
        roll_log=[line for line in rolled.stdout.splitlines() if line.startswith(":::")],
        drained=[line for line in rolled.stdout.splitlines() if "serve.drained" in line],
        proxy_errors=proxy_errors(stack, since=started),
        **figures,
    )
    return figures


async def test_roll_to_a_new_tag_and_back_under_load_loses_and_duplicates_nothing(
    stack: EdgeStack,
) -> None:
    old_tag = stack.tag
    new_tag = old_tag[:-2] + "-b"
    with logs_kept_on_failure(stack):
        assert bot_tags(stack) == {old_tag}

        update = await phase(stack, "update", new_tag, first_user=7_100_000)
        assert bot_tags(stack) == {new_tag}
        assert len(stack.compose("ps", "-q", "bot").split()) == REPLICAS
        assert f"TAG={new_tag}\n" in stack.env_file.read_text()

        rollback = await phase(stack, "rollback", old_tag, first_user=7_200_000)
        assert bot_tags(stack) == {old_tag}
        for figures in (update, rollback):
            assert_exactly_once(figures)

    # Reported, not asserted: the non-2xx answers the sender saw (target 0; docs/compose.md has
    # the runs) with the proxy's error lines that explain them, and the longest acknowledgement.
    # Caddy 2.6 cannot resend a POST at all (compose/proxy/Caddyfile), so a residual race on a
    # busy host shows as a 502 that Telegram resends, not as a lost update (asserted above).
    # Even the proxy's error lines keep the webhook's secret token (a request header) out of
    # its log.
    secret = (stack.work / "secrets" / "webhook_secret").read_text().strip()
    proxy_log = stack.compose("logs", "--no-color", "proxy")
    assert '"uri":"/telegram/webhook"' in proxy_log
    assert secret not in proxy_log
