"""Queries the handlers rely on, run many times on one connection (as a busy replica does).

asyncpg prepares every statement, and after five executions PostgreSQL may switch a prepared
statement to its generic plan, where a bound parameter's value is unknown to the planner: a
query that only works with custom plans (like an ON CONFLICT whose partial-index predicate is a
bound parameter) fails here.
"""

from __future__ import annotations

import asyncio

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from tests.support.waiting import async_wait_until
from tgbot.config import async_postgres_url
from tgbot.db.queries.conversations import FiledMessage, file_incoming_message
from tgbot.db.queries.updates import claim_update
from tgbot.db.queries.users import UserProfile

ROUNDS = 30


def profile(telegram_id: int, first_name: str = "Q") -> UserProfile:
    return UserProfile(
        telegram_id=telegram_id,
        username=None,
        first_name=first_name,
        last_name=None,
        language_code="en",
        initial_language="en",
    )


def test_handler_queries_survive_statement_preparation(migrated_db_url: str) -> None:
    async def scenario() -> None:
        engine = create_async_engine(async_postgres_url(migrated_db_url), pool_size=1)
        try:
            async with engine.connect() as conn:
                await conn.execute(text("SET plan_cache_mode = force_generic_plan"))
                await conn.commit()
                for i in range(ROUNDS):
                    user_id = 42_000_000 + i % 3
                    update_id = 77_000_000 + i
                    async with conn.begin():
                        claim = await claim_update(conn, update_id=update_id, user=profile(user_id))
                        assert claim.claimed
                        assert claim.user is not None
                        assert claim.user.is_new == (i < 3)
                        filed = await file_incoming_message(
                            conn,
                            user_id=user_id,
                            content_type="text",
                            text=f"q{i}",
                            file_id=None,
                            telegram_message_id=i,
                        )
                        assert filed.conversation_created == (i < 3)
                    async with conn.begin():
                        again = await claim_update(
                            conn, update_id=update_id, user=profile(user_id, first_name="Changed")
                        )
                        assert not again.claimed
                        assert again.user is None
                        without_user = await claim_update(conn, update_id=update_id)
                        assert not without_user.claimed
                counts = await conn.execute(
                    text(
                        "SELECT c.user_id, count(*) FROM messages m JOIN conversations c"
                        " ON c.id = m.conversation_id WHERE c.user_id >= 42000000"
                        " AND c.user_id < 42000003 GROUP BY c.user_id ORDER BY c.user_id"
                    )
                )
                assert counts.all() == [(42_000_000 + u, ROUNDS // 3) for u in range(3)]
                # A duplicate changes nothing, not even the user's names.
                names = await conn.scalar(
                    text(
                        "SELECT count(*) FROM tg_users WHERE first_name = 'Changed'"
                        " AND telegram_id >= 42000000 AND telegram_id < 42000003"
                    )
                )
                assert names == 0
        finally:
            await engine.dispose()

    asyncio.run(scenario())


def test_first_messages_racing_from_two_replicas_share_one_conversation(
    migrated_db_url: str,
) -> None:
    """The second transaction waits on the first one's insert, then files into its thread."""
    user_id = 43_000_001

    async def scenario() -> None:
        engine = create_async_engine(async_postgres_url(migrated_db_url), pool_size=3)

        async def file(conn: AsyncConnection, n: int) -> FiledMessage:
            return await file_incoming_message(
                conn,
                user_id=user_id,
                content_type="text",
                text=f"race {n}",
                file_id=None,
                telegram_message_id=n,
            )

        try:
            async with engine.begin() as conn:
                await claim_update(conn, update_id=88_000_001, user=profile(user_id, "R"))
            async with engine.connect() as first, engine.connect() as second:
                await first.begin()
                await second.begin()
                opened = await file(first, 1)
                racing = asyncio.create_task(file(second, 2))
                await async_wait_until(
                    lambda: lock_waiters(engine),
                    timeout=10,
                    what="the second insert to wait for the first transaction",
                )
                await first.commit()
                joined = await racing
                await second.commit()
            assert opened.conversation_created is True
            assert joined.conversation_id == opened.conversation_id
            assert joined.conversation_created is False
            async with engine.connect() as conn:
                conversations = await conn.scalar(
                    text("SELECT count(*) FROM conversations WHERE user_id = :u"), {"u": user_id}
                )
                messages = await conn.scalar(
                    text(
                        "SELECT count(*) FROM messages m JOIN conversations c"
                        " ON c.id = m.conversation_id WHERE c.user_id = :u"
                    ),
                    {"u": user_id},
                )
            assert (conversations, messages) == (1, 2)
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
