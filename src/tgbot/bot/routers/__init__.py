"""One router per flow. Order matters: the support catch-all comes last."""

from aiogram import Router

from tgbot.bot.routers import help_command, language, membership, start, subscription, support


def all_routers() -> list[Router]:
    return [
        start.router,
        help_command.router,
        language.router,
        subscription.router,
        membership.router,
        support.router,  # catch-all: any other message opens/continues a conversation
    ]
