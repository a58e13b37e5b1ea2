"""The composition root: everything a bot process holds open, built once from its settings.

``Connections`` are the pools (one engine, one Redis client) of any command that needs them;
``BotRuntime`` adds what handling updates needs (serve, poll). The outbox dispatcher receives
the same connections, whether it runs alone (``tgbot dispatch``) or inside serve or poll.
"""

from __future__ import annotations

import contextlib
import gc
import math
from dataclasses import dataclass

from aiogram import Bot, Dispatcher
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from tgbot.bot.factory import create_bot, create_dispatcher
from tgbot.bot.staff_chat import check_staff_chat
from tgbot.config import DispatchSettings, PollSettings
from tgbot.db.engine import create_engine
from tgbot.delivery.dispatcher import dispatcher_alongside
from tgbot.services.fsm_storage import FailOpenRedisStorage
from tgbot.services.redis_guard import RedisGuard, create_redis
from tgbot.services.texts import TextService
from tgbot.updates.admission import UpdateAdmission
from tgbot.updates.dedup import UpdateDeduplicator
from tgbot.updates.replies import ReplySender
from tgbot.updates.store import UpdateStore
from tgbot.updates.throttle import Throttle


@dataclass
class Connections:
    """A process's PostgreSQL pool and Redis client."""

    engine: AsyncEngine
    redis: Redis

    @classmethod
    def open(cls, settings: DispatchSettings) -> Connections:
        return cls(
            engine=create_engine(settings),
            redis=create_redis(settings.redis_url.get_secret_value()),
        )

    async def close(self) -> None:
        await self.redis.aclose()
        await self.engine.dispose()


@dataclass
class BotRuntime:
    settings: PollSettings
    connections: Connections
    guard: RedisGuard
    dedup: UpdateDeduplicator
    admission: UpdateAdmission
    bot: Bot
    dispatcher: Dispatcher
    texts: TextService
    replies: ReplySender

    @property
    def engine(self) -> AsyncEngine:
        return self.connections.engine

    @property
    def redis(self) -> Redis:
        return self.connections.redis

    @classmethod
    def build(cls, settings: PollSettings) -> BotRuntime:
        connections = Connections.open(settings)
        engine = connections.engine
        guard = RedisGuard(connections.redis)
        bot = create_bot(settings)
        texts = TextService(
            engine,
            default_language=settings.default_language,
            ttl_seconds=settings.texts_cache_seconds,
        )
        throttle = Throttle(
            guard, limit=settings.throttle_limit, window_seconds=settings.throttle_window_seconds
        )
        store = UpdateStore(engine)
        replies = ReplySender(
            store,
            token=settings.telegram_bot_token.get_secret_value(),
            api_base=str(settings.telegram_api_base),
            timeout=settings.telegram_request_timeout,
            connections=100,
        )
        dispatcher = create_dispatcher(
            staff_chat_id=settings.staff_chat_id,
            storage=FailOpenRedisStorage(guard),
            store=store,
            replies=replies,
            texts=texts,
            throttle=throttle,
        )
        # A marker left behind (Redis failed at abandon) holds retries back no longer than
        # one handling can take.
        dedup = UpdateDeduplicator(
            guard, bot_id=bot.id, in_flight_ttl=math.ceil(settings.handler_timeout) + 5
        )
        return cls(
            settings=settings,
            connections=connections,
            guard=guard,
            dedup=dedup,
            admission=UpdateAdmission(guard, dedup, throttle),
            bot=bot,
            dispatcher=dispatcher,
            texts=texts,
            replies=replies,
        )

    async def start(self) -> None:
        """Ready to handle updates: the texts loaded, then the start-up heap frozen."""
        await self.texts.load()
        if self.settings.staff_chat_id is not None:
            await check_staff_chat(self.bot, self.settings.staff_chat_id)
        # Everything alive now (modules, aiogram's models, settings) lives as long as the process:
        # frozen, the collector stops walking it, and a full collection takes milliseconds
        # instead of ~100 ms — a pause every update in flight would wait out.
        gc.collect()
        gc.freeze()

    def outbox_alongside(self) -> contextlib.AbstractAsyncContextManager[None]:
        """The outbox dispatcher as a task of this process (``RUN_DISPATCHER_IN_SERVE``), on the
        same connections; a no-op when the setting is off."""
        if not self.settings.run_dispatcher_in_serve:
            return contextlib.nullcontext()
        return dispatcher_alongside(
            self.settings, engine=self.connections.engine, redis=self.connections.redis
        )

    async def close(self) -> None:
        await self.texts.aclose()
        await self.replies.close()
        await self.bot.session.close()
        await self.connections.close()
