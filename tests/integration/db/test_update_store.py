"""The update store commits the updates that finish together as one batch, on real PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram.methods import AnswerCallbackQuery, SendMessage
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from tests.support.staged import person, text_message
from tgbot.config import async_postgres_url
from tgbot.db.errors import DATABASE_ERRORS
from tgbot.db.queries.effects import FileMessage, SetLanguage
from tgbot.updates.store import Committed, UpdateStore


def note(user_id: int, n: int, content_type: str = "text") -> FileMessage:
    return text_message(user_id, n, f"store {n}", content_type)


def with_store(
    db_url: str, scenario: Callable[[UpdateStore, AsyncEngine], Awaitable[None]]
) -> None:
    async def run() -> None:
        engine = create_async_engine(async_postgres_url(db_url), pool_size=4)
        try:
            await scenario(UpdateStore(engine), engine)
        finally:
            await engine.dispose()

    asyncio.run(run())


async def texts_of(engine: AsyncEngine, user_id: int) -> list[str]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT m.text FROM messages m JOIN conversations c ON c.id = m.conversation_id"
                " WHERE c.user_id = :u ORDER BY m.id"
            ),
            {"u": user_id},
        )
        return [row.text for row in rows]


def test_one_bad_update_does_not_fail_the_others_in_its_batch(migrated_db_url: str) -> None:
    async def scenario(store: UpdateStore, engine: AsyncEngine) -> None:
        users = [45_000_001, 45_000_002, 45_000_003]
        outcomes: list[Any] = await asyncio.gather(
            store.commit(90_000_001, person(users[0]), [note(users[0], 1)]),
            store.commit(90_000_002, person(users[1]), [note(users[1], 2, "x" * 200)]),
            store.commit(90_000_003, person(users[2]), [note(users[2], 3)]),
            return_exceptions=True,
        )
        assert isinstance(outcomes[0], Committed)
        assert isinstance(outcomes[2], Committed)
        assert isinstance(outcomes[1], DATABASE_ERRORS)  # content_type longer than the column
        assert await texts_of(engine, users[0]) == ["store 1"]
        assert await texts_of(engine, users[1]) == []
        assert await texts_of(engine, users[2]) == ["store 3"]
        # The bad update was not claimed: a fixed redelivery would still be handled.
        assert await store.commit(90_000_002, person(users[1]), [note(users[1], 2)]) is not None

    with_store(migrated_db_url, scenario)


def test_an_update_twice_in_one_batch_has_its_effects_once(migrated_db_url: str) -> None:
    async def scenario(store: UpdateStore, engine: AsyncEngine) -> None:
        user = 45_000_010
        for effects in ([note(user, 10)], [note(user, 11), SetLanguage(user, "ru")]):
            update_id = 90_000_010 + len(effects)
            twice = await asyncio.gather(
                store.commit(update_id, person(user), effects),
                store.commit(update_id, person(user), effects),
            )
            assert [outcome is None for outcome in twice] == [False, True]
        assert await texts_of(engine, user) == ["store 10", "store 11"]
        again = await store.commit(90_000_019, person(user), [])
        assert again is not None
        assert again.user is not None
        assert again.user.language == "ru"

    with_store(migrated_db_url, scenario)


def test_a_batch_with_other_effects_commits_them_all(migrated_db_url: str) -> None:
    async def scenario(store: UpdateStore, engine: AsyncEngine) -> None:
        first, second = 45_000_020, 45_000_021
        outcomes = await asyncio.gather(
            store.commit(90_000_020, person(first), [note(first, 20)]),
            store.commit(90_000_021, person(second), [SetLanguage(second, "ru")]),
            store.commit(90_000_022, None, []),  # an update with no person behind it
        )
        # Each with its person as the claim found them: new, before the update's own effects.
        assert [(o.user.language, o.user.is_new) if o and o.user else o for o in outcomes] == [
            ("en", True),
            ("en", True),
            Committed(user=None),
        ]
        assert await texts_of(engine, first) == ["store 20"]
        later = await store.commit(90_000_023, person(second), [])
        assert later is not None
        assert later.user is not None
        assert (later.user.language, later.user.is_new) == ("ru", False)

    with_store(migrated_db_url, scenario)


def test_a_banned_users_update_writes_nothing_but_its_claim(migrated_db_url: str) -> None:
    async def scenario(store: UpdateStore, engine: AsyncEngine) -> None:
        user = 45_000_040
        assert await store.commit(90_000_040, person(user), [note(user, 40)]) is not None
        async with engine.begin() as conn:
            await conn.execute(
                text("UPDATE tg_users SET is_banned = true WHERE telegram_id = :u"), {"u": user}
            )
        for update_id, effects in (
            (90_000_041, [note(user, 41)]),  # the one-statement path
            (90_000_042, [note(user, 42), SetLanguage(user, "ru")]),  # the transaction path
        ):
            outcome = await store.commit(update_id, person(user), effects)
            assert outcome is not None
            assert outcome.user is not None
            assert outcome.user.is_banned
        assert await texts_of(engine, user) == ["store 40"]
        async with engine.connect() as conn:
            language = await conn.scalar(
                text("SELECT language FROM tg_users WHERE telegram_id = :u"), {"u": user}
            )
        assert language == "en"

    with_store(migrated_db_url, scenario)


def test_replies_that_could_not_be_sent_go_to_the_outbox_once(migrated_db_url: str) -> None:
    async def scenario(store: UpdateStore, engine: AsyncEngine) -> None:
        replies: list[Any] = [
            SendMessage(chat_id=45_000_030, text="Thanks, we got your message."),
            AnswerCallbackQuery(callback_query_id="q1", text="Saved"),  # cannot wait
        ]
        assert await store.defer_replies(90_000_030, replies) == 1
        await store.defer_replies(90_000_030, replies)  # the same update again: no second row
        async with engine.connect() as conn:
            rows = (
                await conn.execute(
                    text(
                        "SELECT chat_id, method, payload FROM outbox"
                        " WHERE idempotency_key LIKE 'reply:90000030:%'"
                    )
                )
            ).all()
        assert [(r.chat_id, r.method, r.payload) for r in rows] == [
            (45_000_030, "sendMessage", {"text": "Thanks, we got your message."})
        ]

    with_store(migrated_db_url, scenario)
