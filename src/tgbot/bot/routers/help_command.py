"""/help: the admin-editable help text."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import Message

from tgbot.bot.filters import PrivateChat
from tgbot.updates.work import UpdateWork

router = Router(name="help")
router.message.filter(PrivateChat())


@router.message(Command("help"))
async def show_help(message: Message, work: UpdateWork) -> None:
    work.answer(message, "help")
