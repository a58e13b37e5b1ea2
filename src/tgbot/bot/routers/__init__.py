"""One router per flow. Order matters: the support catch-all comes last."""

from aiogram import Router

from tgbot.bot.filters import CommandLike
from tgbot.bot.routers import help_command, language, membership, start, subscription, support


def all_routers() -> list[Router]:
    commands = Router(name="commands")
    commands.message.filter(CommandLike())  # other messages skip every command filter
    commands.include_routers(
        start.router,
        help_command.router,
        language.router,  # also answers its keyboard's callback queries
        subscription.router,
    )
    return [
        commands,
        membership.router,
        support.router,  # catch-all: any other message opens/continues a conversation
    ]
