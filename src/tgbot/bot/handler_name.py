"""Records which handler took the update, for the webhook's log line."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.dispatcher.event.handler import HandlerObject
from aiogram.types import TelegramObject

from tgbot.updates.context import UpdateContext

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class HandlerNameMiddleware(BaseMiddleware):
    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        handler_object: HandlerObject | None = data.get("handler")
        context: UpdateContext | None = data.get("update_context")
        if context is not None and handler_object is not None:
            context.handler = getattr(handler_object.callback, "__name__", None)
        return await handler(event, data)
