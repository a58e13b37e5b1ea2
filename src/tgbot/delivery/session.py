"""The Bot API HTTP session: aiogram's aiohttp session with its response models kept alive.

aiogram validates every API answer with ``Response[<method's result type>]``. pydantic caches
parametrised generic models only weakly, so each time the garbage collector drops one, the next
call rebuilds its schema: about a millisecond of CPU on every reply under load. Holding one
strong reference per result type makes every call after the first a cache hit.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.methods.base import Response, TelegramType

if TYPE_CHECKING:
    from aiogram import Bot
    from aiogram.methods import TelegramMethod


class BotAPISession(AiohttpSession):
    _response_models: dict[Any, type[Response[Any]]] = {}  # result type -> Response[result type]

    def check_response(
        self,
        bot: Bot,
        method: TelegramMethod[TelegramType],
        status_code: int,
        content: str,
    ) -> Response[TelegramType]:
        returning = method.__returning__
        if returning not in self._response_models:
            self._response_models[returning] = Response[returning]  # type: ignore[valid-type]
        return super().check_response(bot, method, status_code, content)
