"""The database side of handling updates, batched across the updates in flight.

One round trip carries an update: ``commit`` writes the update's claim, its person and the
effects its handler staged, in one transaction, and answers with the person as the claim left
them (their language, for the replies). It is batched (``updates.batching``): the updates that
finish together share the statement and the transaction, so under load one commit carries many
updates (group commit) while a lone update goes at once. The effects of a banned user's update
are not written.

A batch that fails for a reason other than PostgreSQL being unavailable is committed again one
update at a time, so one bad update cannot fail the others with it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import structlog
from aiogram.methods import TelegramMethod
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from tgbot.db.driver import driver_connection
from tgbot.db.errors import database_unavailable
from tgbot.db.queries.effects import Effect, FileMessage, claim_and_file
from tgbot.db.queries.updates import claim_updates
from tgbot.db.queries.users import SeenUser, UserProfile
from tgbot.delivery.enqueue import enqueue
from tgbot.delivery.sender import method_parameters
from tgbot.updates.batching import Batcher

log = structlog.get_logger(__name__)

Commit = tuple[int, UserProfile | None, Sequence[Effect]]


@dataclass(frozen=True)
class Committed:
    """A committed update's person: None for an update with no person behind it."""

    user: SeenUser | None


# The result of a commit: Committed, or None when the update was processed before.
Outcome = Committed | None


class UpdateStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._commits: Batcher[Commit, Outcome] = Batcher(self._commit_batch, name="commit")

    async def commit(
        self, update_id: int, person: UserProfile | None, effects: Sequence[Effect]
    ) -> Outcome:
        """Claim the update, register or refresh its person and write its effects (unless the
        person is banned), atomically. None when the update was processed before: nothing was
        written."""
        return await self._commits.submit((update_id, person, effects))

    async def write_now(self, effect: Effect) -> None:
        """An effect found after the commit (a reply refused because the user blocked the bot)."""
        async with self._engine.begin() as conn:
            await effect.apply(conn)

    async def defer_replies(self, update_id: int, replies: Sequence[TelegramMethod[Any]]) -> int:
        """Hand replies that could not be sent now to the outbox, which retries them; returns how
        many it took (a reply without a chat, such as a callback answer, cannot wait)."""
        taken = 0
        async with self._engine.begin() as conn:
            for index, method in enumerate(replies):
                fields = method_parameters(method)
                chat_id = fields.pop("chat_id", None)
                if not isinstance(chat_id, int):
                    continue
                await enqueue(
                    conn,
                    chat_id=chat_id,
                    method=method.__api_method__,
                    payload=fields,
                    idempotency_key=f"reply:{update_id}:{index}",
                )
                taken += 1
        return taken

    async def _commit_batch(self, batch: list[Commit]) -> Sequence[Outcome | BaseException]:
        try:
            return await self._commit_together(batch)
        except Exception as exc:
            if len(batch) == 1 or database_unavailable(exc):
                raise
            log.warning("update_store.batch_failed", size=len(batch), error=type(exc).__name__)
        results: list[Outcome | BaseException] = []
        for commit in batch:
            try:
                results.extend(await self._commit_together([commit]))
            except Exception as exc:
                results.append(exc)
        return results

    async def _commit_together(self, batch: list[Commit]) -> list[Outcome]:
        claims = [(update_id, person) for update_id, person, _ in batch]
        if _first_delivery_once(batch) and all(
            type(effect) is FileMessage for _, _, effects in batch for effect in effects
        ):
            # The hot path (messages, or nothing but the claim): one statement, no transaction.
            messages = [
                (update_id, effect)
                for update_id, _, effects in batch
                for effect in effects
                if isinstance(effect, FileMessage)
            ]
            async with driver_connection(self._engine) as conn:
                claimed = await claim_and_file(conn, claims, messages)
            return [_outcome(claimed, update_id) for update_id, _, _ in batch]
        async with self._engine.begin() as conn:
            claimed = await claim_updates(conn, claims)
            # The same update twice in one batch (a retry racing the first delivery while Redis
            # is down): the first one has the effects.
            outcomes = [_outcome(claimed, update_id) for update_id, _, _ in batch]
            effects = [
                effect
                for (_, _, staged), outcome in zip(batch, outcomes, strict=True)
                if outcome is not None and not (outcome.user and outcome.user.is_banned)
                for effect in staged
            ]
            await _apply(conn, effects)
        return outcomes


def _outcome(claimed: dict[int, SeenUser | None], update_id: int) -> Outcome:
    """The update's outcome; taken from ``claimed``, so that a second copy of it is a duplicate."""
    if update_id not in claimed:
        return None
    return Committed(claimed.pop(update_id))


def _first_delivery_once(batch: list[Commit]) -> bool:
    return len({update_id for update_id, _, _ in batch}) == len(batch)


async def _apply(conn: AsyncConnection, effects: list[Effect]) -> None:
    """Each kind in one call, in the order the kinds first appear, a kind's effects in their
    order. Effects of different kinds write different columns or tables, so the kinds' order
    does not change the result."""
    for kind in dict.fromkeys(type(effect) for effect in effects):
        await kind.apply_all(conn, [effect for effect in effects if type(effect) is kind])
