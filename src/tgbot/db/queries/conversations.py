"""Support conversations: a user's messages land in their one open thread.

Plain SQL on this path: it runs for every user message, and SQLAlchemy never caches a
PostgreSQL ON CONFLICT construct. The partial index's predicate is written literally
(``status = 'open'``): as a bound parameter it cannot be matched to the index once PostgreSQL
uses the generic plan of the prepared statement.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

# The existing open conversation, or a new one: one round trip either way.
FIND_OR_OPEN_CONVERSATION = text(
    """
    WITH found AS (
        SELECT id FROM conversations WHERE user_id = :user_id AND status = 'open'
    ), opened AS (
        INSERT INTO conversations (user_id, status)
        SELECT :user_id, 'open' WHERE NOT EXISTS (SELECT 1 FROM found)
        ON CONFLICT (user_id) WHERE status = 'open' DO NOTHING
        RETURNING id
    )
    SELECT id, false AS created FROM found
    UNION ALL
    SELECT id, true AS created FROM opened
    """
)

# Both statements see the snapshot from before a racing insert committed; this one sees it.
FIND_OPEN_CONVERSATION = text(
    "SELECT id, false AS created FROM conversations WHERE user_id = :user_id AND status = 'open'"
)

ADD_INCOMING_MESSAGE = text(
    """
    WITH touched AS (
        UPDATE conversations SET last_activity_at = now() WHERE id = :conversation_id
    )
    INSERT INTO messages
        (conversation_id, direction, content_type, text, file_id, telegram_message_id)
    VALUES (:conversation_id, 'in', :content_type, :text, :file_id, :telegram_message_id)
    RETURNING id
    """
)


async def open_conversation_id(session: AsyncSession, *, user_id: int) -> tuple[int, bool]:
    """The user's open conversation, created when there is none. Returns (id, created).

    Safe under concurrency: the partial unique index on (user_id) WHERE status = 'open' makes
    a racing insert do nothing, and the row the other transaction committed is read instead.
    """
    row = (await session.execute(FIND_OR_OPEN_CONVERSATION, {"user_id": user_id})).first()
    if row is None:  # another update of this user opened it concurrently
        row = (await session.execute(FIND_OPEN_CONVERSATION, {"user_id": user_id})).one()
    return int(row.id), bool(row.created)


async def add_incoming_message(
    session: AsyncSession,
    *,
    conversation_id: int,
    content_type: str,
    text: str | None,
    file_id: str | None,
    telegram_message_id: int,
) -> int:
    """Store the user's message and mark the conversation active. One statement."""
    result = await session.execute(
        ADD_INCOMING_MESSAGE,
        {
            "conversation_id": conversation_id,
            "content_type": content_type,
            "text": text,
            "file_id": file_id,
            "telegram_message_id": telegram_message_id,
        },
    )
    return int(result.scalar_one())
