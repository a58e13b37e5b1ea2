"""Per-user throttling of messages, shared across replicas; a polite reply once per window.

The staff supergroup (STAFF_CHAT_ID) is not throttled: staff answer as fast as they type.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import Message, TelegramObject

from tgbot.updates.context import UpdateContext
from tgbot.updates.throttle import Throttle, ThrottleDecision
from tgbot.updates.work import UpdateWork

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class ThrottlingMiddleware(BaseMiddleware):
    def __init__(self, throttle: Throttle) -> None:
        self._throttle = throttle

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        if not isinstance(event, Message) or event.from_user is None:
            return await handler(event, data)
        if event.chat.id == data.get("staff_chat_id"):  # staff at work in the staff supergroup
            return await handler(event, data)
        # The webhook counted the message when it admitted the update; polling counts it here.
        decision: ThrottleDecision | None = data.get("throttle_decision")
        if decision is None:
            decision = await self._throttle.hit(event.from_user.id)
        if decision.allowed:
            return await handler(event, data)
        context: UpdateContext | None = data.get("update_context")
        if context is not None:
            context.ignored = "throttled"
        if decision.notify:  # a banned user's reply is dropped at the commit
            work: UpdateWork = data["work"]
            work.answer(event, "throttled")
        return None
