"""Any other message, text or media, goes into the user's open support conversation."""

from __future__ import annotations

from aiogram import Router
from aiogram.types import Message
from sqlalchemy.ext.asyncio import AsyncSession

from tgbot.bot.filters import PrivateChat
from tgbot.db.queries.conversations import add_incoming_message, open_conversation_id
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
    message: Message, user: SeenUser, session: AsyncSession, texts: TextService
) -> None:
    conversation_id, _ = await open_conversation_id(session, user_id=user.telegram_id)
    await add_incoming_message(
        session,
        conversation_id=conversation_id,
        content_type=getattr(message.content_type, "value", str(message.content_type)),
        text=message.text if message.text is not None else message.caption,
        file_id=media_file_id(message),
        telegram_message_id=message.message_id,
    )
    await message.answer(await texts.get("message_received", user.language))
