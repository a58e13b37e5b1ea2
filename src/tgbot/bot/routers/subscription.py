"""/subscribe and /unsubscribe: broadcast opt-in."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import Message

from tgbot.bot.filters import PrivateChat
from tgbot.bot.work import UpdateWork
from tgbot.db.queries.effects import SetSubscribed
from tgbot.db.queries.users import SeenUser
from tgbot.services.texts import TextService

router = Router(name="subscription")
router.message.filter(PrivateChat())


@router.message(Command("subscribe"))
async def subscribe(message: Message, user: SeenUser, work: UpdateWork, texts: TextService) -> None:
    work.write(SetSubscribed(telegram_id=user.telegram_id, subscribed=True))
    key = "already_subscribed" if user.is_subscribed else "subscribed"
    work.reply(message.answer(await texts.get(key, user.language)))


@router.message(Command("unsubscribe"))
async def unsubscribe(
    message: Message, user: SeenUser, work: UpdateWork, texts: TextService
) -> None:
    work.write(SetSubscribed(telegram_id=user.telegram_id, subscribed=False))
    key = "unsubscribed" if user.is_subscribed else "already_unsubscribed"
    work.reply(message.answer(await texts.get(key, user.language)))
