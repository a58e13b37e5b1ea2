"""One update, one unit of work: let the handler decide, commit, then reply.

The handler stages its effects and replies on ``work``; the effects commit in one transaction
with the update's claim and its person's registration (``updates.store``, batched with
the updates finishing together), and the commit answers with the person as it found them. Only
then are the replies rendered in their language and sent, so a duplicate delivery — which the
claim finds — neither writes nor replies. A banned person's update writes nothing but the claim
and gets no reply; an update with no person behind it (or from a bot) gets no handler.

Updates from the staff supergroup (``STAFF_CHAT_ID``) are staff at work, not users: their
handler runs (``bot.routers.staff``) but nobody is registered, and what they answer goes
through the outbox as effects (there is no user to render replies for).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, Update, User

from tgbot.db.queries.users import SeenUser, UserProfile
from tgbot.metrics import DEDUP_HITS
from tgbot.services.texts import TextService
from tgbot.updates.context import UpdateContext
from tgbot.updates.replies import ReplySender
from tgbot.updates.store import UpdateStore
from tgbot.updates.work import UpdateWork

log = structlog.get_logger(__name__)
Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class UnitOfWorkMiddleware(BaseMiddleware):
    def __init__(self, store: UpdateStore, replies: ReplySender) -> None:
        self._store = store
        self._replies = replies

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        assert isinstance(event, Update)
        context: UpdateContext = data.get("update_context") or UpdateContext()
        texts: TextService = data["texts"]
        tg_user: User | None = data.get("event_from_user")
        person = _person(tg_user, texts)
        work = UpdateWork(texts)
        result = None
        if _in_staff_chat(data) and person is not None:
            person = None  # a staff member: their handler runs, nobody is registered
            data["work"] = work
            result = await handler(event, data)
        elif person is None:
            # Every handler serves a person (a message without "from", or from a bot, has none).
            context.ignored = "no_user"
        else:
            data["work"] = work
            result = await handler(event, data)
        committed = await self._store.commit(event.update_id, person, work.effects)
        context.committed = True  # done, whichever way: a retry would find the claim
        if committed is None:
            DEDUP_HITS.labels("database").inc()
            context.duplicate = True
            return None
        user = committed.user
        if user is not None and user.is_banned:
            context.ignored = "banned"  # nothing written, nothing said
            return None
        if user is not None and work.replies:
            # The update is done: its replies go out (or to the outbox) even if its deadline
            # passes meanwhile; the webhook then answers 200 without waiting for them.
            sending = asyncio.ensure_future(self._send(work, user, event.update_id))
            sending.add_done_callback(_retrieved)  # logged in _send if nobody waits any more
            await asyncio.shield(sending)
        return result

    async def _send(self, work: UpdateWork, user: SeenUser, update_id: int) -> None:
        try:
            replies = await work.render(user)
            await self._replies.send(replies, update_id=update_id, user_id=user.telegram_id)
        except Exception:
            log.exception("reply.failed", update_id=update_id)
            raise


def _retrieved(task: asyncio.Future[None]) -> None:
    if not task.cancelled():
        task.exception()


def _in_staff_chat(data: dict[str, Any]) -> bool:
    staff_chat_id = data.get("staff_chat_id")
    chat = data.get("event_chat")
    return staff_chat_id is not None and chat is not None and chat.id == staff_chat_id


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
