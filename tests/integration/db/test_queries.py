"""Queries the handlers rely on, run many times on one connection (as a busy replica does).

psycopg prepares a statement after a few executions; a query that only works unprepared (like
an ON CONFLICT whose partial-index predicate is a bound parameter) fails here.
"""

from __future__ import annotations

import asyncio

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from tgbot.config import postgres_url_for
from tgbot.db.queries.conversations import add_incoming_message, open_conversation_id
from tgbot.db.queries.updates import claim_update
from tgbot.db.queries.users import upsert_seen_user

# Past psycopg's prepare threshold (5) and PostgreSQL's five custom plans, when the server may
# switch to a generic plan, where a bound parameter in the predicate no longer proves the index.
ROUNDS = 30


def test_handler_queries_survive_statement_preparation(migrated_db_url: str) -> None:
    async def scenario() -> None:
        engine = create_async_engine(postgres_url_for(migrated_db_url), pool_size=1)
        try:
            async with engine.connect() as conn:
                # A busy server may pick the generic plan for any prepared statement; force it.
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
