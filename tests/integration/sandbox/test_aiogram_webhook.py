"""A real aiogram Dispatcher fed by the sandbox, by webhook and by long polling, over HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from aiogram import Bot, Dispatcher, F
from aiogram.filters import CommandObject, CommandStart
from aiogram.methods import SendMessage
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web

from tests.support.sandbox import SandboxHandle

SECRET = "dispatcher-secret"
USER = 5005


def build_dispatcher() -> Dispatcher:
    dp = Dispatcher()

    @dp.message(CommandStart())
    async def start(message: Message, command: CommandObject) -> None:
        keyboard = InlineKeyboardMarkup(
            inline_keyboard=[[InlineKeyboardButton(text="Like", callback_data="like")]]
        )
        await message.answer(f"Welcome, payload {command.args}", reply_markup=keyboard)

    @dp.message(F.text == "ping")
    async def ping(message: Message) -> SendMessage:
        return message.answer("pong")  # answered in the webhook response

    @dp.callback_query(F.data == "like")
    async def like(query: CallbackQuery) -> None:
        assert isinstance(query.message, Message)
        await query.message.edit_text("Liked")
        await query.answer("Thanks")

    return dp


@pytest.fixture
async def webhook_url(bot: Bot) -> AsyncIterator[str]:
    app = web.Application()
    SimpleRequestHandler(
        build_dispatcher(), bot, secret_token=SECRET, handle_in_background=False
    ).register(app, path="/webhook")
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    yield f"http://127.0.0.1:{runner.addresses[0][1]}/webhook"
    await runner.cleanup()


async def test_start_button_and_edit_through_a_real_dispatcher(
    bot: Bot, sandbox: SandboxHandle, webhook_url: str
) -> None:
    await bot.set_webhook(webhook_url, secret_token=SECRET)

    started = await sandbox.send_user_message(USER, "/start promo", first_name="Eve")
    [welcome] = await sandbox.sent(chat_id=USER, method="sendMessage")
    pressed = await sandbox.press_button(USER, welcome["result"]["message_id"], "like")

    assert started["delivered"] is True
    assert welcome["params"]["text"] == "Welcome, payload promo"
    assert pressed["delivered"] is True
    [edit] = await sandbox.sent(chat_id=USER, method="editMessageText")
    assert edit["ok"] is True
    [answer] = await sandbox.sent(chat_id=USER, method="answerCallbackQuery")
    assert answer["ok"] is True
    assert answer["params"]["text"] == "Thanks"
    assert [m.get("text") for m in await sandbox.chat(USER)] == ["/start promo", "Liked"]


async def test_reply_in_the_webhook_response_is_executed(
    bot: Bot, sandbox: SandboxHandle, webhook_url: str
) -> None:
    await bot.set_webhook(webhook_url, secret_token=SECRET)

    await sandbox.send_user_message(USER, "ping")

    [reply] = await sandbox.sent(chat_id=USER, method="sendMessage")
    assert reply["ok"] is True
    assert reply["params"]["text"] == "pong"


async def test_a_wrong_secret_is_refused_and_retried(
    bot: Bot, sandbox: SandboxHandle, webhook_url: str
) -> None:
    await bot.set_webhook(webhook_url, secret_token="not-the-right-one")

    outcome = await sandbox.send_user_message(USER, "/start x")

    assert outcome["delivered"] is False
    assert outcome["status"] == 401
    assert await sandbox.sent(chat_id=USER) == []


async def test_long_polling_dispatcher_gets_updates_and_replies(
    bot: Bot, sandbox: SandboxHandle
) -> None:
    dp = build_dispatcher()
    polling = asyncio.create_task(
        dp.start_polling(bot, handle_signals=False, close_bot_session=False, polling_timeout=1)
    )
    try:
        await sandbox.send_user_message(USER, "/start poll")
        [welcome] = await sandbox.wait_for_sent(chat_id=USER, method="sendMessage")
        assert welcome["params"]["text"] == "Welcome, payload poll"
        await sandbox.send_user_message(USER, "/start again")
        await sandbox.wait_for_sent(
            lambda calls: len(calls) == 2, chat_id=USER, method="sendMessage"
        )
    finally:
        await dp.stop_polling()
        await asyncio.wait_for(polling, timeout=15)
