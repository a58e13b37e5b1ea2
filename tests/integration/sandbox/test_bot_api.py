"""A real aiogram Bot against the sandbox over HTTP: every result parses as Telegram's would."""

from __future__ import annotations

import json

import aiohttp
import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import (
    BotCommand,
    BufferedInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    MessageId,
)

from tests.support.sandbox import SandboxHandle

USER = 1001
KEYBOARD = InlineKeyboardMarkup(
    inline_keyboard=[[InlineKeyboardButton(text="Yes", callback_data="answer:yes")]]
)


async def test_get_me_is_the_bot_named_by_the_token(bot: Bot) -> None:
    me = await bot.get_me()

    assert me.id == bot.id
    assert me.is_bot
    assert me.username == "sandbox_bot"


async def test_send_message_returns_a_message_from_the_bot(
    bot: Bot, sandbox: SandboxHandle
) -> None:
    await sandbox.send_user_message(USER, "hi", first_name="Alice", username="alice")

    sent = await bot.send_message(
        USER, "Hello <b>Alice</b>", parse_mode="HTML", reply_markup=KEYBOARD
    )

    assert isinstance(sent, Message)
    assert sent.chat.id == USER
    assert sent.chat.type == "private"
    assert sent.chat.first_name == "Alice"
    assert sent.from_user is not None
    assert sent.from_user.id == bot.id
    assert sent.text == "Hello Alice"
    assert sent.reply_markup is not None
    assert sent.reply_markup.inline_keyboard[0][0].callback_data == "answer:yes"
    assert sent.message_id == 2  # the user's message was 1 in this chat


async def test_copy_message_copies_what_the_user_wrote(bot: Bot, sandbox: SandboxHandle) -> None:
    written = await sandbox.send_user_message(USER, "please help")
    support_chat = -1001234567890

    copied = await bot.copy_message(support_chat, USER, written["message_id"])

    assert isinstance(copied, MessageId)
    in_support = {m["message_id"]: m for m in await sandbox.chat(support_chat)}
    assert in_support[copied.message_id]["text"] == "please help"
    calls = await sandbox.sent(method="copyMessage")
    assert calls[-1]["chat_id"] == support_chat
    assert calls[-1]["ok"]


async def test_copy_of_a_missing_message_is_a_bad_request(bot: Bot) -> None:
    with pytest.raises(TelegramBadRequest, match="message to copy not found"):
        await bot.copy_message(USER, USER, 999)


async def test_edit_message_text_changes_the_users_view(bot: Bot, sandbox: SandboxHandle) -> None:
    sent = await bot.send_message(USER, "draft", reply_markup=KEYBOARD)

    edited = await bot.edit_message_text(text="final", chat_id=USER, message_id=sent.message_id)

    assert isinstance(edited, Message)
    assert edited.text == "final"
    assert edited.edit_date is not None
    assert edited.reply_markup is None
    view = {m["message_id"]: m for m in await sandbox.chat(USER)}
    assert view[sent.message_id]["text"] == "final"


async def test_editing_to_the_same_text_is_not_modified(bot: Bot) -> None:
    sent = await bot.send_message(USER, "same")

    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_text(text="same", chat_id=USER, message_id=sent.message_id)


async def test_answer_callback_query_for_a_pressed_button(bot: Bot, sandbox: SandboxHandle) -> None:
    sent = await bot.send_message(USER, "Question?", reply_markup=KEYBOARD)
    pressed = await sandbox.press_button(USER, sent.message_id, "answer:yes")
    updates = await bot.get_updates()
    query = updates[-1].callback_query
    assert query is not None
    assert query.data == "answer:yes"
    assert query.message is not None
    assert query.message.message_id == sent.message_id

    assert await bot.answer_callback_query(query.id, text="Thanks!") is True

    assert query.id == pressed["callback_query_id"]
    calls = await sandbox.sent(method="answerCallbackQuery")
    assert calls[-1]["chat_id"] == USER
    assert calls[-1]["params"]["text"] == "Thanks!"


async def test_answering_an_unknown_callback_query_fails(bot: Bot) -> None:
    with pytest.raises(TelegramBadRequest, match="query ID is invalid"):
        await bot.answer_callback_query("12345")


async def test_chat_action_commands_and_media_by_file_id(bot: Bot) -> None:
    assert await bot.send_chat_action(USER, "typing") is True
    assert await bot.set_my_commands([BotCommand(command="start", description="Start")])
    assert [c.command for c in await bot.get_my_commands()] == ["start"]

    photo = await bot.send_photo(USER, "AgACAgIAAxkBAAIB", caption="look")
    document = await bot.send_document(USER, "BQACAgIAAxkBAAIC")

    assert photo.photo is not None
    assert photo.photo[-1].file_id == "AgACAgIAAxkBAAIB"
    assert photo.caption == "look"
    assert document.document is not None
    assert document.document.file_id == "BQACAgIAAxkBAAIC"


