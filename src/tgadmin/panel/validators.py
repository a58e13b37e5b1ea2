"""Form validators the panel's screens share."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext as _

from tgbot.text_templates import MAX_TEXT_LENGTH, telegram_length


def telegram_text(value: str, limit: int = MAX_TEXT_LENGTH) -> str:
    """A text Telegram accepts: at most ``limit`` characters as Telegram counts them (UTF-16
    code units: an emoji outside the basic plane counts two); 4096 for a message, 1024 for a
    caption."""
    length = telegram_length(value)
    if length > limit:
        raise forms.ValidationError(
            _("Telegram accepts at most %(max)d characters; this text has %(n)d.")
            % {"max": limit, "n": length}
        )
    return value
