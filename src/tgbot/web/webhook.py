"""The webhook route: authenticate, bound, parse, deduplicate, handle, then acknowledge.

Telegram's retry on a non-2xx answer is the safety net, so the answer comes only after the
update's effects are committed. Bad input is always a 4xx (or 200 for updates we ignore);
a 503 means "our side failed transiently, deliver again".
"""

from __future__ import annotations

import asyncio
import hmac
import json
import time

import structlog
from aiogram import Bot, Dispatcher
from aiogram.exceptions import TelegramNetworkError, TelegramRetryAfter, TelegramServerError
from aiogram.types import Update
from aiogram.types.update import UpdateTypeLookupError
from aiohttp import web
from pydantic import ValidationError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from tgbot.db.errors import DATABASE_ERRORS, database_unavailable, driver_error
from tgbot.metrics import DEDUP_HITS, HANDLING_SECONDS, IN_FLIGHT, UPDATES, WEBHOOK_REJECTED
from tgbot.updates.admission import UpdateAdmission
from tgbot.updates.context import UpdateContext
from tgbot.updates.dedup import Seen, UpdateDeduplicator

log = structlog.get_logger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    *DATABASE_ERRORS,
    TimeoutError,  # HANDLER_TIMEOUT, or a connection that could not be opened in time
    OSError,
    TelegramNetworkError,
    TelegramServerError,
    TelegramRetryAfter,
)


def _error_fields(exc: BaseException) -> dict[str, str]:
    """What went wrong, without SQL parameters or request bodies (they may hold user text):
    asyncpg's own exception, its SQLSTATE and PostgreSQL's primary message (which hold no values).
    """
    error = driver_error(exc)
    if error is None:
        return {}
    fields = {"db_error": type(error).__name__}
    sqlstate = getattr(error, "sqlstate", None)
    if sqlstate:
        fields["sqlstate"] = str(sqlstate)
        fields["db_message"] = str(getattr(error, "message", "") or "")
    return fields


def _retry_reason(exc: BaseException, *, deadline_passed: bool) -> str:
    """Which transient failure it was (four of them are TimeoutErrors)."""
    if deadline_passed:
        return "handler_timeout"  # HANDLER_TIMEOUT
    if isinstance(exc, PoolTimeoutError):
        return "database_pool_timeout"  # every pooled connection busy for DATABASE_CONNECT_TIMEOUT
    if isinstance(exc, TelegramRetryAfter):
        return "telegram_flood_control"
    if isinstance(exc, TelegramNetworkError | TelegramServerError):
        return "telegram_unavailable"
    # A bare OSError or TimeoutError is asyncpg failing to open a connection: Telegram's are
    # wrapped by aiogram and Redis's absorbed by RedisGuard.
    if database_unavailable(exc):
        return "database_unreachable"
    return "database"


def _reject(status: int, reason: str) -> web.Response:
    WEBHOOK_REJECTED.labels(reason).inc()
    return web.json_response({"ok": False, "error": reason}, status=status)


