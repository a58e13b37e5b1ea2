"""A real sandbox on an ephemeral localhost port, for tests that talk HTTP to "Telegram".

Use the ``sandbox`` fixture (re-export it from a conftest: ``from tests.support.sandbox import
sandbox``), or ``start_sandbox(**config)`` for other settings. Point the bot at
``TELEGRAM_API_BASE=handle.base_url`` with token ``handle.token``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from aiohttp import web

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
    http: aiohttp.ClientSession

    @property
    def api_url(self) -> str:
        """The Bot API root for this token, e.g. ``.../bot<token>/``."""
        return f"{self.base_url}/bot{self.token}/"

    async def _json(
        self, verb: str, path: str, body: Any = None, params: dict[str, Any] | None = None
    ) -> Any:
        async with self.http.request(
            verb, f"{self.base_url}{path}", json=body, params=params
        ) as response:
            data = await response.json()
            if response.status >= 400:
                raise AssertionError(f"{verb} {path} -> {response.status}: {data}")
            return data

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


@asynccontextmanager
async def start_sandbox(token: str = TEST_TOKEN, **config: Any) -> AsyncIterator[SandboxHandle]:
    """Serve the sandbox on 127.0.0.1:<ephemeral port> over real sockets."""
    bot_id = int(token.split(":", 1)[0])
    settings = SandboxConfig(**{**TEST_CONFIG, "sandbox_bot_id": bot_id, **config})
    runner = web.AppRunner(create_app(settings), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        async with aiohttp.ClientSession() as http:
            yield SandboxHandle(base_url=f"http://127.0.0.1:{port}", token=token, http=http)
    finally:
        await runner.cleanup()


@pytest.fixture
async def sandbox() -> AsyncIterator[SandboxHandle]:
    """A fresh sandbox per test."""
    async with start_sandbox() as handle:
        yield handle
