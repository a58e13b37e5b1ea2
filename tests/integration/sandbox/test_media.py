"""Every media kind: the bot's send methods and copyMessage between a private chat and a topic."""

from __future__ import annotations

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import BufferedInputFile, InlineKeyboardButton, InlineKeyboardMarkup, Message

from tests.support.sandbox import SandboxHandle

USER = 6001
OTHER_USER = 6002
STAFF = 6100
STAFF_CHAT = -1001000000002
KINDS = ("photo", "document", "video", "animation", "voice", "audio", "sticker", "video_note")
CAPTIONED = [k for k in KINDS if k not in ("sticker", "video_note")]
KEYBOARD = InlineKeyboardMarkup(
    inline_keyboard=[[InlineKeyboardButton(text="Open", callback_data="open")]]
)


async def topic_in_staff_chat(bot: Bot, sandbox: SandboxHandle) -> int:
    await sandbox.create_group(
        chat_id=STAFF_CHAT, members=[{"user_id": STAFF, "status": "administrator"}]
    )
    return (await bot.create_forum_topic(STAFF_CHAT, "Ticket")).message_thread_id


def media_of(message: Message, kind: str) -> object:
    return getattr(message, kind)


@pytest.mark.parametrize("kind", KINDS)
async def test_each_send_method_returns_a_message_of_its_kind(bot: Bot, kind: str) -> None:
    send = getattr(bot, f"send_{kind}")
    caption = {"caption": "a <b>bold</b> caption", "parse_mode": "HTML"}

    sent = await send(USER, f"sbx_{kind}", **(caption if kind in CAPTIONED else {}))

    assert media_of(sent, kind) is not None
    assert sent.caption == ("a bold caption" if kind in CAPTIONED else None)


async def test_an_uploaded_voice_keeps_its_bytes_for_get_file(bot: Bot) -> None:
    sent = await bot.send_voice(USER, BufferedInputFile(b"OggS voice", filename="v.ogg"))

    assert sent.voice is not None
    file = await bot.get_file(sent.voice.file_id)
    assert file.file_size == len(b"OggS voice")


@pytest.mark.parametrize("kind", KINDS)
async def test_a_users_media_is_copied_into_a_topic_and_back_to_another_user(
    bot: Bot, sandbox: SandboxHandle, kind: str
) -> None:
    thread = await topic_in_staff_chat(bot, sandbox)
    written = await sandbox.send_user_message(USER, "what the user wrote", media=kind)

    into_topic = await bot.copy_message(
        STAFF_CHAT, USER, written["message_id"], message_thread_id=thread
    )
    back = await bot.copy_message(OTHER_USER, STAFF_CHAT, into_topic.message_id)

    original = next(m for m in await sandbox.chat(USER) if m["message_id"] == written["message_id"])
    in_topic = next(
        m
        for m in await sandbox.topic_messages(STAFF_CHAT, thread)
        if m["message_id"] == into_topic.message_id
    )
    [received] = [m for m in await sandbox.chat(OTHER_USER) if m["message_id"] == back.message_id]
    for copy in (in_topic, received):
        assert copy[kind] == original[kind]
        assert copy.get("caption") == original.get("caption")
        assert copy["from"]["id"] == bot.id
        assert "forward_origin" not in copy
    assert in_topic["message_thread_id"] == thread
    assert in_topic["is_topic_message"] is True
    assert "message_thread_id" not in received
    assert (original.get("caption") is None) == (kind in ("sticker", "video_note"))


async def test_copy_replaces_removes_or_keeps_the_caption(bot: Bot, sandbox: SandboxHandle) -> None:
    written = await sandbox.send_user_message(USER, "original caption", media="photo")
    source = written["message_id"]

    replaced = await bot.copy_message(
        OTHER_USER, USER, source, caption="<i>new</i> caption", parse_mode="HTML"
    )
    # aiogram leaves empty fields out, so an empty caption goes as raw JSON.
    _, removed_body = await sandbox.request(
        "POST",
        f"/bot{sandbox.token}/copyMessage",
        json={"chat_id": OTHER_USER, "from_chat_id": USER, "message_id": source, "caption": ""},
    )
    kept = await bot.copy_message(OTHER_USER, USER, source, reply_markup=KEYBOARD)

    by_id = {m["message_id"]: m for m in await sandbox.chat(OTHER_USER)}
    assert by_id[replaced.message_id]["caption"] == "new caption"
    assert "caption" not in by_id[removed_body["result"]["message_id"]]
    assert by_id[kept.message_id]["caption"] == "original caption"
    assert by_id[kept.message_id]["reply_markup"]["inline_keyboard"][0][0]["text"] == "Open"
    with pytest.raises(TelegramBadRequest, match="can't parse entities"):
        await bot.copy_message(OTHER_USER, USER, source, caption="<b>open", parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match="message caption is too long"):
        await bot.copy_message(OTHER_USER, USER, source, caption="x" * 1025)


async def test_a_caption_on_a_copied_text_or_sticker_is_ignored(
    bot: Bot, sandbox: SandboxHandle
) -> None:
    text = await sandbox.send_user_message(USER, "just text")
    sticker = await sandbox.send_user_message(USER, media="sticker")

    copied_text = await bot.copy_message(OTHER_USER, USER, text["message_id"], caption="c")
    copied_sticker = await bot.copy_message(OTHER_USER, USER, sticker["message_id"], caption="c")

    by_id = {m["message_id"]: m for m in await sandbox.chat(OTHER_USER)}
    assert by_id[copied_text.message_id]["text"] == "just text"
    assert "caption" not in by_id[copied_text.message_id]
    assert "caption" not in by_id[copied_sticker.message_id]


async def test_a_service_message_cannot_be_copied(bot: Bot, sandbox: SandboxHandle) -> None:
    thread = await topic_in_staff_chat(bot, sandbox)

    with pytest.raises(TelegramBadRequest, match="message can't be copied"):
        await bot.copy_message(USER, STAFF_CHAT, thread)


async def test_a_staff_members_media_in_a_topic_copies_to_the_user(
    bot: Bot, sandbox: SandboxHandle
) -> None:
    thread = await topic_in_staff_chat(bot, sandbox)
    written = await sandbox.staff_message(
        STAFF_CHAT, STAFF, "here is the form", media="document", message_thread_id=thread
    )

    copied = await bot.copy_message(USER, STAFF_CHAT, written["message_id"])

    [received] = [m for m in await sandbox.chat(USER) if m["message_id"] == copied.message_id]
    assert received["caption"] == "here is the form"
    assert received["document"]["file_name"] == "file.txt"


async def test_a_user_uploads_any_kind_as_a_multipart_part(sandbox: SandboxHandle) -> None:
    import aiohttp

    form = aiohttp.FormData()
    form.add_field("text", "listen")
    form.add_field("voice", b"OggS real voice", filename="v.ogg", content_type="audio/ogg")

    status, body = await sandbox.request("POST", f"/sandbox/users/{USER}/messages", data=form)

    assert status == 200
    [message] = [m for m in await sandbox.chat(USER) if m["message_id"] == body["message_id"]]
    assert message["caption"] == "listen"
    assert message["voice"]["file_size"] == len(b"OggS real voice")
    status, data = await sandbox.request("GET", f"/sandbox/files/{message['voice']['file_id']}")
    assert (status, data) == (200, "OggS real voice")
