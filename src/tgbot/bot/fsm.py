"""FSM context for handlers, reading the current state from Redis only when something needs it.

aiogram's FSM middleware reads the state of every update so that ``StateFilter`` can match on
it (``raw_state``). That is a Redis round trip per update; when no handler or filter of the
dispatcher asks for ``raw_state``, it is skipped. Handlers still get ``state`` (an
``FSMContext``) and read or set the state through it as usual.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from typing import Any

from aiogram import Bot, Dispatcher, Router
from aiogram.dispatcher.event.handler import CallableObject
from aiogram.fsm.middleware import FSMContextMiddleware
from aiogram.fsm.storage.base import BaseStorage
from aiogram.fsm.storage.memory import DisabledEventIsolation
from aiogram.types import TelegramObject

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


def _callables(router: Router) -> Iterator[CallableObject]:
    for each in router.chain_tail:
        for observer in each.observers.values():
            yield from observer._handler.filters or ()  # router-level filters
            for handler in observer.handlers:
                if isinstance(each, Dispatcher) and handler.callback == each._listen_update:
                    continue  # the dispatcher's own entry point: it passes data on, not state
                yield handler
                yield from handler.filters or ()


def reads_state(router: Router) -> bool:
    """Whether any handler or filter under ``router`` may take ``raw_state``.

    A callable taking ``**kwargs`` (aiogram's ``and_f``/``or_f``/``~`` filters among them)
    counts as one that may. Evaluated once, when the dispatcher is built (``create_dispatcher``
    includes every router first): a router added later is not seen.
    """
    return any("raw_state" in c.params or c.varkw for c in _callables(router))


class StateOnDemandMiddleware(FSMContextMiddleware):
    def __init__(self, storage: BaseStorage, *, read_state: bool) -> None:
        super().__init__(storage=storage, events_isolation=DisabledEventIsolation())
        self.read_state = read_state

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        if self.read_state:
            return await super().__call__(handler, event, data)
        bot: Bot = data["bot"]
        data["fsm_storage"] = self.storage
        context = self.resolve_event_context(bot, data)
        if context is not None:
            data["state"] = context
        return await handler(event, data)
