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
from tgbot.sandbox.errors import bad_request
from tgbot.sandbox.faults import Faults
from tgbot.sandbox.files import FileStore
from tgbot.sandbox.groups import ICON_COLORS, Group, Topic
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
        self.groups: dict[int, Group] = {}
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
        group = self.groups.get(chat_id)
        if group is not None:
            return group.chat()
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

    def new_group_id(self) -> int:
        """A fresh supergroup id (``-100`` and ten digits)."""
        chat_id = -1_000_000_000_000 - 1_000_000 - len(self.groups) - 1
        while chat_id in self.groups:
            chat_id -= 1
        return chat_id

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

    def chat_messages(self, chat_id: int, thread_id: int | None = None) -> list[JsonDict]:
        """The chat's messages, oldest first (only those of topic ``thread_id`` when given)."""
        ids = sorted(message_id for chat, message_id in self._messages if chat == chat_id)
        messages = [dict(json.loads(self._messages[(chat_id, message_id)])) for message_id in ids]
        if thread_id is None:
            return messages
        return [m for m in messages if m.get("message_thread_id") == thread_id]

    def bot_message(
        self, chat_id: int, content: JsonDict, thread_id: int | None = None
    ) -> JsonDict:
        """Store what the bot sends, into topic ``thread_id`` of a forum when given."""
        message: JsonDict = {
            "message_id": 0,
            "from": self.bot,
            "chat": self.chat(chat_id),
            "date": int(time.time()),
            **self.thread_fields(chat_id, thread_id, by_admin=self._bot_may_post_closed(chat_id)),
            **content,
        }
        message["message_id"] = self.next_message_id(chat_id)
        return self.store(message)

    # --- supergroups and forum topics -------------------------------------------------
    def _bot_may_post_closed(self, chat_id: int) -> bool:
        group = self.groups.get(chat_id)
        return group is not None and group.bot_manages_topics

    def thread_fields(self, chat_id: int, thread_id: int | None, *, by_admin: bool) -> JsonDict:
        """What a message sent into topic ``thread_id`` carries, or Telegram's refusal.

        Messages in a topic answer its ``forum_topic_created`` message, as on Telegram.
        """
        if thread_id is None:
            return {}
        group = self.groups.get(chat_id)
        topic = group.live_topic(thread_id) if group is not None and group.is_forum else None
        if topic is None:
            raise bad_request("message thread not found")
        if topic.closed and not by_admin:
            raise bad_request("TOPIC_CLOSED")
        fields: JsonDict = {"message_thread_id": thread_id, "is_topic_message": True}
        created = self.message(chat_id, thread_id)
        if created is not None:
            fields["reply_to_message"] = created
        return fields

    def service_message(
        self, group: Group, sender: JsonDict, thread_id: int | None, content: JsonDict
    ) -> JsonDict:
        """A service message in ``group`` (topic created, edited, closed, reopened)."""
        message_id = self.next_message_id(group.id)
        message: JsonDict = {
            "message_id": message_id,
            "from": sender,
            "chat": group.chat(),
            "date": int(time.time()),
        }
        thread = message_id if thread_id is None else thread_id
        message.update(message_thread_id=thread, is_topic_message=True, **content)
        return self.store(message)

    def create_topic(
        self,
        group: Group,
        sender: JsonDict,
        *,
        name: str,
        icon_color: int | None = None,
        icon_custom_emoji_id: str | None = None,
    ) -> tuple[Topic, JsonDict]:
        """A new topic and its ``forum_topic_created`` message (whose id is the topic's)."""
        color = icon_color if icon_color is not None else ICON_COLORS[len(group.topics) % 6]
        created: JsonDict = {"name": name, "icon_color": color}
        if icon_custom_emoji_id:
            created["icon_custom_emoji_id"] = icon_custom_emoji_id
        message = self.service_message(group, sender, None, {"forum_topic_created": created})
        topic = Topic(
            message_thread_id=message["message_id"],
            name=name,
            icon_color=color,
            created_by=sender["id"],
            icon_custom_emoji_id=icon_custom_emoji_id or None,
        )
        group.topics[topic.message_thread_id] = topic
        return topic, message

    def delete_topic(self, group: Group, topic: Topic) -> None:
        """The topic and every message in it are gone (its id is never reused)."""
        topic.deleted = True
        doomed = [
            key
            for key, text in self._messages.items()
            if key[0] == group.id
            and json.loads(text).get("message_thread_id") == topic.message_thread_id
        ]
        for key in doomed:
            del self._messages[key]

    async def reset(self) -> None:
        """Forget recordings, faults and queued updates; ids keep growing."""
        self.recorder.clear()
        self.faults = Faults.defaults(self.config)
        self.limiter.clear()
        await self.queue.clear()
        self.webhook.last_error_date = None
        self.webhook.last_error_message = None
