"""Sending an update's replies once its effects are committed.

The replies are the methods aiogram built for the handler (``message.answer(...)``), sent as
JSON with the outbox's own HTTP sender (``delivery.sender.HttpSender``: the same request for a
fraction of aiogram's per-call work). The update is done by then, so no reply failure may fail
it: a user who blocked the bot is marked blocked, a request Telegram refuses is logged, and
replies that could not go out for a transient reason (network, 5xx, flood control) are handed to
the outbox, whose dispatcher retries them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import structlog
from aiogram.methods import TelegramMethod

from tgbot.db.errors import DATABASE_ERRORS
from tgbot.db.queries.effects import SetBlocked
from tgbot.delivery.sender import HttpSender, Kind, method_parameters
from tgbot.updates.store import UpdateStore

log = structlog.get_logger(__name__)


class ReplySender:
    def __init__(
        self, store: UpdateStore, *, token: str, api_base: str, timeout: float, connections: int
    ) -> None:
        self._store = store
        self._http_args = (token, api_base, connections, timeout)
        self._http: HttpSender | None = None

    async def send(
        self, replies: Sequence[TelegramMethod[Any]], *, update_id: int, user_id: int | None
    ) -> None:
        if self._http is None:  # its aiohttp session belongs to the running event loop
            self._http = HttpSender(*self._http_args)
        for index, method in enumerate(replies):
            outcome = await self._http.call(method.__api_method__, method_parameters(method))
            if outcome.kind is Kind.SENT:
                continue
            if outcome.kind is Kind.BLOCKED:
                log.info("reply.forbidden", user_id=user_id)
                if user_id is not None:
                    await self._mark_blocked(user_id)
                return
            if outcome.kind is Kind.REJECTED:  # sending it again would fail again
                log.warning("reply.rejected", method=method.__api_method__, error=outcome.error)
                continue
            await self._defer(update_id, replies[index:], code=outcome.code)
            return

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()

    async def _mark_blocked(self, user_id: int) -> None:
        try:
            await self._store.write_now(SetBlocked(telegram_id=user_id, blocked=True))
        except DATABASE_ERRORS as exc:  # the next broadcast to them finds out again
            log.warning("reply.blocked_not_recorded", user_id=user_id, error=type(exc).__name__)

    async def _defer(
        self, update_id: int, replies: Sequence[TelegramMethod[Any]], *, code: str
    ) -> None:
        try:
            taken = await self._store.defer_replies(update_id, replies)
        except DATABASE_ERRORS as exc:
            log.error("reply.lost", replies=len(replies), code=code, db_error=type(exc).__name__)
            return
        log.warning("reply.deferred", to_outbox=taken, dropped=len(replies) - taken, code=code)
