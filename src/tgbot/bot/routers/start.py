"""/start [payload]: register or refresh the user and greet them in their language."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import CommandObject, CommandStart
from aiogram.types import Message
from sqlalchemy.ext.asyncio import AsyncConnection

from tgbot.bot.filters import PrivateChat
from tgbot.db.queries.users import SeenUser, remember_start_payload
from tgbot.services.texts import TextService

router = Router(name="start")
router.message.filter(PrivateChat())

MAX_PAYLOAD = 64


@router.message(CommandStart())
async def start(
    message: Message,
    command: CommandObject,
    user: SeenUser,
    db: AsyncConnection,
    texts: TextService,
) -> None:
    if command.args:
        await remember_start_payload(
            db, telegram_id=user.telegram_id, payload=command.args.strip()[:MAX_PAYLOAD]
        )
    name = message.from_user.first_name if message.from_user else ""
    await message.answer(await texts.get("start", user.language, name=name))
