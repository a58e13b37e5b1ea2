"""One transaction per update, opened by claiming the update and registering its user.

The claim commits with the handler's effects. Duplicates, updates with no person behind them
(or a bot), and banned users go no further; handlers get the connection as ``db`` and the
user as ``user``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, Update, User
from sqlalchemy.ext.asyncio import AsyncEngine

from tgbot.bot.context import UpdateContext
from tgbot.db.queries.updates import claim_update
from tgbot.db.queries.users import UserProfile
from tgbot.metrics import DEDUP_HITS
from tgbot.services.texts import TextService

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class DatabaseMiddleware(BaseMiddleware):
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        assert isinstance(event, Update)
        context: UpdateContext = data.get("update_context") or UpdateContext()
        tg_user: User | None = data.get("event_from_user")
        person = tg_user if tg_user is not None and not tg_user.is_bot else None
        profile = None
        if person is not None:
            texts: TextService = data["texts"]
            profile = UserProfile(
                telegram_id=person.id,
                username=person.username,
                first_name=person.first_name,
                last_name=person.last_name,
                language_code=person.language_code,
                initial_language=texts.language_for(person.language_code),
            )
        async with self._engine.begin() as db:
            claim = await claim_update(db, update_id=event.update_id, user=profile)
            if not claim.claimed:
                DEDUP_HITS.labels("database").inc()
                context.duplicate = True
                return None
            if claim.user is None:
                # Every handler serves a person (a message without "from", or from a bot, has none).
                context.ignored = "no_user"
                return None
            if claim.user.is_banned:
                context.ignored = "banned"
                return None
            data["db"] = db
            data["user"] = claim.user
            return await handler(event, data)
