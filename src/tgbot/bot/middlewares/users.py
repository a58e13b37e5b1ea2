"""Registers or refreshes the user behind every update; banned users, and updates with no
person behind them, go no further."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, User
from sqlalchemy.ext.asyncio import AsyncSession

from tgbot.bot.context import UpdateContext
from tgbot.db.queries.users import upsert_seen_user
from tgbot.services.texts import TextService

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class UserMiddleware(BaseMiddleware):
    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        tg_user: User | None = data.get("event_from_user")
        session: AsyncSession | None = data.get("session")
        if session is None:
            return await handler(event, data)
        if tg_user is None or tg_user.is_bot:
            # Every handler serves a person (a message without "from", or from a bot, has none).
            context: UpdateContext | None = data.get("update_context")
            if context is not None:
                context.ignored = "no_user"
            return None
        texts: TextService = data["texts"]
        user = await upsert_seen_user(
            session,
            telegram_id=tg_user.id,
            username=tg_user.username,
            first_name=tg_user.first_name,
            last_name=tg_user.last_name,
            language_code=tg_user.language_code,
            initial_language=texts.language_for(tg_user.language_code),
        )
        if user.is_banned:
            context = data.get("update_context")
            if context is not None:
                context.ignored = "banned"
            return None
        data["user"] = user
        return await handler(event, data)
