"""The GCRA reservations and flood waits, against a real Redis."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from tgbot.delivery.ratelimit import CHAT_HEADROOM, HEADROOM, RedisLimiter


@pytest.fixture
async def redis(clean_redis: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(clean_redis)
    yield client
    await client.aclose()


async def test_reservations_are_spaced_by_the_global_interval(redis: Redis) -> None:
    limiter = RedisLimiter(redis, global_rate=10)
    delays = [(await limiter.reserve(chat, max_wait=5)).delay for chat in range(1, 11)]
    step = HEADROOM / 10
    for n, delay in enumerate(delays):
        assert delay == pytest.approx(n * step, abs=0.03)


async def test_a_busy_chat_waits_without_taking_global_slots(redis: Redis) -> None:
    limiter = RedisLimiter(redis, global_rate=100)
    assert (await limiter.reserve(7, max_wait=5)).granted
    again = await limiter.reserve(7, max_wait=5)
    assert not again.granted
    assert again.delay == pytest.approx(CHAT_HEADROOM, abs=0.05)
    # Another chat is not pushed back by chat 7's schedule.
    other = await limiter.reserve(8, max_wait=5)
    assert other.granted
    assert other.delay < 0.05


async def test_a_slot_further_than_max_wait_is_not_reserved(redis: Redis) -> None:
    limiter = RedisLimiter(redis, global_rate=1)
    assert (await limiter.reserve(1, max_wait=0.5)).granted
    late = await limiter.reserve(2, max_wait=0.5)
    assert not late.granted
    assert late.delay > 0.5
    # Nothing was reserved: the next caller sees the same slot, not a later one.
    assert (await limiter.reserve(3, max_wait=0.5)).delay == pytest.approx(late.delay, abs=0.05)


async def test_retry_after_blocks_the_chat_and_repeated_429s_block_everyone(
    redis: Redis,
) -> None:
    limiter = RedisLimiter(redis, global_rate=1000)
    assert not await limiter.flood_wait(5, retry_after=3)
    blocked = await limiter.reserve(5, max_wait=10)
    assert not blocked.granted
    assert blocked.delay == pytest.approx(3, abs=0.05)
    assert (await limiter.reserve(6, max_wait=10)).delay < 0.05  # others unaffected
    await limiter.flood_wait(6, retry_after=2)
    assert await limiter.flood_wait(9, retry_after=2)  # the third 429 within a second
    everyone = await limiter.reserve(10, max_wait=10)
    assert everyone.granted
    assert everyone.delay == pytest.approx(2, abs=0.05)
