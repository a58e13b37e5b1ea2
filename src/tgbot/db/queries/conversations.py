"""Support conversations: a user's messages land in their one open thread."""

from __future__ import annotations

from sqlalchemy import func, literal_column, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from tgbot.db.models import Conversation, Message


async def open_conversation_id(session: AsyncSession, *, user_id: int) -> tuple[int, bool]:
    """The user's open conversation, created when there is none. Returns (id, created).

    Safe under concurrency: the partial unique index on (user_id) WHERE status = 'open'
    makes a racing insert do nothing, and the existing row is read instead.
    """
    inserted = await session.execute(
        insert(Conversation)
        .values(user_id=user_id, status="open")
        .on_conflict_do_nothing(
            # A literal, not a bound parameter: under a generic plan of a prepared statement
            # PostgreSQL cannot prove "status = $1" implies the partial index's predicate.
            index_elements=["user_id"],
            index_where=Conversation.status == literal_column("'open'"),
        )
        .returning(Conversation.id)
    )
    conversation_id = inserted.scalar_one_or_none()
    if conversation_id is not None:
        return conversation_id, True
    existing = await session.execute(
        select(Conversation.id).where(
            Conversation.user_id == user_id, Conversation.status == "open"
        )
    )
    return existing.scalar_one(), False


async def add_incoming_message(
    session: AsyncSession,
    *,
    conversation_id: int,
    content_type: str,
    text: str | None,
    file_id: str | None,
    telegram_message_id: int,
) -> int:
    message_id = (
        await session.execute(
            insert(Message)
            .values(
                conversation_id=conversation_id,
                direction="in",
                content_type=content_type,
                text=text,
                file_id=file_id,
                telegram_message_id=telegram_message_id,
            )
            .returning(Message.id)
        )
    ).scalar_one()
    await session.execute(
        update(Conversation)
        .where(Conversation.id == conversation_id)
        .values(last_activity_at=func.now())
    )
    return message_id
