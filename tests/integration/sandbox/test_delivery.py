"""Updates reach the bot by webhook (with Telegram-like retries) or by getUpdates."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramConflictError
from aiohttp import web

from tests.support.sandbox import SandboxHandle
from tests.support.waiting import async_wait_until

USER = 2002
SECRET = "hook-secret_1"


@dataclass
class Receiver:
    """A tiny webhook endpoint: answers with scripted statuses, records what it got."""

    url: str = ""
    statuses: list[int] = field(default_factory=list)
    reply: dict[str, Any] | None = None
    received: list[tuple[dict[str, str], dict[str, Any]]] = field(default_factory=list)

    def has(self, n: int) -> Callable[[], Awaitable[bool]]:
        async def check() -> bool:
            return len(self.received) >= n

        return check

    async def handle(self, request: web.Request) -> web.Response:
        self.received.append((dict(request.headers), await request.json()))
        status = self.statuses.pop(0) if self.statuses else 200
        if status == 200 and self.reply is not None:
            return web.json_response(self.reply)
        return web.Response(status=status)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    rec = Receiver()
    app = web.Application()
    app.router.add_post("/hook", rec.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    rec.url = f"http://127.0.0.1:{runner.addresses[0][1]}/hook"
    yield rec
    await runner.cleanup()


async def test_webhook_gets_the_update_with_the_secret_header(
    bot: Bot, sandbox: SandboxHandle, receiver: Receiver
) -> None:
    await bot.set_webhook(receiver.url, secret_token=SECRET)

    outcome = await sandbox.send_user_message(USER, "/start ref42", language_code="ru")

    assert outcome["delivered"] is True
    assert outcome["status"] == 200
    [(headers, update)] = receiver.received
    assert headers["X-Telegram-Bot-Api-Secret-Token"] == SECRET
    assert update["update_id"] == outcome["update_id"]
    message = update["message"]
    assert message["text"] == "/start ref42"
    assert message["entities"] == [{"type": "bot_command", "offset": 0, "length": 6}]
    assert message["from"]["language_code"] == "ru"


async def test_non_2xx_is_retried_then_delivered_once(
    bot: Bot, sandbox: SandboxHandle, receiver: Receiver
) -> None:
    await bot.set_webhook(receiver.url, secret_token=SECRET)
    receiver.statuses = [500, 502]

    outcome = await sandbox.send_user_message(USER, "hello")

    assert outcome == {**outcome, "delivered": True, "status": 200}
    ids = [update["update_id"] for _, update in receiver.received]
    assert ids == [outcome["update_id"]] * 3  # two failures, one success, no more
    assert all(h["X-Telegram-Bot-Api-Secret-Token"] == SECRET for h, _ in receiver.received)
    info = await bot.get_webhook_info()
    assert info.last_error_message == "Wrong response from the webhook: 502 Bad Gateway"


async def test_update_is_dropped_after_the_configured_attempts(
    bot: Bot, sandbox: SandboxHandle, receiver: Receiver
) -> None:
    await bot.set_webhook(receiver.url)
    receiver.statuses = [500, 500, 500]  # the test sandbox tries 3 times

    outcome = await sandbox.send_user_message(USER, "lost")
    later = await sandbox.send_user_message(USER, "next")

    assert outcome["delivered"] is False
    assert outcome["status"] == 500
    assert later["delivered"] is True
    assert len(receiver.received) == 4
    assert "X-Telegram-Bot-Api-Secret-Token" not in receiver.received[0][0]


async def test_unreachable_webhook_counts_as_a_connection_error(
    bot: Bot, sandbox: SandboxHandle, receiver: Receiver
) -> None:
    closed_port_url = receiver.url.rsplit(":", 1)[0] + ":9/hook"
    await bot.set_webhook(closed_port_url)

    outcome = await sandbox.send_user_message(USER, "anyone?")

    assert outcome["delivered"] is False
    assert outcome["status"] is None
    info = await bot.get_webhook_info()
    assert info.last_error_message is not None
    assert info.last_error_message.startswith("Connection failed")


async def test_webhook_gets_at_most_max_connections_requests_at_once(
    bot: Bot, sandbox: SandboxHandle
) -> None:
    open_now = most = 0

    async def slow_hook(request: web.Request) -> web.Response:
        nonlocal open_now, most
        open_now += 1
        most = max(most, open_now)
        await asyncio.sleep(0.05)  # the webhook's own work, so requests overlap
        open_now -= 1
        return web.Response()

    app = web.Application()
    app.router.add_post("/hook", slow_hook)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        await bot.set_webhook(f"http://127.0.0.1:{runner.addresses[0][1]}/hook", max_connections=2)
        outcomes = await asyncio.gather(
            *(sandbox.send_user_message(USER + n, "hi") for n in range(8))
        )
    finally:
        await runner.cleanup()
    assert all(o["delivered"] for o in outcomes)
    assert most == 2


async def test_stats_count_every_webhook_post_retries_included(
    bot: Bot, sandbox: SandboxHandle, receiver: Receiver
) -> None:
    await bot.set_webhook(receiver.url)
    receiver.statuses = [503, 500, 200, 500, 500, 500]

    await sandbox.send_user_message(USER, "retried, then delivered")
    await sandbox.send_user_message(USER, "dropped after 3 attempts")

    webhook = (await sandbox.stats())["webhook"]
    # the delivered update waited for two retries (0.01 s, then 0.02 s) before its 2xx
    assert webhook.pop("longest_ack_seconds") >= 0.03
    assert webhook == {
        "updates": 2,
        "posts": 6,
        "retries": 4,
        "accepted": 1,
        "dropped": 1,
        "connection_errors": 0,
        "by_status": {"200": 1, "500": 4, "503": 1},
        "status_5xx": 5,
        "non_2xx": 5,
    }
    await bot.set_webhook(receiver.url.rsplit(":", 1)[0] + ":9/hook")
    await sandbox.send_user_message(USER, "nobody listens")
    assert (await sandbox.stats())["webhook"]["connection_errors"] == 3
    await sandbox.reset()
    assert (await sandbox.stats())["webhook"]["posts"] == 0


async def test_updates_of_one_chat_arrive_in_order(
    bot: Bot, sandbox: SandboxHandle, receiver: Receiver
) -> None:
    await bot.set_webhook(receiver.url)
    receiver.statuses = [500]  # the first update needs a retry; the others must wait for it

    outcomes = [await sandbox.send_user_message(USER, str(i), wait=False) for i in range(5)]

    await async_wait_until(receiver.has(6), what="all updates delivered")
    texts = [u["message"]["text"] for _, u in receiver.received]
    assert texts == ["0", "0", "1", "2", "3", "4"]
    assert all(o["queued"] for o in outcomes)


async def test_webhook_reply_with_a_method_is_executed(
    bot: Bot, sandbox: SandboxHandle, receiver: Receiver
) -> None:
    await bot.set_webhook(receiver.url)
    receiver.reply = {"method": "sendMessage", "chat_id": USER, "text": "from the reply"}

    await sandbox.send_user_message(USER, "hi")

    calls = await sandbox.sent(chat_id=USER, method="sendMessage")
    assert [(c["params"]["text"], c["ok"]) for c in calls] == [("from the reply", True)]


async def test_raw_update_is_delivered_as_is(
    bot: Bot, sandbox: SandboxHandle, receiver: Receiver
) -> None:
    await bot.set_webhook(receiver.url)
    hostile = {"message": {"message_id": "not-a-number", "chat": None, "text": "\u0000" * 3}}

    outcome = await sandbox.post_update(hostile)
    await sandbox.post_update({"update_id": 10_000, "unknown_kind": {}})
    after = await sandbox.send_user_message(USER, "normal")

    assert outcome["delivered"] is True
    got = [u for _, u in receiver.received]
    assert got[0] == {**hostile, "update_id": outcome["update_id"]}
    assert got[1] == {"update_id": 10_000, "unknown_kind": {}}
    assert after["update_id"] > 10_000  # ids stay increasing after an explicit one


async def test_get_updates_offset_semantics(bot: Bot, sandbox: SandboxHandle) -> None:
    ids = [(await sandbox.send_user_message(USER, t))["update_id"] for t in ("a", "b", "c")]

    first = await bot.get_updates()
    assert [u.update_id for u in first] == ids
    assert [u.message.text for u in first if u.message] == ["a", "b", "c"]

    # Confirming by offset drops older updates for good.
    assert [u.update_id for u in await bot.get_updates(offset=ids[1])] == ids[1:]
    assert [u.update_id for u in await bot.get_updates()] == ids[1:]
    assert await bot.get_updates(offset=ids[2] + 1) == []
    assert await bot.get_updates() == []
    info = await bot.get_webhook_info()
    assert info.pending_update_count == 0


async def test_get_updates_limit_and_allowed_updates(bot: Bot, sandbox: SandboxHandle) -> None:
    sent = await bot.send_message(USER, "pick", reply_markup=None)
    await sandbox.send_user_message(USER, "text")
    await sandbox.press_button(USER, sent.message_id, "x")

    only_one = await bot.get_updates(limit=1)
    callbacks = await bot.get_updates(allowed_updates=["callback_query"])

    assert len(only_one) == 1
    assert only_one[0].message is not None
    assert [u.callback_query.data for u in callbacks if u.callback_query] == ["x"]


async def test_long_poll_returns_when_an_update_arrives(bot: Bot, sandbox: SandboxHandle) -> None:
    poll = asyncio.create_task(bot.get_updates(timeout=20))
    await async_wait_until(polls_waiting(sandbox, 1), what="the long poll waits")
    outcome = await sandbox.send_user_message(USER, "wake up")

    updates = await asyncio.wait_for(poll, timeout=10)

    assert [u.update_id for u in updates] == [outcome["update_id"]]


def polls_waiting(sandbox: SandboxHandle, n: int) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return bool((await sandbox.stats())["long_polls_waiting"] == n)

    return check


async def test_a_second_long_poll_terminates_the_first(bot: Bot, sandbox: SandboxHandle) -> None:
    first = asyncio.create_task(bot.get_updates(timeout=20))
    await async_wait_until(polls_waiting(sandbox, 1), what="the first long poll waits")
    second = asyncio.create_task(bot.get_updates(timeout=0))

    await second
    with pytest.raises(TelegramConflictError):
        await asyncio.wait_for(first, timeout=10)


async def test_get_updates_conflicts_with_a_webhook(bot: Bot, receiver: Receiver) -> None:
    await bot.set_webhook(receiver.url)

    with pytest.raises(TelegramConflictError, match="webhook is active"):
        await bot.get_updates()


async def test_set_webhook_hands_over_waiting_updates(
    bot: Bot, sandbox: SandboxHandle, receiver: Receiver
) -> None:
    queued = await sandbox.send_user_message(USER, "while polling")
    assert queued["queued"] is True

    await bot.set_webhook(receiver.url)

    await async_wait_until(receiver.has(1), what="handover to the webhook")
    assert receiver.received[0][1]["update_id"] == queued["update_id"]


async def test_block_and_unblock_send_my_chat_member(bot: Bot, sandbox: SandboxHandle) -> None:
    await sandbox.send_user_message(USER, "hi")
    await sandbox.block(USER)
    await sandbox.unblock(USER)

    updates = await bot.get_updates()

    members = [u.my_chat_member for u in updates if u.my_chat_member]
    statuses = [(m.old_chat_member.status, m.new_chat_member.status) for m in members]
    assert statuses == [("member", "kicked"), ("kicked", "member")]
    assert members[0].new_chat_member.user.id == bot.id
    assert members[0].chat.id == USER
