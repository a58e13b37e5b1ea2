"""Helpers for the delivery tests: dispatcher subprocesses, the database, the sandbox over HTTP."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import psycopg

from tests.support.services import psycopg_url


@dataclass
class DispatcherProcess:
    """``tgbot dispatch`` as a real subprocess; its log lines go to ``log_path``."""

    env: dict[str, str]
    log_path: Path
    proc: subprocess.Popen[bytes] | None = None

    def start(self) -> DispatcherProcess:
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tgbot", "dispatch"],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        return self

    def terminate(self, timeout: float = 30) -> int:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=timeout)

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait(timeout=10)

    def stop_quietly(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def events(self) -> list[dict[str, Any]]:
        out = []
        for line in self.log_path.read_text().splitlines():
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                continue
        return out


@dataclass
class Launcher:
    """Starts dispatchers against one database, Redis and sandbox; stops them all at the end."""

    database_url: str
    redis_url: str
    api_base: str
    token: str
    tmp: Path
    started: list[DispatcherProcess] = field(default_factory=list)

    def __call__(self, **settings: str | int | float) -> DispatcherProcess:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("OUTBOX_", "DISPATCHER_", "TELEGRAM_", "DATABASE_", "REDIS_"))
        }
        env.update(
            DATABASE_URL=self.database_url,
            REDIS_URL=self.redis_url,
            TELEGRAM_BOT_TOKEN=self.token,
            TELEGRAM_API_BASE=self.api_base,
            TELEGRAM_API_ALLOW_HTTP="true",
            DISPATCHER_METRICS_PORT="0",
            DISPATCHER_METRICS_HOST="127.0.0.1",
            LOG_FORMAT="json",
            OUTBOX_POLL_SECONDS="1",
        )
        env.update({k.upper(): str(v) for k, v in settings.items()})
        proc = DispatcherProcess(env, self.tmp / f"dispatcher-{len(self.started)}.log").start()
        self.started.append(proc)
        return proc

    def stop_all(self) -> None:
        for proc in self.started:
            proc.stop_quietly()


class Db:
    """Direct SQL, as the admin panel (Django) and the bot write it."""

    def __init__(self, url: str) -> None:
        self.url = psycopg_url(url)

    async def execute(self, query: str, params: Any = None) -> list[tuple[Any, ...]]:
        async with await psycopg.AsyncConnection.connect(self.url, autocommit=True) as conn:
            cur = await conn.execute(query, params)  # type: ignore[arg-type]
            return await cur.fetchall() if cur.description else []

    async def scalar(self, query: str, params: Any = None) -> Any:
        rows = await self.execute(query, params)
        return rows[0][0] if rows else None

    async def add_users(
        self, ids: list[int], *, language: str = "en", subscribed: bool = True
    ) -> None:
        async with (
            await psycopg.AsyncConnection.connect(self.url, autocommit=True) as conn,
            conn.cursor() as cur,
        ):
            await cur.executemany(
                "INSERT INTO tg_users (telegram_id, first_name, language, is_subscribed) "
                "VALUES (%s, 'u', %s, %s)",
                [(i, language, subscribed) for i in ids],
            )

    async def add_rows(self, chat_ids: list[int], *, prefix: str = "t") -> None:
        async with (
            await psycopg.AsyncConnection.connect(self.url, autocommit=True) as conn,
            conn.cursor() as cur,
        ):
            await cur.executemany(
                "INSERT INTO outbox (chat_id, method, payload, idempotency_key) "
                "VALUES (%s, 'sendMessage', %s, %s)",
                [
                    (c, json.dumps({"text": f"hello {n}"}), f"{prefix}:{n}")
                    for n, c in enumerate(chat_ids)
                ],
            )

    async def add_broadcast(self, *, status: str = "running", text: str = "news") -> int:
        return int(
            await self.scalar(
                "INSERT INTO broadcasts (title, text, status) VALUES ('b', %s, %s) RETURNING id",
                (text, status),
            )
        )

    async def set_broadcast_status(self, broadcast_id: int, status: str) -> None:
        await self.execute(
            "UPDATE broadcasts SET status = %s WHERE id = %s", (status, broadcast_id)
        )

    async def statuses(self, broadcast_id: int | None = None) -> Counter[str]:
        if broadcast_id is None:
            rows = await self.execute("SELECT status, count(*) FROM outbox GROUP BY status")
        else:
            rows = await self.execute(
                "SELECT status, count(*) FROM outbox WHERE broadcast_id = %s GROUP BY status",
                (broadcast_id,),
            )
        return Counter({status: n for status, n in rows})

    async def broadcast(self, broadcast_id: int) -> dict[str, Any]:
        async with await psycopg.AsyncConnection.connect(self.url, autocommit=True) as conn:
            cur = await conn.execute("SELECT * FROM broadcasts WHERE id = %s", (broadcast_id,))
            row = await cur.fetchone()
            assert row is not None
            assert cur.description is not None
            return {d.name: v for d, v in zip(cur.description, row, strict=True)}


class SandboxControl:
    """The sandbox's control API, over HTTP."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")

    async def _request(self, method: str, path: str, body: Any = None) -> Any:
        async with (
            aiohttp.ClientSession() as http,
            http.request(method, f"{self.base_url}{path}", json=body) as resp,
        ):
            resp.raise_for_status()
            return await resp.json()

    async def reset(self) -> None:
        await self._request("POST", "/sandbox/reset")

    async def faults(self, **faults: Any) -> None:
        await self._request("POST", "/sandbox/faults", faults)

    async def calls(self, chat_id: int | None = None) -> list[dict[str, Any]]:
        query = f"?chat_id={chat_id}" if chat_id is not None else ""
        data = await self._request("GET", f"/sandbox/sent{query}")
        return [c for c in data["calls"] if c["method"] == "sendMessage"]

    async def all_calls(self) -> list[dict[str, Any]]:
        """Every Bot API call the sandbox recorded, whatever its method."""
        return list((await self._request("GET", "/sandbox/sent"))["calls"])

    async def stats(self) -> dict[str, Any]:
        return dict(await self._request("GET", "/sandbox/stats"))

    async def delivered(self) -> list[dict[str, Any]]:
        return [c for c in await self.calls() if c["ok"]]


def per_chat(calls: list[dict[str, Any]]) -> Counter[int]:
    return Counter(int(c["chat_id"]) for c in calls)


def max_in_window(times: list[float], window: float = 1.0) -> int:
    """Most events in any half-open window of ``window`` seconds."""
    times = sorted(times)
    best = start = 0
    for end, t in enumerate(times):
        while times[start] <= t - window:
            start += 1
        best = max(best, end - start + 1)
    return best
