"""The floor for bench/webhook.py: the least any design on this stack can do per update with the
same persistence as `tgbot serve` — not a product, a yardstick.

One Redis round trip (dedup claim + throttle count, a Lua script), one PostgreSQL statement in
autocommit (claim the update, register the user, file the message in the open conversation),
the reply, one Redis round trip (done marker). Raw asyncpg and redis-py on aiogram, aiohttp and
uvloop; no SQLAlchemy, no middlewares, no metrics, no logging.
    python bench/floor_bot.py PORT API_BASE TOKEN DATABASE_URL REDIS_URL
"""

from __future__ import annotations

import sys

import asyncpg
from aiogram import Dispatcher, Router
from aiogram.types import Message, Update
from echo_bot import serve  # bench/ is this script's directory
from redis.asyncio import Redis

ADMIT = """
if redis.call('SET', KEYS[1], 'in-flight', 'NX', 'EX', 30) then
    return redis.call('INCR', KEYS[2])
end
return -1
"""

RECORD = """
WITH claimed AS (
    INSERT INTO processed_updates (update_id) VALUES ($1)
    ON CONFLICT (update_id) DO NOTHING RETURNING update_id
), seen AS (
    INSERT INTO tg_users (telegram_id, first_name, language_code, language)
    SELECT $2, $3, $4, 'en' WHERE EXISTS (SELECT 1 FROM claimed)
    ON CONFLICT (telegram_id) DO UPDATE SET first_name = excluded.first_name,
        language_code = excluded.language_code, last_seen_at = now()
    RETURNING telegram_id, language, is_banned
), found AS (
    SELECT c.id FROM conversations c JOIN seen ON c.user_id = seen.telegram_id
    WHERE c.status = 'open' AND NOT seen.is_banned
), opened AS (
    INSERT INTO conversations (user_id, status)
    SELECT telegram_id, 'open' FROM seen WHERE NOT is_banned AND NOT EXISTS (SELECT 1 FROM found)
    ON CONFLICT (user_id) WHERE status = 'open' DO NOTHING RETURNING id
), stored AS (
    INSERT INTO messages (conversation_id, direction, content_type, text, telegram_message_id)
    SELECT id, 'in', 'text', $5, $6 FROM (SELECT id FROM found UNION ALL SELECT id FROM opened) c
    RETURNING id
)
SELECT seen.language FROM seen WHERE EXISTS (SELECT 1 FROM stored)
"""

router = Router()


@router.message()
async def file_and_acknowledge(
    message: Message, event_update: Update, pool: asyncpg.Pool, redis: Redis
) -> None:
    user = message.from_user
    assert user is not None
    update_id = event_update.update_id
    hits = await redis.eval(ADMIT, 2, f"floor:update:{update_id}", f"floor:throttle:{user.id}")
    if int(hits) < 0:
        return
    language = await pool.fetchval(
        RECORD, update_id, user.id, user.first_name, user.language_code, message.text,
        message.message_id,
    )  # fmt: skip
    if language is not None:
        await message.answer("Thanks, we got your message.")
    await redis.set(f"floor:update:{update_id}", "done", ex=86_400)


def main() -> None:
    port, (api_base, token, database_url, redis_url) = int(sys.argv[1]), sys.argv[2:6]

    async def connect(dp: Dispatcher) -> None:
        dp["pool"] = await asyncpg.create_pool(database_url, min_size=20, max_size=20)
        dp["redis"] = Redis.from_url(redis_url)

    serve(port, api_base, token, router, on_startup=connect)


if __name__ == "__main__":
    main()
