"""A real sandbox on an ephemeral localhost port, for tests that talk HTTP to "Telegram".

Use the ``sandbox`` fixture (re-export it from a conftest: ``from tests.support.sandbox import
sandbox``), or ``with start_sandbox(**config) as handle`` for other settings. The server runs on
its own loop in a thread, so sync tests and child processes can use it as well as async tests.
Point the bot at ``TELEGRAM_API_BASE=handle.base_url`` with token ``handle.token``; the helper
methods are coroutines (one short-lived HTTP client each, so any loop may call them).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest

from tests.support.serving import AppThread
from tests.support.waiting import async_wait_until
from tgbot.sandbox.config import SandboxConfig
from tgbot.sandbox.server import create_app

TEST_TOKEN = "123456789:SANDBOX-test_token"
# Webhook retries fast in tests; everything else as in production.
TEST_CONFIG: dict[str, Any] = {
    "sandbox_webhook_attempts": 3,
    "sandbox_webhook_retry_delay": 0.01,
    "sandbox_webhook_max_delay": 0.05,
    "sandbox_webhook_timeout": 5.0,
}

Call = dict[str, Any]


@dataclass
class SandboxHandle:
    """A running sandbox and helpers for its control API (all over real HTTP)."""

    base_url: str
    token: str

    @property
    def api_url(self) -> str:
        """The Bot API root for this token, e.g. ``.../bot<token>/``."""
        return f"{self.base_url}/bot{self.token}/"

    async def _json(
        self, verb: str, path: str, body: Any = None, params: dict[str, Any] | None = None
    ) -> Any:
        status, data = await self.request(verb, path, json=body, params=params)
        if status >= 400:
            raise AssertionError(f"{verb} {path} -> {status}: {data}")
        return data

    async def request(self, verb: str, path: str, **kwargs: Any) -> tuple[int, Any]:
        """Any request to the sandbox (``path`` from the root): (HTTP status, JSON or text)."""
        async with (
            aiohttp.ClientSession() as http,
            http.request(verb, f"{self.base_url}{path}", **kwargs) as response,
        ):
            if response.content_type == "application/json":
                return response.status, await response.json()
            return response.status, await response.text()

    async def send_user_message(
        self,
        user_id: int,
        text: str = "",
        *,
        first_name: str | None = None,
        username: str | None = None,
        language_code: str | None = None,
        photo: bool = False,
        wait: bool = True,
    ) -> dict[str, Any]:
        """A user writes to the bot; returns update_id, message_id, delivered, status."""
        body = {
            "text": text,
            "first_name": first_name,
            "username": username,
            "language_code": language_code,
            "photo": photo,
            "wait": wait,
        }
        return dict(
            await self._json(
                "POST",
                f"/sandbox/users/{user_id}/messages",
                {k: v for k, v in body.items() if v is not None},
            )
        )

    async def press_button(
        self, user_id: int, message_id: int, data: str, *, wait: bool = True
    ) -> dict[str, Any]:
        """The user presses an inline button (a callback_query update)."""
        body = {"message_id": message_id, "data": data, "wait": wait}
        return dict(await self._json("POST", f"/sandbox/users/{user_id}/callback", body))

    async def block(self, user_id: int) -> dict[str, Any]:
        return dict(await self._json("POST", f"/sandbox/users/{user_id}/block"))

    async def unblock(self, user_id: int) -> dict[str, Any]:
        return dict(await self._json("POST", f"/sandbox/users/{user_id}/unblock"))

    async def post_update(self, update: dict[str, Any]) -> dict[str, Any]:
        """Deliver a raw (possibly hostile) Update as is."""
        return dict(await self._json("POST", "/sandbox/updates", update))

    async def sent(
        self, *, chat_id: int | None = None, method: str | None = None, after: int = 0
    ) -> list[Call]:
        """Bot API calls the bot made, oldest first (rejected ones too, with error_code)."""
        params: dict[str, Any] = {"after": after}
        if chat_id is not None:
            params["chat_id"] = chat_id
        if method is not None:
            params["method"] = method
        data = await self._json("GET", "/sandbox/sent", params=params)
        return list(data["calls"])

    async def wait_for_sent(
        self,
        predicate: Callable[[list[Call]], bool] = bool,
        *,
        timeout: float = 10.0,
        **filters: Any,
    ) -> list[Call]:
        """The recorded calls once ``predicate(calls)`` holds (fails after ``timeout``)."""

        async def ready() -> list[Call] | None:
            calls = await self.sent(**filters)
            return calls if predicate(calls) else None

        result = await async_wait_until(ready, timeout=timeout, what=f"sandbox calls {filters}")
        assert result is not None
        return result

    async def set_faults(self, **faults: Any) -> dict[str, Any]:
        """Merge faults: blocked_chats, unknown_chats, rate_limit, global_rate, per_chat_rate,
        fail_next={"count", "status", "method"}, latency_ms."""
        return dict(await self._json("POST", "/sandbox/faults", faults))

    async def stats(self) -> dict[str, Any]:
        return dict(await self._json("GET", "/sandbox/stats"))

    async def chat(self, chat_id: int) -> list[dict[str, Any]]:
        """The chat's messages as its user sees them now (edits applied), oldest first."""
        data = await self._json("GET", f"/sandbox/chats/{chat_id}/messages")
        return list(data["messages"])

    async def webhook_info(self) -> dict[str, Any]:
        return dict(await self._json("GET", "/sandbox/webhook"))

    async def reset(self) -> None:
        await self._json("POST", "/sandbox/reset")


class SandboxThread(AppThread):
    """The sandbox app served by its own event loop in a daemon thread (see AppThread)."""

    def __init__(self, settings: SandboxConfig) -> None:
        super().__init__(lambda: create_app(settings), name="sandbox")
        self.settings = settings


@contextmanager
def start_sandbox(token: str = TEST_TOKEN, **config: Any) -> Iterator[SandboxHandle]:
    """Serve a sandbox on 127.0.0.1:<ephemeral port>; ``config`` overrides SandboxConfig."""
    bot_id = int(token.split(":", 1)[0])
    settings = SandboxConfig(**{**TEST_CONFIG, "sandbox_bot_id": bot_id, **config})
    server = SandboxThread(settings)
    server.start()
    try:
        yield SandboxHandle(base_url=f"http://127.0.0.1:{server.port}", token=token)
    finally:
        server.stop()


@pytest.fixture
def sandbox() -> Iterator[SandboxHandle]:
    """A fresh sandbox per test (usable from sync and async tests)."""
    with start_sandbox() as handle:
        yield handle


@pytest.fixture(scope="session")
def shared_sandbox() -> Iterator[SandboxHandle]:
    """One sandbox for the whole session: call ``await handle.reset()`` between tests."""
    with start_sandbox() as handle:
        yield handle
