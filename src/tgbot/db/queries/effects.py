"""What handling an update writes, decided by its handler and committed after it, with its claim.

Handlers stage effects (``tgbot.updates.work.UpdateWork``); ``updates.store`` commits the
effects of the updates that finish together in one transaction, each kind in as few statements as
it can: ``FileMessage`` in one statement for the whole batch, the rare ones one by one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from tgbot.db.driver import DriverStatement
from tgbot.db.queries.conversations import FILE_CTES, FILE_MESSAGES, message_parameters
from tgbot.db.queries.updates import CLAIM_CTES, CLAIMED, claim_parameters, claimed_users
from tgbot.db.queries.users import (
    SeenUser,
    UserProfile,
    remember_start_payload,
    set_blocked,
    set_language,
    set_subscribed,
)


class Effect:
    """One change an update makes. Subclasses write it; ``apply_all`` writes a batch of one
    kind, one by one unless the kind does better (``FileMessage``)."""

    async def apply(self, conn: AsyncConnection) -> None:
        raise NotImplementedError

    @classmethod
    async def apply_all(cls, conn: AsyncConnection, effects: Sequence[Effect]) -> None:
        for effect in effects:
            await effect.apply(conn)


# The hot path in one statement: claim a batch of updates, register their people and file the
# messages of the claimed ones whose senders are not banned (updates.store uses it when
# messages are all there is).
CLAIM_AND_FILE = text(
    f"WITH {CLAIM_CTES}, "  # noqa: S608 - SQL built from constants only
    + FILE_CTES.format(
        only_claimed="WHERE update_id IN (SELECT update_id FROM claimed)"
        " AND user_id IN (SELECT telegram_id FROM seen WHERE NOT is_banned)"
    )
    + CLAIMED
)
_CLAIM_AND_FILE = DriverStatement(CLAIM_AND_FILE)


@dataclass(frozen=True)
class FileMessage(Effect):
    """A user's message, text or media, into their open support conversation."""

    user_id: int
    content_type: str
    text: str | None
    file_id: str | None
    telegram_message_id: int
    staff_chat_id: int | None = None  # STAFF_CHAT_ID: copied into the conversation's topic

    async def apply(self, conn: AsyncConnection) -> None:
        await FileMessage.apply_all(conn, [self])

    @classmethod
    async def apply_all(cls, conn: AsyncConnection, effects: Sequence[Effect]) -> None:
        messages = [effect for effect in effects if isinstance(effect, FileMessage)]
        await conn.execute(FILE_MESSAGES, message_parameters([(None, m) for m in messages]))


async def claim_and_file(
    conn: asyncpg.Connection,
    claims: list[tuple[int, UserProfile | None]],
    messages: list[tuple[int, FileMessage]],
) -> dict[int, SeenUser | None]:
    """``queries.updates.claim_updates`` and the messages of the updates it claims, one
    statement on the driver's connection (``db.driver``), atomic on its own. ``messages``
    pairs each with its update id."""
    rows = await _CLAIM_AND_FILE.fetch(
        conn, {**claim_parameters(claims), **message_parameters(messages)}
    )
    return claimed_users(rows)


@dataclass(frozen=True)
class RememberStartPayload(Effect):
    telegram_id: int
    payload: str

    async def apply(self, conn: AsyncConnection) -> None:
        await remember_start_payload(conn, telegram_id=self.telegram_id, payload=self.payload)


@dataclass(frozen=True)
class SetLanguage(Effect):
    telegram_id: int
    language: str

    async def apply(self, conn: AsyncConnection) -> None:
        await set_language(conn, telegram_id=self.telegram_id, language=self.language)


@dataclass(frozen=True)
class SetSubscribed(Effect):
    telegram_id: int
    subscribed: bool

    async def apply(self, conn: AsyncConnection) -> None:
        await set_subscribed(conn, telegram_id=self.telegram_id, subscribed=self.subscribed)


@dataclass(frozen=True)
class SetBlocked(Effect):
    telegram_id: int
    blocked: bool

    async def apply(self, conn: AsyncConnection) -> None:
        await set_blocked(conn, telegram_id=self.telegram_id, blocked=self.blocked)
