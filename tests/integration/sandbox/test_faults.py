"""Injected faults: blocked and unknown chats, Telegram's rate limits, server errors."""

from __future__ import annotations

import time

import aiohttp
import pytest
from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramRetryAfter,
    TelegramServerError,
)

from tests.support.sandbox import SandboxHandle

USER = 3003


async def test_blocked_user_gets_403_until_unblocked(bot: Bot, sandbox: SandboxHandle) -> None:
    await sandbox.block(USER)

    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await bot.send_message(USER, "are you there?")
    with pytest.raises(TelegramForbiddenError):
        await bot.send_chat_action(USER, "typing")
    await bot.send_message(USER + 1, "others still get messages")

    await sandbox.unblock(USER)
    await bot.send_message(USER, "welcome back")

    calls = await sandbox.sent(chat_id=USER)
    assert [(c["method"], c["error_code"]) for c in calls] == [
        ("sendMessage", 403),
        ("sendChatAction", 403),
        ("sendMessage", None),
    ]


async def test_blocked_chats_fault_works_without_an_update(
    bot: Bot, sandbox: SandboxHandle
) -> None:
    await sandbox.set_faults(blocked_chats=[USER])

    with pytest.raises(TelegramForbiddenError):
        await bot.send_message(USER, "x")


async def test_unknown_chat_is_a_bad_request(bot: Bot, sandbox: SandboxHandle) -> None:
    await sandbox.set_faults(unknown_chats=[USER])

    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.send_message(USER, "hello?")
    assert (await sandbox.sent(chat_id=USER))[0]["error_code"] == 400


async def test_per_chat_rate_gives_429_with_retry_after(bot: Bot, sandbox: SandboxHandle) -> None:
    await sandbox.set_faults(rate_limit=True, per_chat_rate=1, global_rate=30)

    await bot.send_message(USER, "one")
    with pytest.raises(TelegramRetryAfter) as caught:
        await bot.send_message(USER, "two, too soon")

    assert caught.value.retry_after == 1
    stats = await sandbox.stats()
    assert stats["rate_limited"] == 1
    assert stats["errors"] == {"429": 1}
    calls = await sandbox.sent(chat_id=USER)
    assert [c["error_code"] for c in calls] == [None, 429]


async def test_under_the_limits_nothing_is_refused(bot: Bot, sandbox: SandboxHandle) -> None:
    await sandbox.set_faults(rate_limit=True, per_chat_rate=1, global_rate=30)

    for chat in range(100, 130):  # 30 chats, one message each: at both limits, not over
        await bot.send_message(chat, "broadcast")
    await bot.send_chat_action(100, "typing")  # not a message: never counted
    await bot.edit_message_text("edited", chat_id=100, message_id=1)

    stats = await sandbox.stats()
    assert stats["errors"] == {}
    assert stats["sends_ok"] == 30


async def test_global_rate_gives_429_across_chats(bot: Bot, sandbox: SandboxHandle) -> None:
    await sandbox.set_faults(rate_limit=True, global_rate=3, per_chat_rate=10)

    for chat in (1, 2, 3):
        await bot.send_message(chat, "ok")
    with pytest.raises(TelegramRetryAfter) as caught:
        await bot.send_message(4, "over the global limit")

    assert caught.value.retry_after >= 1
    stats = await sandbox.stats()
    assert stats["max_per_second"]["overall"] == 3
    assert stats["max_per_second"]["per_chat"] == 1


async def test_fail_next_gives_server_errors_then_recovers(
    bot: Bot, sandbox: SandboxHandle
) -> None:
    await sandbox.set_faults(fail_next={"count": 2, "status": 500, "method": "sendMessage"})

    assert (await bot.get_me()).id == bot.id  # other methods are not affected
    for _ in range(2):
        with pytest.raises(TelegramServerError):
            await bot.send_message(USER, "x")
    sent = await bot.send_message(USER, "third time lucky")

    assert sent.text == "third time lucky"
    assert (await sandbox.stats())["errors"] == {"500": 2}
    assert (await sandbox.set_faults())["fail_next"] is None


async def test_fail_next_any_method_with_502(bot: Bot, sandbox: SandboxHandle) -> None:
    await sandbox.set_faults(fail_next={"count": 1, "status": 502})

    with pytest.raises(TelegramServerError, match="Bad Gateway"):
        await bot.get_me()
    await bot.get_me()


async def test_latency_delays_answers(bot: Bot, sandbox: SandboxHandle) -> None:
    await sandbox.set_faults(latency_ms=300)

    started = time.monotonic()
    await bot.get_me()

    assert time.monotonic() - started >= 0.3


async def test_invalid_faults_are_refused_and_reset_clears_them(
    http: aiohttp.ClientSession, bot: Bot, sandbox: SandboxHandle
) -> None:
    async with http.post(
        f"{sandbox.base_url}/sandbox/faults", json={"per_chat_rate": -1}
    ) as response:
        assert response.status == 400
    await sandbox.set_faults(blocked_chats=[USER], rate_limit=True)
    await bot.get_me()

    await sandbox.reset()

    faults = await sandbox.set_faults()
    assert faults["blocked_chats"] == []
    assert faults["rate_limit"] is False
    assert await sandbox.sent() == []
    await bot.send_message(USER, "unblocked by reset")
