"""What a handler decides for one update: effects to commit and replies to send after the commit.

Handlers do not write or send themselves: they stage, and ``middlewares.unit_of_work`` commits
the effects with the update's claim and then sends the replies. A duplicate delivery therefore
neither writes nor replies, and a reply never goes out for an update whose effects were lost.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aiogram.methods import TelegramMethod

from tgbot.db.queries.effects import Effect


@dataclass
class UpdateWork:
    effects: list[Effect] = field(default_factory=list)
    replies: list[TelegramMethod[Any]] = field(default_factory=list)

    def write(self, effect: Effect) -> None:
        self.effects.append(effect)

    def reply(self, method: TelegramMethod[Any]) -> None:
        """``work.reply(message.answer(...))``: aiogram builds the call, we send it after the
        commit."""
        self.replies.append(method)
