"""One router per flow. Order matters: the staff chat first, the support catch-all last.

Each flow's module holds its handlers and ``create_router()``, which registers them on a new
router: a process (or a test) may build as many dispatchers as it needs.
"""

from aiogram import Router

from tgbot.bot.filters import CommandLike
from tgbot.bot.routers import (
    help_command,
    language,
    membership,
    staff,
    start,
    subscription,
    support,
)


def all_routers() -> list[Router]:
    commands = Router(name="commands")
    commands.message.filter(CommandLike())  # other messages skip every command filter
    commands.include_routers(
        start.create_router(),
        help_command.create_router(),
        language.create_router(),  # also answers its keyboard's callback queries
        subscription.create_router(),
    )
    return [
        staff.create_router(),  # the staff supergroup's messages, commands included, and no other
        commands,
        membership.create_router(),
        support.create_router(),  # catch-all: any other message opens/continues a conversation
    ]
