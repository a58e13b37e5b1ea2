"""/help: the admin-editable help text."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import Message

from tgbot.bot.filters import PrivateChat
from tgbot.updates.work import UpdateWork


async def show_help(message: Message, work: UpdateWork) -> None:
    work.answer(message, "help")


def create_router() -> Router:
    router = Router(name="help")
    router.message.filter(PrivateChat())
    router.message.register(show_help, Command("help"))
    return router