class WebhookHandler:
    def __init__(
        self,
        *,
        bot: Bot,
        dispatcher: Dispatcher,
        admission: UpdateAdmission,
        dedup: UpdateDeduplicator,
        secret: str,
        max_body_bytes: int,
        timeout: float,
    ) -> None:
        self._bot = bot
        self._dp = dispatcher
        self._admission = admission
        self._dedup = dedup
        self._secret = secret.encode()
        self._max_body = max_body_bytes
        self._timeout = timeout

    def _authorised(self, request: web.Request) -> bool:
        """Exactly one secret header, equal to the secret (constant time). Whatever bytes a
        client sends there — not UTF-8, over-long, the header twice — the answer is 401."""
        given = request.headers.getall(SECRET_HEADER, [])
        if len(given) != 1:
            return False
        # aiohttp keeps bytes that are not UTF-8 as surrogates: encode them back, never fail.
        return hmac.compare_digest(given[0].encode("utf-8", "surrogateescape"), self._secret)

    async def _read_update(self, request: web.Request) -> Update | web.Response:
        if request.content_length is not None and request.content_length > self._max_body:
            return _reject(413, "body_too_large")
        body = bytearray()
        try:
            # read(n) returns what has arrived so far, not n bytes: loop until the end of the body
            # (a body that arrives slowly, in several segments, is still one body).
            while len(body) <= self._max_body:
                chunk = await request.content.read(self._max_body + 1 - len(body))
                if not chunk:
                    break
                body += chunk
        except (TimeoutError, ConnectionError):
            return _reject(400, "body_unreadable")
        if len(body) > self._max_body:
            return _reject(413, "body_too_large")
        try:
            data = json.loads(body)
        except (UnicodeDecodeError, ValueError, RecursionError):  # RecursionError: deep nesting
            return _reject(400, "malformed_json")
        if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
            return _reject(400, "not_an_update")
        try:
            return Update.model_validate(data, context={"bot": self._bot})
        except ValidationError:
            return _reject(400, "invalid_update")

    async def handle(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return _reject(401, "bad_secret")
        parsed = await self._read_update(request)
        if isinstance(parsed, web.Response):
            return parsed
        update = parsed
        try:
            kind = update.event_type
        except UpdateTypeLookupError:
            UPDATES.labels("unknown", "ignored").inc()
            return web.json_response({"ok": True, "ignored": "unknown update kind"})
        return await self._handle(update, kind)

    async def _handle(self, update: Update, kind: str) -> web.Response:
        started = time.perf_counter()
        logger = log.bind(update_id=update.update_id, kind=kind)
        message_from = update.message.from_user if update.message is not None else None
        admission = await self._admission.admit(
            update.update_id, message_from=message_from.id if message_from is not None else None
        )
        seen = admission.seen
        if seen is Seen.DONE:
            DEDUP_HITS.labels("redis").inc()
            UPDATES.labels(kind, "duplicate").inc()
            return web.json_response({"ok": True, "duplicate": True})
        if seen is Seen.IN_FLIGHT:
            UPDATES.labels(kind, "in_flight").inc()
            return web.json_response({"ok": False, "error": "in_flight"}, status=409)

        context = UpdateContext()
        IN_FLIGHT.inc()
        try:
            async with asyncio.timeout(self._timeout) as deadline:
                await self._dp.feed_update(
                    self._bot,
                    update,
                    update_context=context,
                    throttle_decision=admission.throttle,
                )
        except TRANSIENT_ERRORS as exc:
            if context.committed:
                # The deadline passed while the replies were going out; they carry on (or go
                # to the outbox). The update is done: a retry would only find its claim.
                self._dedup.finish_soon(update.update_id)
                result = "duplicate" if context.duplicate else (context.ignored or "handled")
                logger.warning("update.replies_outlived_deadline")
                status = 200
            else:
                await self._dedup.abandon(update.update_id)
                result = "retry"
                logger.warning(
                    "update.retry_later",
                    reason=_retry_reason(exc, deadline_passed=deadline.expired()),
                    error=type(exc).__name__,
                    **_error_fields(exc),
                )
                status = 503
        except Exception:
            # A bug, not a transient fault: retrying would fail the same way forever.
            self._dedup.finish_soon(update.update_id)
            result = "error"
            logger.exception("update.handler_failed")
            status = 200
        else:
            self._dedup.finish_soon(update.update_id)
            result = "duplicate" if context.duplicate else (context.ignored or "handled")
            status = 200
        finally:
            IN_FLIGHT.dec()
        elapsed = time.perf_counter() - started
        UPDATES.labels(kind, result).inc()
        HANDLING_SECONDS.labels(kind).observe(elapsed)
        user = update.event.from_user if hasattr(update.event, "from_user") else None
        logger.info(
            "update.done",
            result=result,
            handler=context.handler,
            user_id=user.id if user else None,
            latency_ms=round(elapsed * 1000, 1),
        )
        if status == 503:
            return web.json_response({"ok": False, "error": "retry_later"}, status=503)
        return web.json_response({"ok": True})
