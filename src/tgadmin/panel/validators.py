"""Form validators the panel's screens share."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext as _

from tgbot.text_templates import MAX_TEXT_LENGTH, telegram_length


def telegram_text(value: str) -> str:
    """A message text Telegram accepts: at most 4096 characters as Telegram counts them (UTF-16
    code units: an emoji outside the basic plane counts two)."""
    length = telegram_length(value)
    if length > MAX_TEXT_LENGTH:
        raise forms.ValidationError(
            _("Telegram accepts at most %(max)d characters; this text has %(n)d.")
            % {"max": MAX_TEXT_LENGTH, "n": length}
        )
    return value
