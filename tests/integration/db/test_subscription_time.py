"""Subscribing stamps ``subscribed_at`` (the "subscribed since" segment); unsubscribing keeps it."""

from __future__ import annotations

import asyncio

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from tgbot.config import async_postgres_url
from tgbot.db.queries.users import set_subscribed


def test_subscribing_records_when(fresh_migrated_db_url: str) -> None:
    async def scenario() -> None:
        engine = create_async_engine(async_postgres_url(fresh_migrated_db_url))
        try:
            async with engine.begin() as conn:
                await conn.execute(
                    text("INSERT INTO tg_users (telegram_id, first_name) VALUES (9, 'A')")
                )

            async def stamp() -> object:
                async with engine.connect() as conn:
                    return (
                        await conn.execute(
                            text("SELECT subscribed_at FROM tg_users WHERE telegram_id = 9")
                        )
                    ).scalar()

            assert await stamp() is None
            async with engine.begin() as conn:
                assert await set_subscribed(conn, telegram_id=9, subscribed=True)
            first = await stamp()
            assert first is not None
            async with engine.begin() as conn:
                assert await set_subscribed(conn, telegram_id=9, subscribed=False)
            assert await stamp() == first  # kept: when they last subscribed
            async with engine.begin() as conn:
                assert not await set_subscribed(conn, telegram_id=9, subscribed=False)
        finally:
            await engine.dispose()

    asyncio.run(scenario())
