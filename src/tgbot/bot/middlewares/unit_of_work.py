"""One update, one unit of work: read its person, let the handler decide, commit, then reply.

Before the handler: the person behind the update as the database knows them (``user``); updates
with no person behind them (or a bot) and banned users get no handler. The handler stages its
effects and replies on ``work``; the effects commit in one transaction with the update's claim
and its person's registration (``services.update_store``, batched with the updates finishing
together). Only then do the replies go out, so a duplicate delivery — which the claim finds —
neither writes nor replies.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, Update, User

from tgbot.bot.context import UpdateContext
from tgbot.bot.replies import ReplySender
from tgbot.bot.work import UpdateWork
from tgbot.db.queries.users import SeenUser, UserProfile
from tgbot.metrics import DEDUP_HITS
from tgbot.services.admission import Admission
from tgbot.services.dedup import Seen
from tgbot.services.texts import TextService
from tgbot.services.update_store import UpdateStore

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class UnitOfWorkMiddleware(BaseMiddleware):
    def __init__(self, store: UpdateStore, replies: ReplySender) -> None:
        self._store = store
        self._replies = replies

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        assert isinstance(event, Update)
        context: UpdateContext = data.get("update_context") or UpdateContext()
        person = _person(data.get("event_from_user"), data["texts"])
        # The person is read while the webhook's admission (Redis) is under way.
        loading = asyncio.ensure_future(self._store.load_user(person)) if person else None
        admission: asyncio.Future[Admission] | None = data.get("admission")
        if admission is not None:
            admitted = await _unless_failed(admission, loading)
            if admitted.seen is Seen.DONE or admitted.seen is Seen.IN_FLIGHT:
                _drop(loading)  # handled before, or being handled elsewhere: nothing to do
                return None
            data["throttle_decision"] = admitted.throttle
        work = UpdateWork()
        result = None
        if loading is None:
            # Every handler serves a person (a message without "from", or from a bot, has none).
            context.ignored = "no_user"
        else:
            user = await loading
            if user.is_banned:
                context.ignored = "banned"
            else:
                data["user"] = user
                data["work"] = work
                result = await handler(event, data)
        if not await self._store.commit(event.update_id, person, work.effects):
            DEDUP_HITS.labels("database").inc()
            context.duplicate = True
            return None
        if work.replies:
            await self._replies.send(
                work.replies,
                update_id=event.update_id,
                user_id=person.telegram_id if person is not None else None,
            )
        return result


async def _unless_failed(
    admission: asyncio.Future[Admission], loading: asyncio.Future[SeenUser] | None
) -> Admission:
    try:
        return await admission
    except BaseException:
        _drop(loading)
        raise


def _drop(loading: asyncio.Future[SeenUser] | None) -> None:
    """Stop waiting for a read nobody needs (its failure, if any, is nobody's news)."""
    if loading is not None:
        loading.cancel()
        loading.add_done_callback(lambda done: done.cancelled() or done.exception())


def _person(tg_user: User | None, texts: TextService) -> UserProfile | None:
    if tg_user is None or tg_user.is_bot:
        return None
    return UserProfile(
        telegram_id=tg_user.id,
        username=tg_user.username,
        first_name=tg_user.first_name,
        last_name=tg_user.last_name,
        language_code=tg_user.language_code,
        initial_language=texts.language_for(tg_user.language_code),
    )
