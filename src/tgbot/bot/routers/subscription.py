"""/subscribe and /unsubscribe: broadcast opt-in."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import Message

from tgbot.bot.filters import PrivateChat
from tgbot.db.queries.effects import SetSubscribed
from tgbot.updates.work import UpdateWork


async def subscribe(message: Message, work: UpdateWork) -> None:
    assert message.from_user is not None  # the unit of work runs handlers for people only
    work.write(SetSubscribed(telegram_id=message.from_user.id, subscribed=True))
    # The user as the commit found them, before this update's effect.
    work.answer(message, lambda user: "already_subscribed" if user.is_subscribed else "subscribed")


async def unsubscribe(message: Message, work: UpdateWork) -> None:
    assert message.from_user is not None  # the unit of work runs handlers for people only
    work.write(SetSubscribed(telegram_id=message.from_user.id, subscribed=False))
    work.answer(
        message, lambda user: "unsubscribed" if user.is_subscribed else "already_unsubscribed"
    )


def create_router() -> Router:
    router = Router(name="subscription")
    router.message.filter(PrivateChat())
    router.message.register(subscribe, Command("subscribe"))
    router.message.register(unsubscribe, Command("unsubscribe"))
    return router
