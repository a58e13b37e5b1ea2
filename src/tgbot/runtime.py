"""Everything a bot process holds open, built once from the settings and closed once."""

from __future__ import annotations

import math
from dataclasses import dataclass

from aiogram import Bot, Dispatcher
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from tgbot.bot.factory import create_bot, create_dispatcher
from tgbot.config import Settings, require
from tgbot.db.engine import create_engine, create_sessionmaker
from tgbot.services.dedup import UpdateDeduplicator
from tgbot.services.fsm_storage import FailOpenRedisStorage
from tgbot.services.redis_guard import RedisGuard, create_redis
from tgbot.services.texts import TextService
from tgbot.services.throttle import Throttle


@dataclass
class BotRuntime:
    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    redis: Redis
    guard: RedisGuard
    dedup: UpdateDeduplicator
    bot: Bot
    dispatcher: Dispatcher
    texts: TextService

    @classmethod
    def build(cls, settings: Settings) -> BotRuntime:
        require(settings, "redis_url", "telegram_bot_token")
        assert settings.redis_url is not None
        engine = create_engine(settings)
        sessionmaker = create_sessionmaker(engine)
        redis = create_redis(settings.redis_url.get_secret_value())
        guard = RedisGuard(redis)
        bot = create_bot(settings)
        texts = TextService(
            sessionmaker,
            default_language=settings.default_language,
            ttl_seconds=settings.texts_cache_seconds,
        )
        throttle = Throttle(
            guard, limit=settings.throttle_limit, window_seconds=settings.throttle_window_seconds
        )
        dispatcher = create_dispatcher(
            storage=FailOpenRedisStorage(guard),
            sessionmaker=sessionmaker,
            texts=texts,
            throttle=throttle,
        )
        return cls(
            settings=settings,
            engine=engine,
            sessionmaker=sessionmaker,
            redis=redis,
            guard=guard,
            # A marker left behind (Redis failed at abandon) holds retries back no longer than
            # one handling can take.
            dedup=UpdateDeduplicator(
                guard,
                bot_id=bot.id,
                in_flight_ttl=math.ceil(settings.handler_timeout) + 5,
            ),
            bot=bot,
            dispatcher=dispatcher,
            texts=texts,
        )

    async def close(self) -> None:
        await self.texts.aclose()
        await self.bot.session.close()
        await self.redis.aclose()
        await self.engine.dispose()
