"""The user blocking (kicked) or unblocking (member) the bot in their private chat."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import KICKED, MEMBER, ChatMemberUpdatedFilter
from aiogram.types import ChatMemberUpdated

from tgbot.bot.filters import PrivateChat
from tgbot.db.queries.effects import SetBlocked
from tgbot.updates.work import UpdateWork


async def user_blocked_bot(event: ChatMemberUpdated, work: UpdateWork) -> None:
    work.write(SetBlocked(telegram_id=event.from_user.id, blocked=True))


async def user_unblocked_bot(event: ChatMemberUpdated, work: UpdateWork) -> None:
    work.write(SetBlocked(telegram_id=event.from_user.id, blocked=False))


def create_router() -> Router:
    router = Router(name="membership")
    router.my_chat_member.filter(PrivateChat())
    router.my_chat_member.register(
        user_blocked_bot, ChatMemberUpdatedFilter(member_status_changed=KICKED)
    )
    router.my_chat_member.register(
        user_unblocked_bot, ChatMemberUpdatedFilter(member_status_changed=MEMBER)
    )
    return router
