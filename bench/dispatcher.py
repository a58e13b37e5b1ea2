"""Dispatcher benchmarks against the sandbox (not a test; see docs/delivery.md for results).

    uv run python bench/dispatcher.py ceiling          # msgs/s of 1 and 2 processes, no limits
    uv run python bench/dispatcher.py broadcast        # 10,000 recipients at 30 msg/s (~6 min)
    uv run python bench/dispatcher.py expansion        # expansion time of 100,000 recipients

PostgreSQL and Redis come from Docker (testcontainers) unless --database-url/--redis-url are
given; the sandbox is started as `tgbot sandbox` unless --sandbox-url is given.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support import services
from tests.support.waiting import wait_until

TOKEN = "123456:BENCH"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def infrastructure(args: argparse.Namespace) -> Iterator[tuple[str, str, str]]:
    with contextlib.ExitStack() as stack:
        if args.database_url:
            server = services.PostgresServer(args.database_url)
        else:
            url, _ = stack.enter_context(services.postgres_container())
            server = services.PostgresServer(url)
        db_url = server.create_database("bench")
        stack.callback(server.drop_database, db_url)
        redis_url = args.redis_url or stack.enter_context(services.redis_container())[0]
        sandbox_url = args.sandbox_url or stack.enter_context(start_sandbox())
        from tgbot.db.migrate import migrate

        migrate(db_url)
        yield db_url, redis_url, sandbox_url


@contextlib.contextmanager
def start_sandbox() -> Iterator[str]:
    port = free_port()
    env = dict(os.environ, SANDBOX_PORT=str(port), LOG_LEVEL="WARNING")
    proc = subprocess.Popen([sys.executable, "-m", "tgbot", "sandbox"], env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: _get_json(url + "/sandbox/stats"), timeout=30, what="sandbox")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _get_json(url: str) -> Any:
    import urllib.request

    with urllib.request.urlopen(url, timeout=30) as resp:  # noqa: S310 - local sandbox
        return json.loads(resp.read())


def _post_json(url: str, body: Any = None) -> Any:
    async def post() -> Any:
        async with aiohttp.ClientSession() as http, http.post(url, json=body) as resp:
            return await resp.json()

    return asyncio.run(post())


def dispatchers(
    n: int, db_url: str, redis_url: str, sandbox_url: str, tmp: Path, **settings: Any
) -> list[subprocess.Popen[bytes]]:
    env = dict(
        os.environ,
        DATABASE_URL=db_url,
        REDIS_URL=redis_url,
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_API_BASE=sandbox_url,
        TELEGRAM_API_ALLOW_HTTP="true",
        DISPATCHER_METRICS_PORT="0",
        LOG_LEVEL="WARNING",
    )
    env.update({k.upper(): str(v) for k, v in settings.items()})
    procs = []
    for i in range(n):
        with (tmp / f"dispatcher-{i}.log").open("ab") as log:
            procs.append(
                subprocess.Popen(
                    [sys.executable, "-m", "tgbot", "dispatch"],
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
    return procs


def stop(procs: list[subprocess.Popen[bytes]]) -> None:
    for p in procs:
        p.send_signal(signal.SIGTERM)
    for p in procs:
        p.wait(timeout=60)


def scalar(db_url: str, query: str, params: Any = None) -> Any:
    with psycopg.connect(services.psycopg_url(db_url), autocommit=True) as conn:
        row = conn.execute(query, params).fetchone()
        return row[0] if row else None


def insert_rows(db_url: str, n: int, tag: str) -> None:
    with psycopg.connect(services.psycopg_url(db_url), autocommit=True) as conn:
        conn.execute(
            "INSERT INTO outbox (chat_id, method, payload, idempotency_key) "
            "SELECT 10000000 + g, 'sendMessage', '{\"text\": \"bench\"}', %s || g "
            "FROM generate_series(1, %s) g",
            (f"{tag}:", n),
        )


def insert_users(db_url: str, n: int) -> None:
    with psycopg.connect(services.psycopg_url(db_url), autocommit=True) as conn:
        conn.execute(
            "INSERT INTO tg_users (telegram_id, is_subscribed) "
            "SELECT 20000000 + g, true FROM generate_series(1, %s) g",
            (n,),
        )


def ceiling(db_url: str, redis_url: str, sandbox_url: str, tmp: Path, n: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for processes in (1, 2):
        _post_json(sandbox_url + "/sandbox/reset")
        scalar(db_url, "DELETE FROM outbox RETURNING 1")
        insert_rows(db_url, n, f"ceiling{processes}")
        procs = dispatchers(
            processes,
            db_url,
            redis_url,
            sandbox_url,
            tmp,
            outbox_rate_limits_enabled="false",
            outbox_batch_size=500,
            outbox_concurrency=200,
        )
        try:
            wait_until(
                lambda: scalar(db_url, "SELECT count(*) FROM outbox WHERE status = 'sent'") == n,
                timeout=600,
                interval=0.5,
                what="all sent",
            )
        finally:
            stop(procs)
        span = scalar(
            db_url,
            "SELECT EXTRACT(EPOCH FROM max(sent_at) - min(sent_at)) FROM outbox",
        )
        calls = _get_json(sandbox_url + "/sandbox/sent?method=sendMessage")["calls"]
        dupes = sum(c - 1 for c in Counter(c["chat_id"] for c in calls if c["ok"]).values())
        out[f"{processes}_process"] = {
            "messages": n,
            "seconds": round(float(span), 2),
            "msgs_per_s": round(n / float(span), 1),
            "duplicates": dupes,
        }
        print(json.dumps(out), flush=True)
    return out


def broadcast(
    db_url: str, redis_url: str, sandbox_url: str, tmp: Path, n: int, rate: int
) -> dict[str, Any]:
    _post_json(sandbox_url + "/sandbox/reset")
    _post_json(
        sandbox_url + "/sandbox/faults",
        {"rate_limit": True, "global_rate": rate, "per_chat_rate": 1},
    )
    insert_users(db_url, n)
    procs = dispatchers(1, db_url, redis_url, sandbox_url, tmp, outbox_global_rate=rate)
    try:
        broadcast_id = scalar(
            db_url,
            "INSERT INTO broadcasts (title, text, status) VALUES ('bench', 'hi', 'running') "
            "RETURNING id",
        )
        wait_until(
            lambda: (
                scalar(db_url, "SELECT status FROM broadcasts WHERE id = %s", (broadcast_id,))
                == "done"
            ),
            timeout=n / rate * 2 + 120,
            interval=1,
            what="broadcast done",
        )
    finally:
        stop(procs)
    calls = _get_json(sandbox_url + "/sandbox/sent?method=sendMessage")["calls"]
    ok = sorted(c["time"] for c in calls if c["ok"])
    stats = _get_json(sandbox_url + "/sandbox/stats")
    stats.get("max_per_second", {}).pop("by_chat", None)  # one entry per recipient
    per_chat = Counter(c["chat_id"] for c in calls if c["ok"])
    achieved = (len(ok) - 1) / (ok[-1] - ok[0])
    return {
        "recipients": n,
        "configured_rate": rate,
        "achieved_rate": round(achieved, 2),
        "deviation_pct": round((achieved / rate - 1) * 100, 2),
        "http_429": sum(1 for c in calls if c["error_code"] == 429),
        "duplicates": sum(v - 1 for v in per_chat.values()),
        "delivered": len(per_chat),
        "sandbox_stats": stats,
    }


def expansion(db_url: str, n: int, batch: int) -> dict[str, Any]:
    from sqlalchemy.ext.asyncio import create_async_engine

    from tgbot.config import postgres_url_for
    from tgbot.delivery.broadcasts import Broadcasts

    insert_users(db_url, n)
    broadcast_id = scalar(
        db_url,
        "INSERT INTO broadcasts (title, text, status) VALUES ('x', 'hi', 'running') RETURNING id",
    )

    async def run() -> tuple[float, int, float]:
        engine = create_async_engine(postgres_url_for(db_url))
        b = Broadcasts(engine, batch)
        started = time.perf_counter()
        longest = 0.0
        batches = 0
        try:
            while True:
                t = time.perf_counter()
                step = await b.expand_batch(broadcast_id)
                longest = max(longest, time.perf_counter() - t)
                batches += 1
                if step is None or step.finished:
                    break
        finally:
            await engine.dispose()
        return time.perf_counter() - started, batches, longest

    seconds, batches, longest = asyncio.run(run())
    total = scalar(db_url, "SELECT total_count FROM broadcasts WHERE id = %s", (broadcast_id,))
    return {
        "recipients": n,
        "rows_created": total,
        "batch_size": batch,
        "batches": batches,
        "seconds": round(seconds, 2),
        "rows_per_s": round(n / seconds),
        "longest_transaction_s": round(longest, 3),
    }


def machine() -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "load_avg": os.getloadavg(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", choices=["ceiling", "broadcast", "expansion"])
    parser.add_argument("--database-url")
    parser.add_argument("--redis-url")
    parser.add_argument("--sandbox-url")
    parser.add_argument("-n", type=int, help="messages / recipients")
    parser.add_argument("--rate", type=int, default=30)
    parser.add_argument("--batch", type=int, default=2000)
    args = parser.parse_args()
    print(json.dumps({"machine": machine()}), flush=True)
    with (
        infrastructure(args) as (db_url, redis_url, sandbox_url),
        tempfile.TemporaryDirectory() as d,
    ):
        tmp = Path(d)
        if args.scenario == "ceiling":
            result = ceiling(db_url, redis_url, sandbox_url, tmp, args.n or 20_000)
        elif args.scenario == "broadcast":
            result = broadcast(db_url, redis_url, sandbox_url, tmp, args.n or 10_000, args.rate)
        else:
            result = expansion(db_url, args.n or 100_000, args.batch)
    print(json.dumps({args.scenario: result}, default=str), flush=True)


if __name__ == "__main__":
    main()
