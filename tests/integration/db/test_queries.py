"""The statements every update makes, run many times on one connection (as a busy replica does).

asyncpg prepares every statement, and after five executions PostgreSQL may switch a prepared
statement to its generic plan, where a bound parameter's value is unknown to the planner: a
query that only works with custom plans (like an ON CONFLICT whose partial-index predicate is a
bound parameter) fails here.
"""

from __future__ import annotations

import asyncio

import asyncpg
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from tests.support.staged import person, text_message
from tests.support.waiting import async_wait_until
from tgbot.config import async_postgres_url
from tgbot.db.queries.effects import FileMessage, claim_and_file
from tgbot.db.queries.updates import claim_updates

ROUNDS = 30


def message(user_id: int, n: int) -> FileMessage:
    return text_message(user_id, n, f"q{n}")


def test_update_statements_survive_statement_preparation(migrated_db_url: str) -> None:
    """Batches of updates (two of them from one user) claimed and filed in one statement each,
    then delivered again: each message is stored once, in one conversation per user."""
    users = [42_000_000 + u for u in range(3)]

    async def scenario() -> None:
        conn = await asyncpg.connect("postgresql://" + migrated_db_url.split("://", 1)[1])
        try:
            await conn.execute("SET plan_cache_mode = force_generic_plan")
            for i in range(ROUNDS):
                update_ids = [77_000_000 + i * 10 + k for k in range(4)]
                senders = [users[0], users[1], users[2], users[i % 3]]
                claims = [(u, person(s)) for u, s in zip(update_ids, senders, strict=True)]
                messages = [(u, message(s, u)) for u, s in zip(update_ids, senders, strict=True)]
                claimed = await claim_and_file(conn, claims, messages)
                assert sorted(claimed) == update_ids
                for update_id, sender in zip(update_ids, senders, strict=True):
                    user = claimed[update_id]
                    assert user is not None
                    assert user.telegram_id == sender
                    assert user.is_new == (i == 0)
                again = [(u, person(p.telegram_id, "Changed")) for u, p in claims if p]
                assert await claim_and_file(conn, again, messages) == {}
            per_user = await conn.fetch(
                "SELECT c.user_id, count(DISTINCT c.id) AS threads, count(*) AS messages"
                " FROM messages m JOIN conversations c ON c.id = m.conversation_id"
                " WHERE c.user_id = ANY($1::bigint[]) GROUP BY c.user_id ORDER BY c.user_id",
                users,
            )
            assert [(r["user_id"], r["threads"], r["messages"]) for r in per_user] == [
                (user, 1, ROUNDS + ROUNDS // 3) for user in users
            ]
            # A duplicate changes nothing, not even the user's names.
            renamed = await conn.fetchval(
                "SELECT count(*) FROM tg_users WHERE first_name = 'Changed'"
                " AND telegram_id = ANY($1::bigint[])",
                users,
            )
            assert renamed == 0
        finally:
            await conn.close()

    asyncio.run(scenario())


def test_the_transaction_path_claims_and_files_under_generic_plans(migrated_db_url: str) -> None:
    """The statements a batch with other effects runs in its transaction (SQLAlchemy)."""

    async def scenario() -> None:
        engine = create_async_engine(async_postgres_url(migrated_db_url), pool_size=1)
        try:
            async with engine.connect() as conn:
                await conn.execute(text("SET plan_cache_mode = force_generic_plan"))
                await conn.commit()
                for i in range(ROUNDS):
                    user_id = 44_000_000 + i % 3
                    async with conn.begin():
                        claimed = await claim_updates(conn, [(79_000_000 + i, person(user_id))])
                        assert list(claimed) == [79_000_000 + i]
                        await FileMessage.apply_all(conn, [message(user_id, i)])
                    async with conn.begin():
                        assert await claim_updates(conn, [(79_000_000 + i, None)]) == {}
                counts = await conn.execute(
                    text(
                        "SELECT c.user_id, count(*) FROM messages m JOIN conversations c"
                        " ON c.id = m.conversation_id WHERE c.user_id >= 44000000"
                        " AND c.user_id < 44000003 GROUP BY c.user_id ORDER BY c.user_id"
                    )
                )
                assert counts.all() == [(44_000_000 + u, ROUNDS // 3) for u in range(3)]
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

        async def file(conn: AsyncConnection, n: int) -> None:
            await FileMessage.apply_all(conn, [message(user_id, n)])

        try:
            async with engine.begin() as conn:
                await claim_updates(conn, [(88_000_001, person(user_id, "R"))])
            async with engine.connect() as first, engine.connect() as second:
                await first.begin()
                await second.begin()
                await file(first, 1)
                racing = asyncio.create_task(file(second, 2))
                await async_wait_until(
                    lambda: lock_waiters(engine),
                    timeout=10,
                    what="the second insert to wait for the first transaction",
                )
                await first.commit()
                await racing
                await second.commit()
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
