"""/start [payload]: register or refresh the user and greet them in their language."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import CommandObject, CommandStart
from aiogram.types import Message

from tgbot.bot.filters import PrivateChat
from tgbot.db.queries.effects import RememberStartPayload
from tgbot.updates.work import UpdateWork

MAX_PAYLOAD = 64


async def start(
    message: Message,
    command: CommandObject,
    work: UpdateWork,
) -> None:
    assert message.from_user is not None  # the unit of work runs handlers for people only
    if command.args:
        payload = command.args.strip()[:MAX_PAYLOAD]
        work.write(RememberStartPayload(telegram_id=message.from_user.id, payload=payload))
    work.answer(message, "start", name=message.from_user.first_name)


def create_router() -> Router:
    router = Router(name="start")
    router.message.filter(PrivateChat())
    router.message.register(start, CommandStart())
    return router
