"""Bot texts render safely: only their placeholders, and never past Telegram's limit."""

from __future__ import annotations

import pytest

from tgbot.text_templates import MAX_TEXT_LENGTH, render, telegram_length


@pytest.mark.parametrize(
    "template",
    ["{name:>999999999}", "{name.__class__.__mro__}", "{name[0]}", "{name!r}", "{user}", "a {"],
)
def test_unsafe_templates_do_not_render(template: str) -> None:
    assert render("start", template, name="Anna") is None


def test_placeholders_fill_and_braces_stay_literal() -> None:
    assert render("start", "Hi {name}! {{ok}}", name="Anna") == "Hi Anna! {ok}"


def test_rendering_never_exceeds_telegrams_limit() -> None:
    rendered = render("start", "😀" * 3000 + "{name}", name="x" * 5000)
    assert rendered is not None
    assert telegram_length(rendered) <= MAX_TEXT_LENGTH
    assert rendered.startswith("😀" * 2048)  # cut between characters, not inside a pair
