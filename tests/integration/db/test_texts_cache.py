"""Bot texts under load: one query for the first read, then stale-while-reloading in the background.

A handler holds a pooled connection while it reads a text; if reading texts needed a second
connection, a full pool would deadlock until its timeout. These tests use a pool of one
connection to prove that a reader holding it is answered at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from tests.support.waiting import async_wait_until
from tgbot.config import async_postgres_url
from tgbot.services.texts import TextService
from tgbot.texts_defaults import DEFAULT_TEXTS


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def engine(migrated_db_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(
        async_postgres_url(migrated_db_url), pool_size=1, max_overflow=0, pool_timeout=2
    )
    yield engine
    async with engine.begin() as conn:
        await conn.execute(text("DELETE FROM bot_texts WHERE key = 'help'"))
    await engine.dispose()


def text_reads(engine: AsyncEngine) -> list[str]:
    seen: list[str] = []

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def record(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if statement.lstrip().startswith("SELECT") and "bot_texts" in statement:
            seen.append(statement)

    return seen


async def test_concurrent_first_readers_share_one_query(engine: AsyncEngine) -> None:
    queries = text_reads(engine)
    texts = TextService(engine, default_language="en", ttl_seconds=60, clock=Clock())
    answers = await asyncio.gather(*(texts.get("help", "en") for _ in range(20)))
    assert set(answers) == {DEFAULT_TEXTS["help"]["en"]}
    assert len(queries) == 1


async def test_a_stale_cache_answers_at_once_and_reloads_in_the_background(
    engine: AsyncEngine,
) -> None:
    clock = Clock()
    queries = text_reads(engine)
    texts = TextService(engine, default_language="en", ttl_seconds=5, clock=clock)
    assert await texts.get("help", "en") == DEFAULT_TEXTS["help"]["en"]

    async with engine.begin() as conn:
        await conn.execute(
            text("INSERT INTO bot_texts (key, language, body) VALUES ('help', 'en', 'Edited')")
        )
    clock.now += 6  # the cache is stale now

    # Hold the pool's only connection, as a handler in its transaction does.
    async with engine.connect() as held:
        await held.execute(text("SELECT 1"))
        answers = await asyncio.wait_for(
            asyncio.gather(*(texts.get("help", "en") for _ in range(10))), timeout=1
        )
        assert set(answers) == {DEFAULT_TEXTS["help"]["en"]}  # stale, not blocked
    # The connection is free again: the single background reload completes.
    await async_wait_until(
        lambda: _get(texts), timeout=10, what="the edited text after the background reload"
    )
    assert len(queries) == 2
    await texts.aclose()


async def _get(texts: TextService) -> bool:
    return await texts.get("help", "en") == "Edited"


async def test_an_unsafe_override_gives_way_to_the_built_in_text(engine: AsyncEngine) -> None:
    # Written past the panel (which refuses it): a format spec that would allocate a gigabyte.
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO bot_texts (key, language, body) VALUES "
                "('start', 'en', 'Hi {name:>999999999}'), ('help', 'en', 'Custom help')"
            )
        )
    try:
        texts = TextService(engine, default_language="en", ttl_seconds=60)
        await texts.load()
        expected = DEFAULT_TEXTS["start"]["en"].format(name="Anna")
        assert await texts.get("start", "en", name="Anna") == expected
        assert await texts.get("help", "en") == "Custom help"
        await texts.aclose()
    finally:
        async with engine.begin() as conn:
            await conn.execute(text("DELETE FROM bot_texts WHERE key = 'start'"))
