"""Queries the handlers rely on, run many times on one connection (as a busy replica does).

psycopg prepares a statement after a few executions; a query that only works unprepared (like
an ON CONFLICT whose partial-index predicate is a bound parameter) fails here.
"""

from __future__ import annotations

import asyncio

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from tests.support.waiting import async_wait_until
from tgbot.config import postgres_url_for
from tgbot.db.queries.conversations import add_incoming_message, open_conversation_id
from tgbot.db.queries.updates import claim_update
from tgbot.db.queries.users import upsert_seen_user

# Past psycopg's prepare threshold (5) and PostgreSQL's five custom plans of a prepared statement,
# so the server switches to its generic plan, where a bound parameter's value is unknown.
ROUNDS = 30


def test_handler_queries_survive_statement_preparation(migrated_db_url: str) -> None:
    async def scenario() -> None:
        engine = create_async_engine(postgres_url_for(migrated_db_url), pool_size=1)
        try:
            async with engine.connect() as conn:
                # What a long-lived pooled connection ends up with: the generic plan, in which a
                # bound parameter's value is unknown to the planner.
                await conn.execute(text("SET plan_cache_mode = force_generic_plan"))
                await conn.commit()
                for i in range(ROUNDS):
                    user_id = 42_000_000 + i % 3
                    async with conn.begin():
                        session_like = conn
                        assert await claim_update(session_like, update_id=77_000_000 + i)  # type: ignore[arg-type]
                        seen = await upsert_seen_user(
                            session_like,  # type: ignore[arg-type]
                            telegram_id=user_id,
                            username=None,
                            first_name="Q",
                            last_name=None,
                            language_code="en",
                            initial_language="en",
                        )
                        assert seen.is_new == (i < 3)
                        conversation_id, created = await open_conversation_id(
                            session_like,  # type: ignore[arg-type]
                            user_id=user_id,
                        )
                        assert created == (i < 3)
                        await add_incoming_message(
                            session_like,  # type: ignore[arg-type]
                            conversation_id=conversation_id,
                            content_type="text",
                            text=f"q{i}",
                            file_id=None,
                            telegram_message_id=i,
                        )
                    assert not await claim_update(conn, update_id=77_000_000 + i)  # type: ignore[arg-type]
                    await conn.rollback()
                counts = await conn.execute(
                    text(
                        "SELECT c.user_id, count(*) FROM messages m JOIN conversations c"
                        " ON c.id = m.conversation_id WHERE c.user_id >= 42000000"
                        " AND c.user_id < 42000003 GROUP BY c.user_id ORDER BY c.user_id"
                    )
                )
                assert counts.all() == [(42_000_000 + u, ROUNDS // 3) for u in range(3)]
        finally:
            await engine.dispose()

    asyncio.run(scenario())


def test_first_messages_racing_from_two_replicas_share_one_conversation(
    migrated_db_url: str,
) -> None:
    """The second transaction waits on the first one's insert, then reads what it committed."""
    user_id = 43_000_001

    async def scenario() -> None:
        engine = create_async_engine(postgres_url_for(migrated_db_url), pool_size=3)
        try:
            async with engine.begin() as conn:
                await upsert_seen_user(
                    conn,  # type: ignore[arg-type]
                    telegram_id=user_id,
                    username=None,
                    first_name="R",
                    last_name=None,
                    language_code="en",
                    initial_language="en",
                )
            async with engine.connect() as first, engine.connect() as second:
                await first.begin()
                await second.begin()
                opened = await open_conversation_id(first, user_id=user_id)  # type: ignore[arg-type]
                racing = asyncio.create_task(
                    open_conversation_id(second, user_id=user_id)  # type: ignore[arg-type]
                )
                await async_wait_until(
                    lambda: lock_waiters(engine),
                    timeout=10,
                    what="the second insert to wait for the first transaction",
                )
                await first.commit()
                joined = await racing
                await second.commit()
            assert opened[1] is True
            assert joined == (opened[0], False)
            async with engine.connect() as conn:
                count = await conn.scalar(
                    text("SELECT count(*) FROM conversations WHERE user_id = :u"), {"u": user_id}
                )
            assert count == 1
        finally:
            await engine.dispose()

    asyncio.run(scenario())


async def lock_waiters(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        waiting = await conn.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE wait_event_type = 'Lock' AND datname = current_database()"
            )
        )
    return int(waiting or 0)
