"""Filters of the bot's routers.

Async on purpose: aiogram runs a synchronous filter (``F.chat.type == ...`` included) in a
worker thread via ``asyncio.to_thread``, a thread hop per filter per update on the hot path.
"""

from __future__ import annotations

from aiogram.enums import ChatType
from aiogram.filters import Filter
from aiogram.types import ChatMemberUpdated, Message


class CommandLike(Filter):
    """Messages whose text (or caption, as aiogram's ``Command`` reads it) starts with "/".

    In front of the command routers: an ordinary message skips their command filters, each of
    which would parse it and fail with an exception.
    """

    async def __call__(self, message: Message) -> bool:
        return (message.text or message.caption or "").startswith("/")


class PrivateChat(Filter):
    """Updates from a one-to-one chat with the bot (not groups or channels)."""

    async def __call__(self, event: Message | ChatMemberUpdated) -> bool:
        return event.chat.type == ChatType.PRIVATE
