"""The webhook's secret header under hostile bytes: 401 whatever arrives, never a 5xx.

Requests are written byte for byte on a socket to a real aiohttp server (a client library would
refuse to send most of them).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from aiogram import Bot
from aiohttp import web
from aiohttp.test_utils import TestServer
from redis.asyncio import Redis

from tgbot.services.redis_guard import RedisGuard
from tgbot.updates.admission import UpdateAdmission
from tgbot.updates.dedup import UpdateDeduplicator
from tgbot.updates.throttle import Throttle
from tgbot.web.webhook import WebhookHandler

SECRET = b"s3cret_Token-1"
BODY = json.dumps(
    {
        "update_id": 7,
        "message": {
            "message_id": 1,
            "date": 1_700_000_000,
            "chat": {"id": 5, "type": "private"},
            "from": {"id": 5, "is_bot": False, "first_name": "A"},
            "text": "hello",
        },
    }
).encode()


class RecordingDispatcher:
    def __init__(self) -> None:
        self.fed: list[int] = []

    async def feed_update(self, bot: Bot, update: Any, **kwargs: Any) -> None:
        self.fed.append(update.update_id)


@pytest.fixture
async def server() -> Any:
    redis = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)  # fails open
    guard = RedisGuard(redis)
    dedup = UpdateDeduplicator(guard, bot_id=1)
    dispatcher = RecordingDispatcher()
    handler = WebhookHandler(
        bot=Bot("1:token"),
        dispatcher=dispatcher,  # type: ignore[arg-type]
        admission=UpdateAdmission(guard, dedup, Throttle(guard, limit=5, window_seconds=60)),
        dedup=dedup,
        secret=SECRET.decode(),
        max_body_bytes=65_536,
        timeout=5,
    )
    app = web.Application()
    app.router.add_post("/hook", handler.handle)
    async with TestServer(app) as test_server:
        yield test_server, dispatcher
    await redis.aclose()


async def post(server: TestServer, secret_lines: list[bytes]) -> tuple[int, bytes]:
    reader, writer = await asyncio.open_connection(server.host, server.port)
    head = [
        b"POST /hook HTTP/1.1",
        b"Host: bot",
        b"Content-Type: application/json",
        b"Connection: close",
        b"Content-Length: " + str(len(BODY)).encode(),
        *(b"X-Telegram-Bot-Api-Secret-Token: " + value for value in secret_lines),
    ]
    writer.write(b"\r\n".join(head) + b"\r\n\r\n" + BODY)
    await writer.drain()
    response = await asyncio.wait_for(reader.read(), timeout=10)
    writer.close()
    status = int(response.split(b" ", 2)[1])
    return status, response


@pytest.mark.parametrize(
    "secret_lines",
    [
        [],
        [b"\xff\xfe\x80\x81"],  # not UTF-8
        [SECRET + b"\xff"],  # the secret, then a byte that is not UTF-8
        ["s3cret_Token-1é".encode()],  # valid UTF-8, not ASCII
        [b"A" * 4000],  # over-long
        [SECRET, SECRET],  # the right secret, twice
        [b"wrong", SECRET],
        [SECRET, b"wrong"],
        [SECRET[:-1]],
    ],
    ids=[
        "missing",
        "not-utf8",
        "secret-then-not-utf8",
        "non-ascii",
        "over-long",
        "repeated",
        "wrong-then-right",
        "right-then-wrong",
        "prefix",
    ],
)
async def test_anything_but_the_one_secret_is_401(
    server: tuple[TestServer, RecordingDispatcher], secret_lines: list[bytes]
) -> None:
    test_server, dispatcher = server
    status, response = await post(test_server, secret_lines)
    assert status == 401, response
    assert b"bad_secret" in response
    assert dispatcher.fed == []


async def test_a_header_beyond_the_parsers_limit_is_a_client_error(
    server: tuple[TestServer, RecordingDispatcher],
) -> None:
    test_server, dispatcher = server
    status, _ = await post(test_server, [b"A" * 20_000])
    assert 400 <= status < 500
    assert dispatcher.fed == []


async def test_the_secret_is_accepted(server: tuple[TestServer, RecordingDispatcher]) -> None:
    test_server, dispatcher = server
    status, response = await post(test_server, [SECRET])
    assert status == 200, response
    assert dispatcher.fed == [7]
