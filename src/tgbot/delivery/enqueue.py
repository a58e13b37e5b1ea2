"""The writers' side of the outbox: one function, usable inside the caller's transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from tgbot.db.models import OutboxMessage


async def enqueue(
    session_or_connection: AsyncSession | AsyncConnection,
    chat_id: int,
    method: str,
    payload: dict[str, Any],
    idempotency_key: str,
    broadcast_id: int | None = None,
    message_id: int | None = None,
) -> int | None:
    """Add one message to the outbox; the caller commits. Returns the row id.

    ``payload`` holds the Bot API parameters except ``chat_id`` (e.g. ``{"text": "hi"}`` for
    ``sendMessage``). A second call with the same ``idempotency_key`` adds nothing and returns
    ``None``. The INSERT trigger wakes the dispatchers at commit.
    """
    statement = (
        pg_insert(OutboxMessage)
        .values(
            chat_id=chat_id,
            method=method,
            payload=payload,
            idempotency_key=idempotency_key,
            broadcast_id=broadcast_id,
            message_id=message_id,
        )
        .on_conflict_do_nothing(index_elements=[OutboxMessage.idempotency_key])
        .returning(OutboxMessage.id)
    )
    result = await session_or_connection.execute(statement)
    row_id: int | None = result.scalar_one_or_none()
    return row_id
