"""What the update store is given for an update: its person and its staged messages."""

from __future__ import annotations

from tgbot.db.queries.effects import FileMessage
from tgbot.db.queries.users import UserProfile


def person(telegram_id: int, first_name: str = "Q") -> UserProfile:
    """A Telegram user writing in English."""
    return UserProfile(
        telegram_id=telegram_id,
        username=None,
        first_name=first_name,
        last_name=None,
        language_code="en",
        initial_language="en",
    )


def text_message(user_id: int, n: int, text: str, content_type: str = "text") -> FileMessage:
    """The user's ``n``-th message (its Telegram message id)."""
    return FileMessage(
        user_id=user_id, content_type=content_type, text=text, file_id=None, telegram_message_id=n
    )
