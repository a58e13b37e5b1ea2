"""Any other message, text or media, goes into the user's open support conversation."""

from __future__ import annotations

from aiogram import Router
from aiogram.types import Message

from tgbot.bot.filters import PrivateChat
from tgbot.db.queries.effects import FileMessage
from tgbot.updates.work import UpdateWork


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


async def take_support_message(
    message: Message, work: UpdateWork, staff_chat_id: int | None = None
) -> None:
    assert message.from_user is not None  # the unit of work runs handlers for people only
    work.write(
        FileMessage(
            user_id=message.from_user.id,
            content_type=getattr(message.content_type, "value", str(message.content_type)),
            text=message.text if message.text is not None else message.caption,
            file_id=media_file_id(message),
            telegram_message_id=message.message_id,
            staff_chat_id=staff_chat_id,
        )
    )
    work.answer(message, "message_received")


def create_router() -> Router:
    router = Router(name="support")
    router.message.filter(PrivateChat())
    router.message.register(take_support_message)
    return router
