"""The control API's recordings and the web chat page."""

from __future__ import annotations

import json
import urllib.request

import aiohttp
import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest

from tests.support.sandbox import SandboxHandle

USER = 4004


async def test_sent_records_every_call_in_order_with_filters(
    bot: Bot, sandbox: SandboxHandle
) -> None:
    await bot.get_me()
    await bot.send_message(USER, "a")
    await bot.send_message(USER + 1, "b")
    await bot.send_chat_action(USER, "typing")

    every = await sandbox.sent()
    mine = await sandbox.sent(chat_id=USER)
    messages = await sandbox.sent(method="sendMessage")
    later = await sandbox.sent(after=every[1]["seq"])

    assert [c["method"] for c in every] == ["getMe", "sendMessage", "sendMessage", "sendChatAction"]
    assert [c["seq"] for c in every] == sorted(c["seq"] for c in every)
    assert [c["method"] for c in mine] == ["sendMessage", "sendChatAction"]
    assert [c["params"]["text"] for c in messages] == ["a", "b"]
    assert later == every[2:]
    first = every[1]
    assert first["chat_id"] == USER
    assert first["ok"] is True
    assert first["error_code"] is None
    assert isinstance(first["time"], float)
    assert first["result"]["text"] == "a"


async def test_stats_count_calls_errors_and_peak_rates(bot: Bot, sandbox: SandboxHandle) -> None:
    await bot.send_message(USER, "1")
    await bot.send_message(USER, "2")
    await bot.send_message(USER + 1, "3")
    await sandbox.set_faults(unknown_chats=[USER + 2])
    with pytest.raises(TelegramBadRequest):
        await bot.send_message(USER + 2, "4")

    stats = await sandbox.stats()

    assert stats["calls"] == 4
    assert stats["ok"] == 3
    assert stats["errors"] == {"400": 1}
    assert stats["max_per_second"]["per_chat"] == 2  # no rate limit enforced by default
    assert stats["max_per_second"]["by_chat"] == {str(USER): 2, str(USER + 1): 1}
    assert stats["max_per_second"]["overall"] == 3
    assert stats["max_attempts_per_second"] == 4


async def test_user_message_with_photo_and_profile(bot: Bot, sandbox: SandboxHandle) -> None:
    await sandbox.send_user_message(USER, "look", photo=True, first_name="Bob", username="bob")

    [update] = await bot.get_updates()

    message = update.message
    assert message is not None
    assert message.photo is not None
    assert message.caption == "look"
    assert message.text is None
    assert message.from_user is not None
    assert message.from_user.username == "bob"
    assert message.chat.first_name == "Bob"


async def test_control_api_rejects_bad_input(
    http: aiohttp.ClientSession, sandbox: SandboxHandle
) -> None:
    url = f"{sandbox.base_url}/sandbox/users"
    async with http.post(f"{url}/0/messages", json={"text": "x"}) as response:
        assert response.status == 400
    async with http.post(f"{url}/5/messages", json={"txt": "x"}) as response:
        assert response.status == 400
    async with http.post(f"{url}/5/callback", json={"message_id": 9, "data": "x"}) as r:
        assert r.status == 404
    async with http.post(f"{sandbox.base_url}/sandbox/updates", json=[1]) as response:
        assert response.status == 400


async def test_chat_page_is_a_self_contained_web_chat(
    http: aiohttp.ClientSession, sandbox: SandboxHandle
) -> None:
    async with http.get(sandbox.base_url + "/") as response:
        assert response.status == 200
        assert response.content_type == "text/html"
        page = await response.text()

    for element in (
        'id="user-id"',
        'id="first-name"',
        'id="language"',
        'id="text"',
        'id="send"',
        'id="messages"',
        'id="block"',
        "/sandbox/chats/",
        "/sandbox/sent",
        "/callback",
        "inline_keyboard",
    ):
        assert element in page, element
    assert "http://" not in page
    assert "https://" not in page
    assert "innerHTML" not in page  # bot text is shown as text, never as markup


async def test_chat_view_follows_sends_and_edits(bot: Bot, sandbox: SandboxHandle) -> None:
    await sandbox.send_user_message(USER, "/start")
    sent = await bot.send_message(USER, "Menu")
    await bot.edit_message_text("Menu (updated)", chat_id=USER, message_id=sent.message_id)

    view = await sandbox.chat(USER)

    assert [(m["from"]["is_bot"], m.get("text")) for m in view] == [
        (False, "/start"),
        (True, "Menu (updated)"),
    ]


def test_fixture_serves_sync_tests_too(sandbox: SandboxHandle) -> None:
    """Sync tests (and processes they start) reach the sandbox: it has its own loop."""
    request = urllib.request.Request(  # noqa: S310 - a local http URL
        f"{sandbox.api_url}sendMessage",
        data=json.dumps({"chat_id": USER, "text": "from a sync test"}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - local URL
        body = json.load(response)

    assert body["ok"] is True
    assert body["result"]["text"] == "from a sync test"
