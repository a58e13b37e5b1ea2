"""Support conversations: a user's messages land in their one open thread.

Plain SQL on this path: it runs for every user message, and SQLAlchemy never caches a
PostgreSQL ON CONFLICT construct. The partial index's predicate is written literally
(``status = 'open'``): as a bound parameter it cannot be matched to the index once PostgreSQL
uses the generic plan of the prepared statement.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

# Find the open conversation or open one, store the message, mark the thread active: one
# round trip. When another transaction is opening the user's conversation at the same moment,
# the insert waits for it and then does nothing, and this statement stores no message (it
# cannot see the other transaction's row); FILE_IN_OPEN_CONVERSATION, a new statement, can.
FILE_INCOMING_MESSAGE = text(
    """
    WITH found AS (
        SELECT id FROM conversations
        WHERE user_id = CAST(:user_id AS bigint) AND status = 'open'
    ), opened AS (
        INSERT INTO conversations (user_id, status)
        SELECT CAST(:user_id AS bigint), 'open' WHERE NOT EXISTS (SELECT 1 FROM found)
        ON CONFLICT (user_id) WHERE status = 'open' DO NOTHING
        RETURNING id
    ), touched AS (
        UPDATE conversations SET last_activity_at = now() WHERE id IN (SELECT id FROM found)
    ), conversation AS (
        SELECT id, false AS created FROM found UNION ALL SELECT id, true FROM opened
    ), stored AS (
        INSERT INTO messages
            (conversation_id, direction, content_type, text, file_id, telegram_message_id)
        SELECT id, 'in', CAST(:content_type AS varchar), CAST(:text AS text),
            CAST(:file_id AS varchar), CAST(:telegram_message_id AS bigint)
        FROM conversation
        RETURNING conversation_id, id
    )
    SELECT stored.conversation_id, stored.id AS message_id, conversation.created
    FROM stored JOIN conversation ON conversation.id = stored.conversation_id
    """
)

FILE_IN_OPEN_CONVERSATION = text(
    """
    WITH conversation AS (
        UPDATE conversations SET last_activity_at = now()
        WHERE user_id = CAST(:user_id AS bigint) AND status = 'open'
        RETURNING id
    )
    INSERT INTO messages
        (conversation_id, direction, content_type, text, file_id, telegram_message_id)
    SELECT id, 'in', CAST(:content_type AS varchar), CAST(:text AS text),
        CAST(:file_id AS varchar), CAST(:telegram_message_id AS bigint)
    FROM conversation
    RETURNING conversation_id, id AS message_id, false AS created
    """
)


@dataclass(frozen=True)
class FiledMessage:
    conversation_id: int
    message_id: int
    conversation_created: bool  # the message opened a new conversation


async def file_incoming_message(
    conn: AsyncConnection,
    *,
    user_id: int,
    content_type: str,
    text: str | None,
    file_id: str | None,
    telegram_message_id: int,
) -> FiledMessage:
    """Store the user's message in their open conversation, opened when there is none.

    Safe under concurrency: the partial unique index on (user_id) WHERE status = 'open' makes
    a racing first message join the conversation the other transaction opened.
    """
    params = {
        "user_id": user_id,
        "content_type": content_type,
        "text": text,
        "file_id": file_id,
        "telegram_message_id": telegram_message_id,
    }
    row = (await conn.execute(FILE_INCOMING_MESSAGE, params)).first()
    if row is None:  # another update of this user opened the conversation concurrently
        row = (await conn.execute(FILE_IN_OPEN_CONVERSATION, params)).one()
    return FiledMessage(
        conversation_id=int(row.conversation_id),
        message_id=int(row.message_id),
        conversation_created=bool(row.created),
    )
