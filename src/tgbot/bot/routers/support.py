"""Any other message, text or media, goes into the user's open support conversation."""

from __future__ import annotations

from aiogram import Router
from aiogram.types import Message
from sqlalchemy.ext.asyncio import AsyncConnection

from tgbot.bot.filters import PrivateChat
from tgbot.db.queries.conversations import file_incoming_message
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
    message: Message, user: SeenUser, db: AsyncConnection, texts: TextService
) -> None:
    await file_incoming_message(
        db,
        user_id=user.telegram_id,
        content_type=getattr(message.content_type, "value", str(message.content_type)),
        text=message.text if message.text is not None else message.caption,
        file_id=media_file_id(message),
        telegram_message_id=message.message_id,
    )
    await message.answer(await texts.get("message_received", user.language))
