"""The sandbox's in-memory world: users, chats' messages, the bot, webhook and update queue."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from tgbot.sandbox.config import SandboxConfig
from tgbot.sandbox.faults import Faults
from tgbot.sandbox.files import FileStore
from tgbot.sandbox.ratelimit import RateLimiter
from tgbot.sandbox.recorder import Recorder
from tgbot.sandbox.updates import JsonDict, chat_for_id, is_allowed, make_user, private_chat


@dataclass
class Webhook:
    url: str = ""
    secret_token: str | None = None
    allowed_updates: list[str] | None = None
    max_connections: int = 40
    last_error_date: int | None = None
    last_error_message: str | None = None

    def info(self, pending: int) -> JsonDict:
        out: JsonDict = {
            "url": self.url,
            "has_custom_certificate": False,
            "pending_update_count": pending,
        }
        if self.url:
            out["max_connections"] = self.max_connections
            if self.allowed_updates:
                out["allowed_updates"] = self.allowed_updates
        if self.last_error_date is not None:
            out["last_error_date"] = self.last_error_date
            out["last_error_message"] = self.last_error_message
        return out


class PollConflict(Exception):
    """A newer getUpdates request took over."""


@dataclass
class UpdateQueue:
    """Updates waiting for getUpdates, with Telegram's offset semantics."""

    updates: list[JsonDict] = field(default_factory=list)
    allowed: list[str] | None = None
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    _generation: int = 0
    waiting: int = 0  # long polls waiting right now

    async def push(self, update: JsonDict) -> None:
        async with self._changed:
            self.updates.append(update)
            self._changed.notify_all()

    def confirm(self, offset: int) -> None:
        if offset > 0:
            self.updates = [u for u in self.updates if u["update_id"] >= offset]
        elif offset < 0:
            self.updates = self.updates[offset:]

    def _ready(self) -> list[JsonDict]:
        self.updates = [u for u in self.updates if is_allowed(u, self.allowed)]
        return self.updates

    async def get(
        self, *, offset: int, limit: int, wait: float, allowed: list[str] | None
    ) -> list[JsonDict]:
        async with self._changed:
            self._generation += 1
            generation = self._generation
            self._changed.notify_all()  # an older long poll is terminated (409)
            if allowed is not None:
                self.allowed = allowed
            self.confirm(offset)

            def done() -> bool:
                return bool(self._ready()) or self._generation != generation

            if wait > 0 and not done():
                self.waiting += 1
                try:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._changed.wait_for(done), wait)
                finally:
                    self.waiting -= 1
            if self._generation != generation:
                raise PollConflict
            return list(self._ready()[:limit])

    async def clear(self) -> None:
        async with self._changed:
            self.updates.clear()


class SandboxState:
    """Everything the emulated Telegram remembers. One bot per sandbox."""

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self.bot: JsonDict = self.bot_user(config.sandbox_bot_id)
        self.users: dict[int, JsonDict] = {}
        # As JSON text, for the reason given in recorder.py: a sandbox that has seen a million
        # messages must not pause for the collector to walk them.
        self._messages: dict[tuple[int, int], str] = {}
        self._message_ids: dict[int, itertools.count[int]] = {}
        self.callback_queries: dict[str, int] = {}
        self.commands: list[JsonDict] = []
        self.webhook = Webhook()
        self.queue = UpdateQueue()
        self.faults = Faults.defaults(config)
        self.limiter = RateLimiter()
        self.recorder = Recorder(config.sandbox_max_recorded_calls)
        self.files = FileStore()
        self._update_ids = itertools.count(1)
        self.last_update_id = 0

    # --- identities -----------------------------------------------------------------
    def bot_user(self, bot_id: int) -> JsonDict:
        return {
            "id": bot_id,
            "is_bot": True,
            "first_name": self.config.sandbox_bot_first_name,
            "username": self.config.sandbox_bot_username,
        }

    def seen_token(self, token: str) -> None:
        self.bot = self.bot_user(int(token.split(":", 1)[0]))

    def upsert_user(self, user_id: int, **fields: Any) -> JsonDict:
        current = self.users.get(user_id, {})
        given = {k: v for k, v in fields.items() if v is not None}
        user = make_user(
            user_id,
            first_name=given.get("first_name", current.get("first_name")),
            username=given.get("username", current.get("username")),
            language_code=given.get("language_code", current.get("language_code")),
        )
        self.users[user_id] = user
        return user

    def chat(self, chat_id: int) -> JsonDict:
        user = self.users.get(chat_id)
        return private_chat(user) if user else chat_for_id(chat_id)

    # --- ids ------------------------------------------------------------------------
    def next_update_id(self) -> int:
        self.last_update_id = next(self._update_ids)
        return self.last_update_id

    def claim_update_id(self, update_id: int) -> None:
        """A raw update brought its own id: later generated ids stay above it."""
        if update_id > self.last_update_id:
            self.last_update_id = update_id
            self._update_ids = itertools.count(update_id + 1)

    def next_message_id(self, chat_id: int) -> int:
        return next(self._message_ids.setdefault(chat_id, itertools.count(1)))

    def new_callback_query(self, user_id: int) -> str:
        query_id = str(secrets.randbits(63))
        self.callback_queries[query_id] = user_id
        return query_id

    # --- messages -------------------------------------------------------------------
    def store(self, message: JsonDict) -> JsonDict:
        self._messages[(message["chat"]["id"], message["message_id"])] = json.dumps(message)
        return message

    def message(self, chat_id: int, message_id: int) -> JsonDict | None:
        """A copy of the message as stored (edits applied), or None."""
        stored = self._messages.get((chat_id, message_id))
        return None if stored is None else dict(json.loads(stored))

    def chat_messages(self, chat_id: int) -> list[JsonDict]:
        """The chat's messages, oldest first."""
        ids = sorted(message_id for chat, message_id in self._messages if chat == chat_id)
        return [dict(json.loads(self._messages[(chat_id, message_id)])) for message_id in ids]

    def bot_message(self, chat_id: int, content: JsonDict) -> JsonDict:
        message: JsonDict = {
            "message_id": self.next_message_id(chat_id),
            "from": self.bot,
            "chat": self.chat(chat_id),
            "date": int(time.time()),
            **content,
        }
        return self.store(message)

    async def reset(self) -> None:
        """Forget recordings, faults and queued updates; ids keep growing."""
        self.recorder.clear()
        self.faults = Faults.defaults(self.config)
        self.limiter.clear()
        await self.queue.clear()
        self.webhook.last_error_date = None
        self.webhook.last_error_message = None
