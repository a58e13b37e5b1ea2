from __future__ import annotations

import pytest

from tgbot.sandbox.errors import ApiError
from tgbot.sandbox.formatting import plain_text


def test_html_becomes_the_text_telegram_shows() -> None:
    html = 'Hi <b>Ann</b> &amp; <a href="https://x.example">co</a> &lt;3<br>bye'
    assert plain_text(html, "HTML") == "Hi Ann & co <3\nbye"


def test_other_parse_modes_pass_text_through() -> None:
    assert plain_text("<b>*x*</b>", None) == "<b>*x*</b>"
    assert plain_text("*x*", "MarkdownV2") == "*x*"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("<b>open", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<marquee>x</marquee>", 'Unsupported start tag "marquee"'),
        ("<b><i>x</b></i>", 'Unexpected end tag "b"'),
    ],
)
def test_bad_html_is_refused(text: str, problem: str) -> None:
    with pytest.raises(ApiError) as caught:
        plain_text(text, "html")
    assert caught.value.description == f"Bad Request: can't parse entities: {problem}"
