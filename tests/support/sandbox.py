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
        media: str | None = None,
        wait: bool = True,
    ) -> dict[str, Any]:
        """A user writes to the bot; returns update_id, message_id, delivered, status.

        ``media`` ("photo", "document", "video", "animation", "voice", "audio", "sticker",
        "video_note") sends a small placeholder file of that kind, ``text`` as its caption.
        """
        body = {
            "text": text,
            "first_name": first_name,
            "username": username,
            "language_code": language_code,
            "photo": photo,
            "media": media,
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
        self,
        *,
        chat_id: int | None = None,
        method: str | None = None,
        after: int = 0,
        message_thread_id: int | None = None,
    ) -> list[Call]:
        """Bot API calls the bot made, oldest first (rejected ones too, with error_code)."""
        params: dict[str, Any] = {"after": after}
        if chat_id is not None:
            params["chat_id"] = chat_id
        if message_thread_id is not None:
            params["message_thread_id"] = message_thread_id
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

    # --- supergroups and forum topics (staff) -------------------------------------------
    async def create_group(
        self,
        *,
        chat_id: int | None = None,
        title: str = "Staff",
        members: list[dict[str, Any]] | None = None,
        **fields: Any,
    ) -> dict[str, Any]:
        """A forum supergroup with the bot as an admin that manages topics (unless ``fields``
        say otherwise: is_forum, bot_status, bot_can_manage_topics, bot_can_delete_messages).
        ``members``: ``[{"user_id", "first_name"?, "username"?, "status"?}]``. Returns the
        group as ``GET /sandbox/groups/{id}`` shows it (``["chat"]["id"]`` is its id)."""
        body: dict[str, Any] = {"title": title, "members": members or [], **fields}
        if chat_id is not None:
            body["chat_id"] = chat_id
        return dict(await self._json("POST", "/sandbox/groups", body))

    async def group(self, chat_id: int) -> dict[str, Any]:
        """chat, bot, members, topics (with is_closed, is_deleted, message_count), message_count."""
        return dict(await self._json("GET", f"/sandbox/groups/{chat_id}"))

    async def add_member(self, chat_id: int, user_id: int, **fields: Any) -> dict[str, Any]:
        body = {"user_id": user_id, **fields}
        return dict(await self._json("POST", f"/sandbox/groups/{chat_id}/members", body))

    async def staff_message(
        self,
        chat_id: int,
        user_id: int,
        text: str = "",
        *,
        message_thread_id: int | None = None,
        media: str | None = None,
        reply_to_message_id: int | None = None,
        wait: bool = True,
    ) -> dict[str, Any]:
        """A member writes in the group (into a topic when ``message_thread_id`` is given)."""
        body: dict[str, Any] = {"user_id": user_id, "text": text, "wait": wait}
        for name, value in (
            ("message_thread_id", message_thread_id),
            ("media", media),
            ("reply_to_message_id", reply_to_message_id),
        ):
            if value is not None:
                body[name] = value
        return dict(await self._json("POST", f"/sandbox/groups/{chat_id}/messages", body))

    async def topic_action(
        self, chat_id: int, thread_id: int, action: str, *, user_id: int | None = None
    ) -> dict[str, Any]:
        """A group administrator closes, reopens or deletes a topic (``action``)."""
        body = {} if user_id is None else {"user_id": user_id}
        path = f"/sandbox/groups/{chat_id}/topics/{thread_id}/{action}"
        return dict(await self._json("POST", path, body))

    async def topic_messages(self, chat_id: int, thread_id: int) -> list[dict[str, Any]]:
        """What is in a topic now, oldest first (its forum_topic_created message included)."""
        data = await self._json(
            "GET", f"/sandbox/chats/{chat_id}/messages", params={"message_thread_id": thread_id}
        )
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
