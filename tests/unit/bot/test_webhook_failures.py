"""What the webhook answers when handling an update fails: 503 (Telegram delivers it again) for
anything from the database or Telegram, 200 only for a bug, which retrying would not fix.

asyncpg raises some errors unwrapped by SQLAlchemy — those raised while opening a connection, as
when PostgreSQL is shutting down. Treated as a bug, such an update was acknowledged and lost (the
PostgreSQL-restart resilience test caught one in 1,200).
"""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest
from aiogram import Bot
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from asyncpg.exceptions import (
    AdminShutdownError,
    CannotConnectNowError,
    InternalClientError,
    TooManyConnectionsError,
    UniqueViolationError,
)
from redis.asyncio import Redis
from sqlalchemy.exc import DBAPIError, IntegrityError, InternalError, OperationalError

from tgbot.db.errors import database_unavailable
from tgbot.services.redis_guard import RedisGuard
from tgbot.updates.admission import UpdateAdmission
from tgbot.updates.dedup import UpdateDeduplicator
from tgbot.updates.throttle import Throttle
from tgbot.web.webhook import SECRET_HEADER, WebhookHandler

UPDATE = {
    "update_id": 1,
    "message": {
        "message_id": 1,
        "date": 1_700_000_000,
        "chat": {"id": 5, "type": "private"},
        "from": {"id": 5, "is_bot": False, "first_name": "A"},
        "text": "hello",
    },
}


class FailingDispatcher:
    def __init__(self, error: BaseException) -> None:
        self.error = error

    async def feed_update(self, bot: Bot, update: Any, **kwargs: Any) -> None:
        raise self.error


async def answer_when_handling_raises(error: BaseException) -> int:
    redis = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)  # none: fail open
    guard = RedisGuard(redis)
    dedup = UpdateDeduplicator(guard, bot_id=1)
    handler = WebhookHandler(
        bot=Bot("1:token"),
        dispatcher=FailingDispatcher(error),  # type: ignore[arg-type]
        admission=UpdateAdmission(guard, dedup, Throttle(guard, limit=5, window_seconds=60)),
        dedup=dedup,
        secret="s3cret",
        max_body_bytes=65_536,
        timeout=5,
    )
    app = web.Application()
    app.router.add_post("/hook", handler.handle)
    async with TestClient(TestServer(app)) as client:
        response = await client.post("/hook", json=UPDATE, headers={SECRET_HEADER: "s3cret"})
        status = response.status
    await redis.aclose()
    return status


@pytest.mark.parametrize(
    "error",
    [
        CannotConnectNowError("the database system is shutting down"),
        TooManyConnectionsError("sorry, too many clients already"),
        asyncpg.InterfaceError("connection is closed"),
        InternalClientError("unexpected connection state"),
        ConnectionRefusedError(111, "Connection refused"),
        TimeoutError(),
        OperationalError("SELECT 1", {}, Exception("server closed the connection")),
    ],
    ids=type,
)
async def test_a_database_failure_asks_telegram_to_deliver_again(error: BaseException) -> None:
    assert await answer_when_handling_raises(error) == 503


async def test_a_bug_is_acknowledged_rather_than_retried_forever() -> None:
    assert await answer_when_handling_raises(ValueError("a bug")) == 200


def _wrapped(driver_error: BaseException, wrapper: type[DBAPIError]) -> DBAPIError:
    """As SQLAlchemy's asyncpg dialect raises it: its own error, caused by asyncpg's."""
    adapted = Exception(str(driver_error))
    adapted.__cause__ = driver_error
    return wrapper("SELECT 1", {}, adapted)


@pytest.mark.parametrize(
    ("error", "unavailable"),
    [
        (CannotConnectNowError("the database system is shutting down"), True),
        (ConnectionRefusedError(111, "Connection refused"), True),
        (_wrapped(InternalClientError("unexpected connection state"), InternalError), True),
        (_wrapped(AdminShutdownError("terminating connection"), OperationalError), True),
        (_wrapped(UniqueViolationError("duplicate key"), IntegrityError), False),
        (ValueError("a bug"), False),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, BaseException) else str(v),
)
def test_which_failures_mean_the_database_is_away(error: BaseException, unavailable: bool) -> None:
    """The dispatcher keeps its results for later on these, instead of dropping them."""
    assert database_unavailable(error) is unavailable
