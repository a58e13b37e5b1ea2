"""The writers' function: one row per idempotency key, inside the caller's transaction."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from tests.integration.delivery.harness import Db
from tgbot.config import postgres_url_for
from tgbot.delivery import enqueue


async def test_enqueue_is_idempotent_and_commits_with_the_caller(
    db: Db, delivery_db_url: str
) -> None:
    engine = create_async_engine(postgres_url_for(delivery_db_url))
    try:
        async with AsyncSession(engine) as session:
            first = await enqueue(session, 5, "sendMessage", {"text": "hi"}, "reply:1")
            again = await enqueue(session, 5, "sendMessage", {"text": "hi"}, "reply:1")
            assert first is not None
            assert again is None
            await session.rollback()  # the caller's transaction owns the row
        assert await db.scalar("SELECT count(*) FROM outbox") == 0
        async with engine.begin() as conn:
            row_id = await enqueue(conn, 5, "sendMessage", {"text": "hi"}, "reply:1")
    finally:
        await engine.dispose()
    rows = await db.execute("SELECT id, chat_id, method, payload, status FROM outbox")
    assert rows == [(row_id, 5, "sendMessage", {"text": "hi"}, "pending")]
