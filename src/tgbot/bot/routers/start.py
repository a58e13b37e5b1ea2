"""/start [payload]: register or refresh the user and greet them in their language."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import CommandObject, CommandStart
from aiogram.types import Message

from tgbot.bot.filters import PrivateChat
from tgbot.bot.work import UpdateWork
from tgbot.db.queries.effects import RememberStartPayload
from tgbot.db.queries.users import SeenUser
from tgbot.services.texts import TextService

router = Router(name="start")
router.message.filter(PrivateChat())

MAX_PAYLOAD = 64


@router.message(CommandStart())
async def start(
    message: Message,
    command: CommandObject,
    user: SeenUser,
    work: UpdateWork,
    texts: TextService,
) -> None:
    if command.args:
        payload = command.args.strip()[:MAX_PAYLOAD]
        work.write(RememberStartPayload(telegram_id=user.telegram_id, payload=payload))
    name = message.from_user.first_name if message.from_user else ""
    work.reply(message.answer(await texts.get("start", user.language, name=name)))
