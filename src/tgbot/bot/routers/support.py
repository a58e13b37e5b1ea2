"""Any other message, text or media, goes into the user's open support conversation."""

from __future__ import annotations

from aiogram import Router
from aiogram.types import Message

from tgbot.bot.filters import PrivateChat
from tgbot.bot.work import UpdateWork
from tgbot.db.queries.effects import FileMessage
from tgbot.db.queries.users import SeenUser
from tgbot.services.texts import TextService

router = Router(name="support")
router.message.filter(PrivateChat())


def media_file_id(message: Message) -> str | None:
    if message.photo:
        return message.photo[-1].file_id
    for media in (
        message.document,
        message.video,
        message.voice,
        message.audio,
        message.animation,
        message.sticker,
        message.video_note,
    ):
        if media is not None:
            return media.file_id
    return None


@router.message()
async def take_support_message(
    message: Message, user: SeenUser, work: UpdateWork, texts: TextService
) -> None:
    work.write(
        FileMessage(
            user_id=user.telegram_id,
            content_type=getattr(message.content_type, "value", str(message.content_type)),
            text=message.text if message.text is not None else message.caption,
            file_id=media_file_id(message),
            telegram_message_id=message.message_id,
        )
    )
    work.reply(message.answer(await texts.get("message_received", user.language)))
