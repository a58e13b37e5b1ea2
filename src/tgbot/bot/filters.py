"""Filters of the bot's routers.

Async on purpose: aiogram runs a synchronous filter (``F.chat.type == ...`` included) in a
worker thread via ``asyncio.to_thread``, a thread hop per filter per update on the hot path.
"""

from __future__ import annotations

from aiogram.enums import ChatType
from aiogram.filters import Filter
from aiogram.types import ChatMemberUpdated, Message


class PrivateChat(Filter):
    """Updates from a one-to-one chat with the bot (not groups or channels)."""

    async def __call__(self, event: Message | ChatMemberUpdated) -> bool:
        return event.chat.type == ChatType.PRIVATE
