"""One session and one transaction per update; the update's dedup record commits with it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, Update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tgbot.bot.context import UpdateContext
from tgbot.db.queries.updates import claim_update
from tgbot.metrics import DEDUP_HITS

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class DatabaseMiddleware(BaseMiddleware):
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self._sessionmaker = sessionmaker

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        assert isinstance(event, Update)
        context: UpdateContext | None = data.get("update_context")
        async with self._sessionmaker() as session, session.begin():
            if not await claim_update(session, update_id=event.update_id):
                DEDUP_HITS.labels("database").inc()
                if context is not None:
                    context.duplicate = True
                return None
            data["session"] = session
            return await handler(event, data)
