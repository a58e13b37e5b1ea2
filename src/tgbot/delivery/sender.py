"""One Bot API call per outbox row, and what its outcome means for the row.

Two interchangeable senders (``OUTBOX_SENDER``):

- ``aiohttp`` (default): one JSON POST on a shared ``aiohttp`` session; Telegram's error shape
  (``error_code``, ``description``, ``parameters.retry_after``) is classified exactly as aiogram
  classifies it. Measured at about twice aiogram's throughput (docs/delivery.md), which the
  1000 msg/s ceiling needs.
- ``aiogram``: ``Bot`` with ``BotAPISession`` (aiogram's aiohttp session), aiogram's typed errors.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import Enum
from functools import cache
from typing import Any, Protocol

import aiogram.methods
import aiohttp
from aiogram import Bot
from aiogram.client.default import Default
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods.base import TelegramMethod
from aiogram.types import BufferedInputFile, ForumTopic, Message

from tgbot.delivery.session import BotAPISession


class Kind(Enum):
    SENT = "sent"
    BLOCKED = "blocked"  # 403: the user blocked the bot; permanent
    REJECTED = "rejected"  # 400: chat not found, bad parameters; permanent
    RETRY_AFTER = "retry_after"  # 429: wait retry_after, not an attempt
    TRANSIENT = "transient"  # 5xx, network, timeouts: retry with backoff


@dataclass(frozen=True)
class Outcome:
    kind: Kind
    code: str  # the metrics label: "200", "403", "400", "429", "5xx", "network", ...
    error: str | None = None
    retry_after: float = 0.0
    telegram_message_id: int | None = None
    file_id: str | None = None  # of the file Telegram stored for a sent message (its media)
    thread_id: int | None = None  # createForumTopic's new topic (message_thread_id)


# The methods an outbox row may attach a file to, and the parameter the file goes in (also the
# field of the sent Message that describes the file Telegram stored).
UPLOAD_FIELDS = {
    "sendPhoto": "photo",
    "sendVideo": "video",
    "sendAnimation": "animation",
    "sendDocument": "document",
}


@dataclass(frozen=True)
class FileUpload:
    data: bytes
    file_name: str
    mime_type: str


def sent_file_id(message: dict[str, Any]) -> str | None:
    """The file_id of a sent message's photo (largest size), video, animation or document.

    An animation's message also carries it as ``document`` (Telegram keeps that for old
    clients): the animation comes first, but both name the same file."""
    photo = message.get("photo")
    if isinstance(photo, list) and photo and isinstance(photo[-1], dict):
        return str(photo[-1].get("file_id")) if photo[-1].get("file_id") else None
    for field in ("video", "animation", "document"):
        media = message.get(field)
        if isinstance(media, dict) and media.get("file_id"):
            return str(media["file_id"])
    return None


class UnknownMethod(ValueError):
    """The outbox row names a Bot API method aiogram does not know."""


@cache
def method_class(name: str) -> type[TelegramMethod[Any]]:
    cls = getattr(aiogram.methods, name[:1].upper() + name[1:], None)
    if not (isinstance(cls, type) and issubclass(cls, TelegramMethod)):
        raise UnknownMethod(name)
    return cls


def build_method(name: str, chat_id: int, payload: dict[str, Any]) -> TelegramMethod[Any]:
    return method_class(name).model_validate({**payload, "chat_id": chat_id})


def method_parameters(method: TelegramMethod[Any]) -> dict[str, Any]:
    """An aiogram method's Bot API parameters as JSON (the reverse of ``build_method``). Fields
    left to the bot's defaults stay unset: this project sets no defaults, so Telegram's apply."""
    unset = {name for name, value in method if isinstance(value, Default)}
    return method.model_dump(mode="json", exclude_none=True, exclude=unset)


def make_bot(token: str, api_base: str, connection_limit: int, timeout: float = 30.0) -> Bot:
    session = BotAPISession(
        api=TelegramAPIServer.from_base(api_base.rstrip("/")), limit=connection_limit
    )
    session.timeout = timeout
    return Bot(token=token, session=session)


def _describe(exc: TelegramAPIError) -> str:
    return exc.message[:500]


async def send(bot: Bot, name: str, chat_id: int, payload: dict[str, Any]) -> Outcome:
    """Call the Bot API once; never raises for Telegram or network errors."""
    try:
        method = build_method(name, chat_id, payload)
    except (UnknownMethod, ValueError) as exc:
        return Outcome(Kind.REJECTED, "invalid", f"invalid outbox row: {type(exc).__name__}")
    try:
        result = await bot(method)
    except TelegramRetryAfter as exc:
        return Outcome(Kind.RETRY_AFTER, "429", _describe(exc), retry_after=exc.retry_after)
    except TelegramForbiddenError as exc:
        return Outcome(Kind.BLOCKED, "403", _describe(exc))
    except TelegramBadRequest as exc:
        return Outcome(Kind.REJECTED, "400", _describe(exc))
    except TelegramServerError as exc:
        return Outcome(Kind.TRANSIENT, "5xx", _describe(exc))
    except TelegramNetworkError as exc:
        return Outcome(Kind.TRANSIENT, "network", _describe(exc))
    except TelegramAPIError as exc:  # 401, 404, 409, 413, migrate-to-chat: retry, then dead
        return Outcome(Kind.TRANSIENT, "other", f"{type(exc).__name__}: {_describe(exc)}")
    except ClientDecodeError:
        return Outcome(Kind.TRANSIENT, "decode", "undecodable Bot API response")
    except (TimeoutError, OSError) as exc:
        return Outcome(Kind.TRANSIENT, "network", type(exc).__name__)
    if isinstance(result, ForumTopic):
        return Outcome(Kind.SENT, "200", thread_id=result.message_thread_id)
    if not isinstance(result, Message):
        return Outcome(Kind.SENT, "200")
    file_id = sent_file_id(result.model_dump(mode="json", include=set(UPLOAD_FIELDS.values())))
    return Outcome(Kind.SENT, "200", telegram_message_id=result.message_id, file_id=file_id)


class Sender(Protocol):
    async def __call__(self, name: str, chat_id: int, payload: dict[str, Any]) -> Outcome: ...

    async def upload(
        self, name: str, chat_id: int, payload: dict[str, Any], field: str, file: FileUpload
    ) -> Outcome:
        """``name`` with ``file`` as the multipart part ``field`` (``UPLOAD_FIELDS``)."""
        ...

    async def close(self) -> None: ...


class AiogramSender:
    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def __call__(self, name: str, chat_id: int, payload: dict[str, Any]) -> Outcome:
        return await send(self.bot, name, chat_id, payload)

    async def upload(
        self, name: str, chat_id: int, payload: dict[str, Any], field: str, file: FileUpload
    ) -> Outcome:
        attached = BufferedInputFile(file.data, filename=file.file_name)
        return await send(self.bot, name, chat_id, {**payload, field: attached})

    async def close(self) -> None:
        await self.bot.session.close()


def classify(status: int, body: dict[str, Any]) -> Outcome:
    """Telegram's answer to one call, as aiogram's ``check_response`` reads it."""
    if 200 <= status <= 226 and body.get("ok"):
        result = body.get("result")
        if not isinstance(result, dict):
            return Outcome(Kind.SENT, "200")
        return Outcome(
            Kind.SENT,
            "200",
            telegram_message_id=result.get("message_id"),
            file_id=sent_file_id(result),
            thread_id=result.get("message_thread_id") if "name" in result else None,
        )
    description = str(body.get("description") or f"HTTP {status}")[:500]
    parameters = body.get("parameters") or {}
    if parameters.get("retry_after"):
        return Outcome(
            Kind.RETRY_AFTER, "429", description, retry_after=float(parameters["retry_after"])
        )
    if status == 400:
        return Outcome(Kind.REJECTED, "400", description)
    if status == 403:
        return Outcome(Kind.BLOCKED, "403", description)
    if status >= 500:
        return Outcome(Kind.TRANSIENT, "5xx", description)
    return Outcome(Kind.TRANSIENT, str(status) if status else "other", description)


class HttpSender:
    """Plain aiohttp: the same requests aiogram makes, as JSON, without its per-call overhead."""

    def __init__(
        self, token: str, api_base: str, connection_limit: int, timeout: float = 30.0
    ) -> None:
        self._prefix = f"{api_base.rstrip('/')}/bot{token}/"
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=connection_limit),
            timeout=aiohttp.ClientTimeout(total=timeout),
        )

    async def __call__(self, name: str, chat_id: int, payload: dict[str, Any]) -> Outcome:
        return await self.call(name, {**payload, "chat_id": chat_id})

    async def upload(
        self, name: str, chat_id: int, payload: dict[str, Any], field: str, file: FileUpload
    ) -> Outcome:
        form = aiohttp.FormData()
        for key, value in {**payload, "chat_id": chat_id}.items():
            form.add_field(key, value if isinstance(value, str) else json.dumps(value))
        form.add_field(field, file.data, filename=file.file_name, content_type=file.mime_type)
        return await self._post(name, data=form)

    async def call(self, name: str, parameters: dict[str, Any]) -> Outcome:
        """Any Bot API method, ``parameters`` as JSON; never raises for Telegram or the network."""
        return await self._post(name, json=parameters)

    async def _post(self, name: str, **body: Any) -> Outcome:
        try:
            async with self._session.post(self._prefix + name, **body) as resp:
                status = resp.status
                raw = await resp.read()
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            return Outcome(Kind.TRANSIENT, "network", type(exc).__name__)
        try:
            answer = json.loads(raw)
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            return Outcome(Kind.TRANSIENT, "decode", f"undecodable Bot API response ({status})")
        return classify(status, answer)

    async def close(self) -> None:
        await self._session.close()
