"""/subscribe and /unsubscribe: broadcast opt-in."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import Message
from sqlalchemy.ext.asyncio import AsyncConnection

from tgbot.bot.filters import PrivateChat
from tgbot.db.queries.users import SeenUser, set_subscribed
from tgbot.services.texts import TextService

router = Router(name="subscription")
router.message.filter(PrivateChat())


@router.message(Command("subscribe"))
async def subscribe(
    message: Message, user: SeenUser, db: AsyncConnection, texts: TextService
) -> None:
    changed = await set_subscribed(db, telegram_id=user.telegram_id, subscribed=True)
    await message.answer(
        await texts.get("subscribed" if changed else "already_subscribed", user.language)
    )


@router.message(Command("unsubscribe"))
async def unsubscribe(
    message: Message, user: SeenUser, db: AsyncConnection, texts: TextService
) -> None:
    changed = await set_subscribed(db, telegram_id=user.telegram_id, subscribed=False)
    await message.answer(
        await texts.get("unsubscribed" if changed else "already_unsubscribed", user.language)
    )
