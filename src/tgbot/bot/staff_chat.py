"""A look at the staff supergroup when the bot starts: is it what STAFF_CHAT_ID needs?

Each problem is one warning line (the bot runs on: users are served, their messages still reach
the panel; only the topics wait until the group is fixed): the chat cannot be read (wrong id, the
bot not in it), it has no topics, or the bot is not an administrator allowed to manage topics.
The dispatcher's ``staff_topic.create_failed`` says the same when a topic cannot be made.
"""

from __future__ import annotations

import structlog
from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import ChatMemberAdministrator, ChatMemberOwner

log = structlog.get_logger(__name__)


async def check_staff_chat(bot: Bot, chat_id: int) -> list[str]:
    """The problems found (also logged); empty when the group is ready."""
    problems: list[str] = []
    try:
        chat = await bot.get_chat(chat_id)
        member = await bot.get_chat_member(chat_id, bot.id)
    except (TelegramAPIError, OSError, TimeoutError) as exc:
        problems.append(f"the staff chat cannot be read ({type(exc).__name__})")
    else:
        if not chat.is_forum:
            problems.append("the staff chat has no topics: turn Topics on in its settings")
        can_manage = isinstance(member, ChatMemberOwner) or (
            isinstance(member, ChatMemberAdministrator) and bool(member.can_manage_topics)
        )
        if not can_manage:
            problems.append("the bot is not an administrator allowed to manage topics there")
    for problem in problems:
        log.warning("staff_chat.not_ready", chat_id=chat_id, problem=problem)
    if not problems:
        log.info("staff_chat.ready", chat_id=chat_id)
    return problems
