"""Admission of webhook updates on a real Redis: one round trip claims the update and counts
the user's message against the throttle."""

from __future__ import annotations

from redis.asyncio import Redis

from tgbot.services.redis_guard import RedisGuard
from tgbot.updates.admission import UpdateAdmission
from tgbot.updates.dedup import Seen, UpdateDeduplicator
from tgbot.updates.throttle import Throttle


def admission_for(guard: RedisGuard, bot_id: int, limit: int = 2) -> UpdateAdmission:
    dedup = UpdateDeduplicator(guard, bot_id=bot_id, in_flight_ttl=30)
    return UpdateAdmission(guard, dedup, Throttle(guard, limit=limit, window_seconds=3600))


async def test_the_same_update_id_of_two_bots_is_new_to_each(clean_redis: str) -> None:
    """update_ids are numbered per bot, so two bots sharing one Redis must not collide."""
    redis = Redis.from_url(clean_redis)
    try:
        guard = RedisGuard(redis)
        support_bot, news_bot = admission_for(guard, 111), admission_for(guard, 222)

        assert (await support_bot.admit(1, message_from=None)).seen is Seen.NEW
        await UpdateDeduplicator(guard, bot_id=111).finish(1)
        assert (await news_bot.admit(1, message_from=None)).seen is Seen.NEW
        assert (await support_bot.admit(1, message_from=None)).seen is Seen.DONE
    finally:
        await redis.aclose()


async def test_a_retry_during_handling_is_in_flight_and_counts_nothing(clean_redis: str) -> None:
    redis = Redis.from_url(clean_redis)
    try:
        guard = RedisGuard(redis)
        admission = admission_for(guard, 333, limit=1)

        first = await admission.admit(10, message_from=42)
        assert first.seen is Seen.NEW
        assert first.throttle is not None
        assert first.throttle.allowed

        retry = await admission.admit(10, message_from=42)
        assert retry.seen is Seen.IN_FLIGHT
        assert retry.throttle is None

        # The retry was not counted: the user's next message is the second, the first over
        # the limit of 1, so it is refused with the polite notice, and the third silently.
        second = await admission.admit(11, message_from=42)
        assert second.throttle is not None
        assert (second.throttle.allowed, second.throttle.notify) == (False, True)
        third = await admission.admit(12, message_from=42)
        assert third.throttle is not None
        assert (third.throttle.allowed, third.throttle.notify) == (False, False)

        other_user = await admission.admit(13, message_from=43)
        assert other_user.throttle is not None
        assert other_user.throttle.allowed
        assert (await admission.admit(14, message_from=None)).throttle is None
    finally:
        await redis.aclose()


async def test_unreachable_redis_admits_everything_for_the_database_to_decide() -> None:
    redis = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.5)
    try:
        admission = admission_for(RedisGuard(redis), 444)
        result = await admission.admit(1, message_from=42)
        assert (result.seen, result.throttle) == (Seen.UNKNOWN, None)
    finally:
        await redis.aclose()
