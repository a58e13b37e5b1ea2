"""The resilience harness: sizes, figures, a load balancer, bot replicas and a steady injector.

Sizes come from ``RESILIENCE_SCALE``: ``ci`` (default, a few minutes on 2 cores) or ``full``
(the issue's sizes: 10,000 updates, 10,000 recipients). Each scenario prints one JSON line of
figures and appends it to ``test-artifacts/resilience/results.jsonl`` (docs/reliability.md).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import json
import os
import platform
import signal
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import psycopg
from aiohttp import web

from tests.integration.bot.conftest import WEBHOOK_SECRET, Bot, SandboxProcess, bot_env
from tests.support.processes import ServiceProcess, free_port
from tests.support.sandbox import SandboxHandle
from tests.support.services import psycopg_url
from tests.support.serving import AppThread
from tests.support.waiting import async_wait_until

RESULTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "resilience" / "results.jsonl"


@dataclass(frozen=True)
class Scale:
    name: str
    updates: int  # user updates injected by the load scenarios (1-3)
    users: int  # distinct users they come from
    rate: float  # updates injected per second
    replicas: int  # bot replicas behind the load balancer (scenario 1)
    outage_seconds: float  # how long PostgreSQL / Redis stay down (scenarios 2-3)
    recipients: int  # broadcast audience (scenario 4)
    hostile_examples: int  # hypothesis examples against the webhook (scenario 5)
    slow_clients: int  # slowloris connections (scenario 5)
    replies_per_admin: int  # concurrent replies per admin (scenario 6)
    test_timeout: int  # pytest-timeout per scenario, seconds

    @property
    def deadline(self) -> float:
        """Generous deadline for "everything processed" waits."""
        return max(120.0, 6 * self.updates / self.rate)


SCALES = {
    "ci": Scale("ci", 1200, 200, 60, 2, 5, 2000, 150, 20, 40, 300),
    "full": Scale("full", 10_000, 1000, 100, 3, 15, 10_000, 1000, 50, 200, 1800),
}


def scale() -> Scale:
    name = os.environ.get("RESILIENCE_SCALE", "ci")
    if name not in SCALES:
        raise ValueError(f"RESILIENCE_SCALE must be one of {sorted(SCALES)}, not {name!r}")
    return SCALES[name]


def report(scenario: str, **figures: Any) -> dict[str, Any]:
    """Print one JSON line of figures and append it to the results file."""
    line = {
        "scenario": scenario,
        "scale": scale().name,
        "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        **figures,
    }
    text = json.dumps(line, sort_keys=False, default=str)
    print(f"\nRESILIENCE {text}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    with RESULTS.open("a") as out:
        out.write(text + "\n")
    return line


# --- a round-robin load balancer -------------------------------------------------------------


@dataclass
class LoadBalancer:
    """Round-robin reverse proxy: a replica that refuses the connection is skipped, as a load
    balancer with health checks would; any other failure is a 502 (the sender retries)."""

    backends: list[str]  # base URLs
    forwarded: int = 0
    skipped: int = 0  # connection refused: tried the next replica
    bad_gateway: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    _next: itertools.count[int] = field(default_factory=itertools.count)
    _session: aiohttp.ClientSession | None = None

    def app(self) -> web.Application:
        app = web.Application(client_max_size=4 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._proxy)
        app.on_cleanup.append(self._close)
        return app

    async def _close(self, app: web.Application) -> None:
        if self._session is not None:
            await self._session.close()

    async def _proxy(self, request: web.Request) -> web.Response:
        if self._session is None:  # one connection per request: no stale keep-alives
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(force_close=True),
                timeout=aiohttp.ClientTimeout(total=60),
            )
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower() not in {"host"}}
        start = next(self._next)
        for offset in range(len(self.backends)):
            backend = self.backends[(start + offset) % len(self.backends)]
            try:
                async with self._session.request(
                    request.method, backend + request.path_qs, data=body, headers=headers
                ) as answer:
                    payload = await answer.read()
                    self.forwarded += 1
                    self.statuses[answer.status] += 1
                    return web.Response(
                        status=answer.status, body=payload, content_type=answer.content_type
                    )
            except aiohttp.ClientConnectorError:
                self.skipped += 1
                continue
            except (aiohttp.ClientError, TimeoutError):
                break
        self.bad_gateway += 1
        return web.Response(status=502, text="no replica answered")

    def figures(self) -> dict[str, Any]:
        return {
            "lb_forwarded": self.forwarded,
            "lb_skipped_refused": self.skipped,
            "lb_502": self.bad_gateway,
            "lb_statuses": {str(k): v for k, v in sorted(self.statuses.items())},
        }


def serve(lb: LoadBalancer) -> AppThread:
    thread = AppThread(lb.app, name="load-balancer")
    thread.start()
    return thread


# --- bot replicas -----------------------------------------------------------------------------


@dataclass
class Replica:
    """One ``tgbot serve`` on a fixed port; restartable."""

    bot: Bot

    @property
    def url(self) -> str:
        return self.bot.url

    def retry_causes(self) -> Counter[str]:
        """Why this replica answered 503 (``update.retry_later`` log lines), by error class."""
        causes: Counter[str] = Counter()
        for line in self.bot.process.log().splitlines():
            if '"update.retry_later"' in line:
                event = json.loads(line)
                causes[event.get("db_error") or event.get("error", "?")] += 1
        return causes

    def restart(self) -> dict[str, float | int]:
        """SIGTERM, wait for the exit, start again on the same port; figures of it."""
        process = self.bot.process
        assert process.proc is not None
        started = time.monotonic()
        process.signal(signal.SIGTERM)
        exit_code = process.proc.wait(timeout=60)
        stopped = time.monotonic()
        process.start()
        process.wait_http(f"{self.url}/readyz", timeout=60)
        return {
            "exit_code": exit_code,
            "stop_seconds": round(stopped - started, 2),
            "back_seconds": round(time.monotonic() - stopped, 2),
        }


def start_replica(
    tmp: Path, db_url: str, redis_url: str, sandbox: SandboxProcess, **extra: str
) -> Replica:
    """A bot that does not register its own webhook (the test points it at the balancer)."""
    port = free_port()
    settings = {
        "WEBHOOK_REGISTER_ON_START": "false",
        "THROTTLE_LIMIT": "1000000",  # the load comes from few users; throttling is not tested
        "TEXTS_CACHE_SECONDS": "30",
        "LOG_LEVEL": "WARNING",
        **extra,
    }
    env = bot_env(db_url, redis_url, sandbox.base_url, sandbox.token, port, **settings)
    process = ServiceProcess(["serve"], env, tmp / f"bot-{port}.log").start()
    url = f"http://127.0.0.1:{port}"
    process.wait_http(f"{url}/readyz", timeout=60)
    return Replica(Bot(url, f"{url}/telegram/webhook", db_url, process))


def retry_causes(replicas: list[Replica]) -> dict[str, int]:
    total: Counter[str] = Counter()
    for replica in replicas:
        total.update(replica.retry_causes())
    return dict(total)


def set_webhook(sandbox: SandboxProcess, url: str) -> None:
    response = httpx.post(
        f"{sandbox.base_url}/bot{sandbox.token}/setWebhook",
        json={"url": url, "secret_token": WEBHOOK_SECRET},
        timeout=10,
    )
    assert response.json()["ok"] is True, response.text


# --- load and its accounting --------------------------------------------------------------------

# Telegram keeps retrying a webhook for hours; the sandbox must not give up within a test.
PATIENT_SANDBOX = {
    "SANDBOX_WEBHOOK_ATTEMPTS": "100000",
    "SANDBOX_WEBHOOK_RETRY_DELAY": "0.05",
    "SANDBOX_WEBHOOK_MAX_DELAY": "0.5",
    "SANDBOX_WEBHOOK_TIMEOUT": "30",
    "SANDBOX_MAX_RECORDED_CALLS": "200000",
    "LOG_LEVEL": "WARNING",
}


@dataclass
class Injected:
    """What the injector handed to the sandbox: (user id, Telegram message id) per update."""

    messages: list[tuple[int, int]] = field(default_factory=list)
    started: float = 0.0
    finished: float = 0.0

    def __len__(self) -> int:
        return len(self.messages)


async def inject(
    sandbox_url: str,
    total: int,
    *,
    users: int,
    rate: float,
    first_user: int = 7_000_000,
    into: Injected | None = None,
    until: asyncio.Event | None = None,
) -> Injected:
    """Users write ``total`` messages at ``rate`` per second (``wait: false``: the sandbox
    delivers them to the webhook on its own, retrying as Telegram does); fewer if ``until`` is
    set first."""
    out = into if into is not None else Injected()
    out.started = time.monotonic()
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(timeout=timeout) as http:
        for n in range(total):
            if until is not None and until.is_set():
                break
            due = out.started + n / rate
            delay = due - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            user_id = first_user + n % users
            async with http.post(
                f"{sandbox_url}/sandbox/users/{user_id}/messages",
                json={"text": f"load {n}", "first_name": f"U{user_id}", "wait": False},
            ) as response:
                response.raise_for_status()
                body = await response.json()
            out.messages.append((user_id, int(body["message_id"])))
    out.finished = time.monotonic()
    return out


async def sandbox_stats(sandbox_url: str) -> dict[str, Any]:
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{sandbox_url}/sandbox/stats") as response,
    ):
        response.raise_for_status()
        return dict(await response.json())


async def wait_delivered(sandbox_url: str, injected: Injected, timeout: float) -> dict[str, Any]:
    """Wait until the sandbox has settled every injected update (accepted or dropped)."""

    async def settled() -> dict[str, Any] | None:
        stats = await sandbox_stats(sandbox_url)
        hook = stats["webhook"]
        done = hook["accepted"] + hook["dropped"] >= len(injected)
        return stats if done and stats["pending_updates"] == 0 else None

    result = await async_wait_until(
        settled, timeout=timeout, interval=0.25, what="every injected update settled"
    )
    assert result is not None
    return result


def stored_incoming(db_url: str, users: set[int] | None = None) -> Counter[tuple[int, int]]:
    """Incoming messages in the database (of ``users`` only, if given), counted by
    (user id, Telegram message id)."""
    with psycopg.connect(psycopg_url(db_url)) as conn:
        rows = conn.execute(
            "SELECT c.user_id, m.telegram_message_id, count(*) FROM messages m"
            " JOIN conversations c ON c.id = m.conversation_id WHERE m.direction = 'in'"
            " AND (%(users)s::bigint[] IS NULL OR c.user_id = ANY(%(users)s::bigint[]))"
            " GROUP BY 1, 2",
            {"users": sorted(users) if users is not None else None},
        ).fetchall()
    return Counter({(int(u), int(m)): int(n) for u, m, n in rows})


def replies_by_chat(sandbox_url: str) -> Counter[int]:
    calls = httpx.get(
        f"{sandbox_url}/sandbox/sent", params={"method": "sendMessage"}, timeout=60
    ).json()["calls"]
    return Counter(int(c["chat_id"]) for c in calls if c["ok"])


def exactly_once(
    db_url: str | None,
    sandbox_url: str,
    injected: Injected,
    stats: dict[str, Any],
    *,
    stored: Counter[tuple[int, int]] | None = None,
) -> dict[str, Any]:
    """The figures of an exactly-once check; the caller asserts on them. ``stored`` (what
    :func:`stored_incoming` returns) replaces the query of ``db_url`` when the database is not
    reachable from the host (a compose stack)."""
    expected = set(injected.messages)
    if stored is None:
        assert db_url is not None
        stored = stored_incoming(db_url, {user for user, _ in expected})
    assert len(expected) == len(injected), "the sandbox gave two updates one message id"
    per_user = Counter(user for user, _ in injected.messages)
    replies = replies_by_chat(sandbox_url)
    hook = stats["webhook"]
    return {
        "updates_sent": len(injected),
        "processed": sum(1 for key in expected if stored[key] >= 1),
        "lost": sum(1 for key in expected if stored[key] == 0),
        "duplicated": sum(n - 1 for n in stored.values() if n > 1),
        "unexpected_rows": sum(n for key, n in stored.items() if key not in expected),
        "acked": hook["accepted"],
        "dropped": hook["dropped"],
        "webhook_posts": hook["posts"],
        "webhook_retries": hook["retries"],
        "webhook_5xx": hook["status_5xx"],
        "webhook_non_2xx": hook["non_2xx"],
        "longest_ack_seconds": hook["longest_ack_seconds"],
        "webhook_statuses": hook["by_status"],
        "connection_errors": hook["connection_errors"],
        "users_unanswered": sum(1 for u, n in per_user.items() if replies[u] < n),
        "extra_replies": sum(max(0, replies[u] - n) for u, n in per_user.items()),
        "inject_seconds": round(injected.finished - injected.started, 1),
    }


def assert_exactly_once(figures: dict[str, Any]) -> None:
    assert figures["lost"] == 0, figures
    assert figures["duplicated"] == 0, figures
    assert figures["unexpected_rows"] == 0, figures
    assert figures["dropped"] == 0, figures
    assert figures["acked"] == figures["updates_sent"], figures
    assert figures["users_unanswered"] == 0, figures


async def sends_ok(sandbox: SandboxHandle, n: int) -> bool:
    """At least ``n`` message sends accepted by the (in-process) sandbox."""
    return bool((await sandbox.stats())["sends_ok"] >= n)


async def wait_status(url: str, status: int, timeout: float) -> float:
    """Seconds until ``GET url`` answers ``status`` (polled every 0.1 s)."""
    started = time.monotonic()

    async def check() -> bool:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as http,
            http.get(url) as response,
        ):
            return response.status == status

    await async_wait_until(check, timeout=timeout, interval=0.1, what=f"{url} -> {status}")
    return round(time.monotonic() - started, 2)
