"""Prototype: floor_bot.py with natural batching (group commit) of Redis and PostgreSQL work."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

import asyncpg
from aiogram import Dispatcher, Router
from aiogram.types import Message, Update
from echo_bot import serve
from redis.asyncio import Redis

T = TypeVar("T")
R = TypeVar("R")


class Coalescer(Generic[T, R]):
    """submit() items; one batch in flight at a time; items arriving meanwhile form the next."""

    def __init__(self, run: Callable[[list[T]], Awaitable[list[R]]]) -> None:
        self._run = run
        self._queue: list[tuple[T, asyncio.Future[R]]] = []
        self._busy = False

    async def submit(self, item: T) -> R:
        fut: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._queue.append((item, fut))
        if not self._busy:
            self._busy = True
            asyncio.get_running_loop().call_soon(lambda: asyncio.ensure_future(self._drain()))
        return await fut

    async def _drain(self) -> None:
        try:
            while self._queue:
                batch, self._queue = self._queue, []
                try:
                    results = await self._run([item for item, _ in batch])
                except BaseException as exc:
                    for _, fut in batch:
                        if not fut.done():
                            fut.set_exception(exc)
                    continue
                for (_, fut), result in zip(batch, results, strict=True):
                    if not fut.done():
                        fut.set_result(result)
        finally:
            self._busy = False


ADMIT = """
local out = {}
for i, key in ipairs(KEYS) do
    if i % 2 == 1 then
        if redis.call('SET', key, 'in-flight', 'NX', 'EX', 30) then
            out[#out + 1] = redis.call('INCR', KEYS[i + 1])
        else
            out[#out + 1] = -1
        end
    end
end
return out
"""

RECORD = """
WITH input AS (
    SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[],
        $6::bigint[]) AS t(update_id, user_id, first_name, language_code, body, message_id)
), claimed AS (
    INSERT INTO processed_updates (update_id) SELECT update_id FROM input
    ON CONFLICT (update_id) DO NOTHING RETURNING update_id
), items AS (
    SELECT input.* FROM input JOIN claimed USING (update_id)
), seen AS (
    INSERT INTO tg_users (telegram_id, first_name, language_code, language)
    SELECT DISTINCT ON (user_id) user_id, first_name, language_code, 'en' FROM items
    ORDER BY user_id, update_id DESC
    ON CONFLICT (telegram_id) DO UPDATE SET first_name = excluded.first_name,
        language_code = excluded.language_code, last_seen_at = now()
    RETURNING telegram_id, language, is_banned
), found AS (
    SELECT c.id, c.user_id FROM conversations c JOIN seen ON c.user_id = seen.telegram_id
    WHERE c.status = 'open' AND NOT seen.is_banned
), opened AS (
    INSERT INTO conversations (user_id, status)
    SELECT telegram_id, 'open' FROM seen
    WHERE NOT is_banned AND telegram_id NOT IN (SELECT user_id FROM found)
    ON CONFLICT (user_id) WHERE status = 'open' DO NOTHING RETURNING id, user_id
), conv AS (
    SELECT id, user_id FROM found UNION ALL SELECT id, user_id FROM opened
), stored AS (
    INSERT INTO messages (conversation_id, direction, content_type, text, telegram_message_id)
    SELECT conv.id, 'in', 'text', items.body, items.message_id
    FROM items JOIN conv ON conv.user_id = items.user_id
    RETURNING telegram_message_id
)
SELECT items.update_id, seen.language FROM items JOIN seen ON seen.telegram_id = items.user_id
WHERE NOT seen.is_banned AND EXISTS (SELECT 1 FROM stored)
"""

router = Router()


@router.message()
async def file_and_acknowledge(message: Message, event_update: Update, batches: Any) -> None:
    user = message.from_user
    assert user is not None
    update_id = event_update.update_id
    admit, record, done = batches
    hits = await admit.submit((update_id, user.id))
    if hits < 0:
        return
    language = await record.submit(
        (update_id, user.id, user.first_name, user.language_code, message.text, message.message_id)
    )
    if language is not None:
        await message.answer("Thanks, we got your message.")
    await done.submit(update_id)


def main() -> None:
    port, (api_base, token, database_url, redis_url) = int(sys.argv[1]), sys.argv[2:6]

    async def connect(dp: Dispatcher) -> None:
        pool = await asyncpg.create_pool(database_url, min_size=2, max_size=2)
        redis = Redis.from_url(redis_url)
        script = redis.register_script(ADMIT)

        async def admit(items: list[tuple[int, int]]) -> list[int]:
            keys: list[str] = []
            for update_id, user_id in items:
                keys += [f"floor:update:{update_id}", f"floor:throttle:{user_id}"]
            return [int(x) for x in await script(keys=keys)]

        async def record(items: list[tuple[Any, ...]]) -> list[str | None]:
            columns = list(zip(*items, strict=True))
            rows = await pool.fetch(RECORD, *columns)
            languages = {row["update_id"]: row["language"] for row in rows}
            return [languages.get(item[0]) for item in items]

        async def done(items: list[int]) -> list[None]:
            async with redis.pipeline(transaction=False) as pipe:
                for update_id in items:
                    pipe.set(f"floor:update:{update_id}", "done", ex=86_400)
                await pipe.execute()
            return [None] * len(items)

        dp["batches"] = (Coalescer(admit), Coalescer(record), Coalescer(done))

    serve(port, api_base, token, router, on_startup=connect)


if __name__ == "__main__":
    main()
