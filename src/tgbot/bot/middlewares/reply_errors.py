"""A reply that Telegram refuses for good must not undo the update's effects.

Forbidden (the user blocked the bot) marks the user blocked; a bad request is logged. Both let
the transaction commit. Network errors, 5xx and flood waits propagate: the transaction rolls
back and the webhook answers 503, so Telegram delivers the update again.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from aiogram import BaseMiddleware
from aiogram.dispatcher.event.handler import HandlerObject
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError
from aiogram.types import TelegramObject

from tgbot.bot.context import UpdateContext
from tgbot.db.queries.users import SeenUser, set_blocked

log = structlog.get_logger(__name__)
Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class ReplyErrorsMiddleware(BaseMiddleware):
    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        handler_object: HandlerObject | None = data.get("handler")
        context: UpdateContext | None = data.get("update_context")
        if context is not None and handler_object is not None:
            context.handler = getattr(handler_object.callback, "__name__", None)
        try:
            return await handler(event, data)
        except TelegramForbiddenError:
            user: SeenUser | None = data.get("user")
            if user is not None:
                await set_blocked(data["db"], telegram_id=user.telegram_id, blocked=True)
            log.info("reply.forbidden", user_id=getattr(user, "telegram_id", None))
        except TelegramBadRequest as exc:
            log.warning("reply.bad_request", description=exc.message)
        return None
