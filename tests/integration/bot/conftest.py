"""A real `tgbot serve` process wired to the Bot API sandbox, PostgreSQL and Redis."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
import redis

from tests.support.processes import ServiceProcess, base_env, free_port
from tests.support.services import psycopg_url
from tests.support.waiting import wait_until

WEBHOOK_SECRET = "test-secret_123"


@dataclass
class SandboxClient:
    """The user side of the sandbox's control API (docs/sandbox.md)."""

    base_url: str

    def message(self, user_id: int, text: str, **fields: Any) -> dict[str, Any]:
        body = {"text": text, "first_name": f"User{user_id}", **fields}
        response = httpx.post(
            f"{self.base_url}/sandbox/users/{user_id}/messages", json=body, timeout=30
        )
        response.raise_for_status()
        return dict(response.json())

    def press(self, user_id: int, message_id: int, data: str) -> dict[str, Any]:
        response = httpx.post(
            f"{self.base_url}/sandbox/users/{user_id}/callback",
            json={"message_id": message_id, "data": data},
            timeout=30,
        )
        response.raise_for_status()
        return dict(response.json())

    def block(self, user_id: int, blocked: bool = True) -> dict[str, Any]:
        action = "block" if blocked else "unblock"
        response = httpx.post(f"{self.base_url}/sandbox/users/{user_id}/{action}", timeout=30)
        response.raise_for_status()
        return dict(response.json())

    def sent(self, chat_id: int | None = None, method: str | None = None) -> list[dict[str, Any]]:
        params = {k: str(v) for k, v in {"chat_id": chat_id, "method": method}.items() if v}
        response = httpx.get(f"{self.base_url}/sandbox/sent", params=params, timeout=10)
        response.raise_for_status()
        return list(response.json()["calls"])

    def faults(self, **faults: Any) -> None:
        httpx.post(f"{self.base_url}/sandbox/faults", json=faults, timeout=10).raise_for_status()

    def texts_to(self, chat_id: int) -> list[str]:
        return [c["params"].get("text", "") for c in self.sent(chat_id) if c["ok"]]


@dataclass
class Bot:
    url: str
    webhook_url: str
    db_url: str
    process: ServiceProcess

    def post_update(
        self, update: dict[str, Any] | bytes, secret: str | None = WEBHOOK_SECRET, **kw: Any
    ) -> httpx.Response:
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
        if isinstance(update, bytes):
            return httpx.post(self.webhook_url, content=update, headers=headers, timeout=30, **kw)
        return httpx.post(self.webhook_url, json=update, headers=headers, timeout=30, **kw)

    def query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        with psycopg.connect(psycopg_url(self.db_url)) as conn:
            return conn.execute(sql, params).fetchall()

    def execute(self, sql: str, *params: Any) -> None:
        with psycopg.connect(psycopg_url(self.db_url)) as conn:
            conn.execute(sql, params)


def bot_env(
    db_url: str, redis_url: str, sandbox_url: str, token: str, port: int, **extra: str
) -> dict[str, str]:
    settings = {
        "DATABASE_URL": db_url,
        "REDIS_URL": redis_url,
        "TELEGRAM_BOT_TOKEN": token,
        "TELEGRAM_API_BASE": sandbox_url,
        "TELEGRAM_API_ALLOW_HTTP": "true",
        "WEBHOOK_URL": f"http://127.0.0.1:{port}/telegram/webhook",
        "WEBHOOK_SECRET": WEBHOOK_SECRET,
        "WEBHOOK_REGISTER_ON_START": "true",
        "HTTP_HOST": "127.0.0.1",
        "HTTP_PORT": str(port),
        "TEXTS_CACHE_SECONDS": "0.5",
        "THROTTLE_LIMIT": "5",
        "THROTTLE_WINDOW_SECONDS": "3600",
        "LOG_FORMAT": "json",
    }
    return base_env(**{**settings, **extra})  # ``extra`` may override the defaults above


def start_bot(tmp: Path, db_url: str, redis_url: str, sandbox: Any, **extra: str) -> Bot:
    port = free_port()
    env = bot_env(db_url, redis_url, sandbox.base_url, sandbox.token, port, **extra)
    process = ServiceProcess(["serve"], env, tmp / f"bot-{port}.log").start()
    url = f"http://127.0.0.1:{port}"
    process.wait_http(f"{url}/readyz")
    return Bot(url=url, webhook_url=f"{url}/telegram/webhook", db_url=db_url, process=process)


@dataclass
class SandboxProcess:
    base_url: str
    token: str
    process: ServiceProcess


SANDBOX_TOKEN = "123456789:SANDBOX-bot_tests"


def start_sandbox_process(log_dir: Path, **settings: str) -> SandboxProcess:
    """`tgbot sandbox` as its own process; ``settings`` override the SANDBOX_* defaults here."""
    port = free_port()
    defaults = {
        "SANDBOX_HOST": "127.0.0.1",
        "SANDBOX_PORT": str(port),
        "SANDBOX_WEBHOOK_ATTEMPTS": "5",
        "SANDBOX_WEBHOOK_RETRY_DELAY": "0.05",
        "SANDBOX_WEBHOOK_MAX_DELAY": "0.2",
        "SANDBOX_RATE_LIMIT": "false",
        "LOG_FORMAT": "json",
    }
    env = base_env(**{**defaults, **settings})
    process = ServiceProcess(["sandbox"], env, log_dir / "sandbox.log")
    process.start()
    url = f"http://127.0.0.1:{port}"
    process.wait_http(f"{url}/healthz")
    return SandboxProcess(base_url=url, token=SANDBOX_TOKEN, process=process)


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxProcess]:
    """`tgbot sandbox` as its own process (the bot tests are synchronous HTTP clients)."""
    handle = start_sandbox_process(tmp_path_factory.mktemp("sandbox"))
    yield handle
    handle.process.stop()


@pytest.fixture(scope="session")
def bot(
    migrated_db_url: str,
    redis_url: str,
    sandbox: SandboxProcess,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Bot]:
    # This sandbox numbers its updates from 1, like every sandbox before it in the session: the
    # session's Redis would take them for duplicates of those (dedup keys are per update_id).
    flush_redis(redis_url)
    service = start_bot(tmp_path_factory.mktemp("bot"), migrated_db_url, redis_url, sandbox)
    yield service
    service.process.stop()


def flush_redis(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    try:
        client.flushdb()
    finally:
        client.close()


def point_webhook_at(sandbox: SandboxProcess, bot: Bot) -> None:
    """Make ``bot`` the sandbox webhook again (other tests start bots that register themselves)."""
    response = httpx.post(
        f"{sandbox.base_url}/bot{sandbox.token}/setWebhook",
        json={"url": bot.webhook_url, "secret_token": WEBHOOK_SECRET},
        timeout=10,
    )
    assert response.json()["ok"] is True, response.text


@pytest.fixture
def user_side(sandbox: SandboxProcess, bot: Bot) -> SandboxClient:
    """The sandbox with the session's bot registered as its webhook."""
    point_webhook_at(sandbox, bot)
    return SandboxClient(sandbox.base_url)


def wait_for_text(client: SandboxClient, chat_id: int, needle: str, timeout: float = 10) -> str:
    return wait_until(
        lambda: next((t for t in client.texts_to(chat_id) if needle in t), None),
        timeout=timeout,
        what=f"a message containing {needle!r} to chat {chat_id}",
    )
