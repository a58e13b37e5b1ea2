"""What a handler decides for one update: effects to commit and replies to send after the commit.

Handlers do not write or send themselves: they stage, and ``middlewares.unit_of_work`` commits
the effects with the update's claim and then sends the replies. A duplicate delivery therefore
neither writes nor replies, and a reply never goes out for an update whose effects were lost.
A reply in the user's language is rendered after the commit, from the user as the commit found
them: ``work.answer(message, "help")``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiogram.methods import TelegramMethod
from aiogram.types import Message

from tgbot.db.queries.effects import Effect
from tgbot.db.queries.users import SeenUser
from tgbot.services.texts import TextService

# A text key, or how to choose one from the user (``lambda user: ...``).
TextKey = str | Callable[[SeenUser], str]


@dataclass(frozen=True)
class _Answer:
    message: Message
    key: TextKey
    options: dict[str, Any]  # sendMessage's other parameters (reply_markup, ...)
    params: dict[str, Any]  # the text's placeholders

    async def render(self, texts: TextService, user: SeenUser) -> TelegramMethod[Any]:
        key = self.key if isinstance(self.key, str) else self.key(user)
        text = await texts.get(key, user.language, **self.params)
        return self.message.answer(text, **self.options)


@dataclass
class UpdateWork:
    texts: TextService
    effects: list[Effect] = field(default_factory=list)
    replies: list[TelegramMethod[Any] | _Answer] = field(default_factory=list)

    def write(self, effect: Effect) -> None:
        self.effects.append(effect)

    def reply(self, method: TelegramMethod[Any]) -> None:
        """A reply built now: ``work.reply(query.answer(text))`` (aiogram builds the call, it is
        sent after the commit)."""
        self.replies.append(method)

    def answer(
        self,
        message: Message,
        key: TextKey,
        *,
        options: dict[str, Any] | None = None,
        **params: Any,
    ) -> None:
        """Answer ``message`` with the text ``key`` in the user's language (``params`` fill its
        placeholders; ``options`` are sendMessage's other parameters, such as reply_markup)."""
        self.replies.append(_Answer(message, key, options or {}, params))

    async def render(self, user: SeenUser) -> list[TelegramMethod[Any]]:
        """The replies, in order, in ``user``'s language."""
        return [
            reply if isinstance(reply, TelegramMethod) else await reply.render(self.texts, user)
            for reply in self.replies
        ]
