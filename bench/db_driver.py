"""Client CPU of the bot's per-update transaction with psycopg (in use) and asyncpg (candidate).

    uv run --with asyncpg python bench/db_driver.py [--transactions 3000] [--concurrency 16]

The transaction is what `tgbot serve` runs for a user's text message: claim the update, upsert
the user, find or open the conversation, store the message. PostgreSQL comes from testcontainers
(or TEST_DATABASE_URL). Prints transactions/s and the client CPU per transaction per driver; the
CPU figure does not depend on the machine's other load, the rate does.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from tests.support import services

from tgbot.db.migrate import migrate
from tgbot.db.queries.conversations import add_incoming_message, open_conversation_id
from tgbot.db.queries.updates import claim_update
from tgbot.db.queries.users import upsert_seen_user


async def one_update(sessionmaker: async_sessionmaker[AsyncSession], n: int) -> None:
    async with sessionmaker() as session, session.begin():
        await claim_update(session, update_id=n)
        user = await upsert_seen_user(
            session,
            telegram_id=900_000 + n % 1000,
            username=None,
            first_name="Bench",
            last_name=None,
            language_code="en",
            initial_language="en",
        )
        conversation_id, _ = await open_conversation_id(session, user_id=user.telegram_id)
        await add_incoming_message(
            session,
            conversation_id=conversation_id,
            content_type="text",
            text="benchmark",
            file_id=None,
            telegram_message_id=n,
        )


async def run(url: str, driver: str, first: int, count: int, concurrency: int) -> None:
    engine = create_async_engine(
        url.replace("postgresql://", f"postgresql+{driver}://", 1),
        pool_size=concurrency,
        max_overflow=0,
    )
    sessionmaker = async_sessionmaker(engine, expire_on_commit=False)
    gate = asyncio.Semaphore(concurrency)

    async def gated(n: int) -> None:
        async with gate:
            await one_update(sessionmaker, n)

    await asyncio.gather(*(gated(first - 1 - n) for n in range(200)))  # warm-up
    wall, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(gated(first + n) for n in range(count)))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(
        f"{driver:8s} {count / wall:7.0f} transactions/s   "
        f"client CPU {cpu / count * 1000:.2f} ms per transaction"
    )
    await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--transactions", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    drivers = ["psycopg"] + (["asyncpg"] if importlib.util.find_spec("asyncpg") else [])
    with services.postgres_server() as pg:
        url = pg.create_database("benchdriver")
        migrate(url)
        for i, driver in enumerate(drivers):
            asyncio.run(run(url, driver, 10_000_000 * (i + 1), args.transactions, args.concurrency))
        if len(drivers) == 1:
            print("asyncpg is not installed: uv run --with asyncpg python bench/db_driver.py")


if __name__ == "__main__":
    main()
