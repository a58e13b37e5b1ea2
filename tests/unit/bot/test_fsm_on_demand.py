"""The FSM state is read per update only when a handler or filter can use it."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, StateFilter, and_f
from aiogram.fsm.state import State, StatesGroup
from aiogram.fsm.storage.memory import MemoryStorage
from aiogram.types import Message
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import create_async_engine

from tgbot.bot.factory import create_dispatcher
from tgbot.bot.fsm import StateOnDemandMiddleware, reads_state
from tgbot.services.redis_guard import RedisGuard
from tgbot.services.texts import TextService
from tgbot.updates.replies import ReplySender
from tgbot.updates.store import UpdateStore
from tgbot.updates.throttle import Throttle


class Feedback(StatesGroup):
    waiting_for_text = State()


def test_the_bots_dispatcher_skips_reading_the_state() -> None:
    engine = create_async_engine("postgresql+asyncpg://bot@db.invalid/bot")  # never connects
    redis = Redis.from_url("redis://cache.invalid:6379/0")
    guard = RedisGuard(redis)
    texts = TextService(engine, default_language="en", ttl_seconds=5)
    dp = create_dispatcher(
        storage=MemoryStorage(),
        store=UpdateStore(engine),
        replies=ReplySender(
            UpdateStore(engine),
            token="1:x",
            api_base="http://api.invalid",
            timeout=1,
            connections=1,
        ),
        texts=texts,
        throttle=Throttle(guard, limit=5, window_seconds=60),
    )
    fsm = [m for m in dp.update.outer_middleware if isinstance(m, StateOnDemandMiddleware)]
    assert len(fsm) == 1
    assert fsm[0].read_state is False


def test_a_state_filter_anywhere_in_the_tree_needs_it() -> None:
    root, nested = Router(), Router()

    @nested.message(StateFilter(Feedback.waiting_for_text))
    async def take_feedback(message: Message) -> None: ...

    root.include_router(Router()).include_router(nested)
    assert reads_state(root) is True


def test_a_router_level_or_combined_filter_needs_it() -> None:
    router_filter, combined = Router(), Router()
    router_filter.message.filter(StateFilter(Feedback.waiting_for_text))
    assert reads_state(router_filter) is True

    @combined.message(and_f(Command("x"), StateFilter(None)))
    async def x(message: Message) -> None: ...

    assert reads_state(combined) is True


def test_a_handler_taking_raw_state_needs_it() -> None:
    router = Router()

    @router.message()
    async def echo_state(message: Message, raw_state: str | None) -> None: ...

    assert reads_state(router) is True