async def test_uploaded_photo_gets_a_file_id(bot: Bot, sandbox: SandboxHandle) -> None:
    sent = await bot.send_photo(USER, BufferedInputFile(b"\x89PNG...", "cat.png"), caption="cat")

    assert sent.photo is not None
    assert sent.photo[-1].file_id.startswith("sbx_")
    [call] = await sandbox.sent(method="sendPhoto")
    assert set(call["params"]) == {"chat_id", "photo", "caption"}
    assert call["params"]["photo"] == sent.photo[-1].file_id


async def test_set_webhook_shows_in_get_webhook_info(bot: Bot) -> None:
    assert await bot.set_webhook(
        "https://bot.example/telegram/webhook",
        secret_token="s3cret",
        allowed_updates=["message", "callback_query"],
    )

    info = await bot.get_webhook_info()

    assert info.url == "https://bot.example/telegram/webhook"
    assert info.pending_update_count == 0
    assert info.allowed_updates == ["message", "callback_query"]
    assert await bot.delete_webhook()
    assert (await bot.get_webhook_info()).url == ""
    assert await bot.set_webhook("https://bot.example/again")
    assert await bot.set_webhook("")  # an empty url removes it too
    assert (await bot.get_webhook_info()).url == ""


async def test_malformed_html_is_rejected_like_telegram(bot: Bot) -> None:
    with pytest.raises(TelegramBadRequest, match="can't parse entities"):
        await bot.send_message(USER, "Hello <b>Alice", parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match="can't parse entities"):
        await bot.send_message(USER, "1 <blink>2</blink>", parse_mode="HTML")


async def test_a_token_must_look_like_a_token(
    http: aiohttp.ClientSession, sandbox: SandboxHandle
) -> None:
    from aiogram.client.session.aiohttp import AiohttpSession
    from aiogram.client.telegram import TelegramAPIServer

    session = AiohttpSession(api=TelegramAPIServer.from_base(sandbox.base_url))
    async with Bot(token="42:other-token", session=session) as other:
        assert (await other.get_me()).id == 42

    async with http.get(f"{sandbox.base_url}/botnot-a-token/getMe") as response:
        assert response.status == 401
        assert await response.json() == {
            "ok": False,
            "error_code": 401,
            "description": "Unauthorized",
        }


async def test_unknown_method_is_404_in_telegrams_shape(
    http: aiohttp.ClientSession, sandbox: SandboxHandle
) -> None:
    async with http.post(f"{sandbox.api_url}sendTelepathy", json={}) as response:
        assert response.status == 404
        assert await response.json() == {
            "ok": False,
            "error_code": 404,
            "description": "Not Found: method not found",
        }


@pytest.mark.parametrize("encoding", ["json", "form", "multipart", "query"])
async def test_every_request_encoding_is_understood(
    http: aiohttp.ClientSession, sandbox: SandboxHandle, encoding: str
) -> None:
    markup = {"inline_keyboard": [[{"text": "Go", "callback_data": "go"}]]}
    fields = {"chat_id": "77", "text": "123", "reply_markup": json.dumps(markup)}
    url = f"{sandbox.api_url}sendMessage"
    kwargs: dict[str, object]
    if encoding == "json":
        kwargs = {"json": {"chat_id": 77, "text": "123", "reply_markup": markup}}
    elif encoding == "form":
        kwargs = {"data": fields}
    elif encoding == "multipart":
        form = aiohttp.FormData()
        for name, value in fields.items():
            form.add_field(name, value)
        form.add_field("thumbnail", b"bytes", filename="t.jpg")  # forces multipart
        kwargs = {"data": form}
    else:
        kwargs = {"params": fields}

    async with http.post(url, **kwargs) as response:  # type: ignore[arg-type]
        body = await response.json()

    assert response.status == 200, body
    assert body["ok"] is True
    assert body["result"]["text"] == "123"  # a numeric-looking text stays a string
    assert body["result"]["chat"]["id"] == 77
    assert body["result"]["reply_markup"] == markup


async def test_missing_required_parameter_is_a_bad_request(
    http: aiohttp.ClientSession, sandbox: SandboxHandle
) -> None:
    async with http.post(f"{sandbox.api_url}sendMessage", json={"text": "x"}) as response:
        body = await response.json()
    assert response.status == 400
    assert body == {"ok": False, "error_code": 400, "description": "Bad Request: chat_id is empty"}

    async with http.post(f"{sandbox.api_url}sendMessage", json={"chat_id": 1}) as response:
        body = await response.json()
    assert response.status == 400
    assert body["description"] == "Bad Request: message text is empty"
    recorded = await sandbox.sent(method="sendMessage")
    assert [c["error_code"] for c in recorded] == [400, 400]
