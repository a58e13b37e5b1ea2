"""Two bots sharing one Redis: update_ids are numbered per bot, so their dedup must not collide."""

from __future__ import annotations

from redis.asyncio import Redis

from tgbot.services.dedup import Seen, UpdateDeduplicator
from tgbot.services.redis_guard import RedisGuard


async def test_the_same_update_id_of_two_bots_is_new_to_each(clean_redis: str) -> None:
    redis = Redis.from_url(clean_redis)
    try:
        guard = RedisGuard(redis)
        support_bot = UpdateDeduplicator(guard, bot_id=111)
        news_bot = UpdateDeduplicator(guard, bot_id=222)

        assert await support_bot.begin(1) is Seen.NEW
        await support_bot.finish(1)
        assert await news_bot.begin(1) is Seen.NEW
        assert await support_bot.begin(1) is Seen.DONE
    finally:
        await redis.aclose()
