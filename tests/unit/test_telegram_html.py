"""Telegram's HTML: what it would refuse is found before sending; the preview is safe."""

from __future__ import annotations

import pytest

from tgbot.telegram_html import CAPTION_LIMIT, plain_text, preview_html, problems

GOOD = [
    "<b>Big news!</b> Free shipping",
    "<strong>a</strong><i>b</i><em>c</em><u>d</u><ins>e</ins><s>f</s><strike>g</strike><del>h</del>",
    '<span class="tg-spoiler">secret</span> and <tg-spoiler>another</tg-spoiler>',
    '<a href="https://shop.example.com/sale?x=1&amp;y=2">shop</a> <a href="tg://user?id=42">me</a>',
    '<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>',
    "<code>x = 1</code> <pre>block</pre>",
    '<pre><code class="language-python">print("hi")</code></pre>',
    "<blockquote>quote</blockquote><blockquote expandable>long</blockquote>",
    "<b>bold <i>italic bold <u>and underlined</u></i></b>",
    "1 &lt; 2 &amp;&amp; 3 &gt; 2 &quot;ok&quot; &#128512; &#x1F600;",
]


@pytest.mark.parametrize("markup", GOOD)
def test_what_telegram_accepts_passes(markup: str) -> None:
    assert problems(markup) == []


@pytest.mark.parametrize(
    ("markup", "expected"),
    [
        ("<sale>50%</sale>", "<sale>: Telegram does not know this tag"),
        ("<b>open", "<b> is never closed"),
        ("<b><i>x</b></i>", "</b> closes nothing open here (expected </i>)"),
        ("x</b>", "</b> closes nothing open here"),
        ('<a href="javascript:alert(1)">x</a>', "links must start with http://, https:// or tg://"),
        ('<a href="https://">x</a>', "has no host"),
        ("<a>x</a>", "needs href and nothing else"),
        ('<b class="x">x</b>', "takes no attributes"),
        ('<span class="red">x</span>', 'only class="tg-spoiler"'),
        ('<tg-emoji emoji-id="abc">x</tg-emoji>', "needs emoji-id (digits)"),
        ('<code class="language-py">x</code>', "only inside <pre>"),
        ("<code><b>x</b></code>", "nothing can be formatted inside <code>"),
        ("<blockquote>a<blockquote>b</blockquote></blockquote>", "cannot be inside another"),
        ('<a href="https://a.io">x<a href="https://b.io">y</a></a>', "cannot be inside another"),
        ("a < b and c > d", "a bare '<' must be written &lt;"),
        ("AT&T ", "is not an entity Telegram knows"),
        ("&nbsp;", "&nbsp; is not an entity Telegram knows"),
        ("<br/>", "Telegram has no self-closing tags"),
        ("<!-- hidden -->x", "HTML comments are not allowed"),
        ("<b", "a bare '<' must be written &lt;"),
        ("<b></b>", "the text is empty"),
    ],
)
def test_what_telegram_refuses_is_named(markup: str, expected: str) -> None:
    found = problems(markup)
    assert any(expected in p for p in found), found


def test_length_is_counted_as_telegram_counts_it() -> None:
    # The tags do not count; an emoji outside the BMP counts two.
    assert problems("<b>" + "x" * 4096 + "</b>") == []
    assert problems("x" * 4097) == [
        "the text is 4097 characters as Telegram counts them; at most 4096"
    ]
    assert problems("😀" * 512, limit=CAPTION_LIMIT) == []
    assert problems("😀" * 513, limit=CAPTION_LIMIT) == [
        "the text is 1026 characters as Telegram counts them; at most 1024"
    ]


def test_plain_text_drops_tags_and_decodes_entities() -> None:
    assert plain_text("<b>1 &lt; 2</b> &#128512;") == "1 < 2 😀"


@pytest.mark.parametrize(
    "markup",
    [
        '<b onclick="steal()">x</b>',
        '<a href="https://e.com/" onmouseover="x()">y</a>',
        "<script>alert(1)</script>",
        '<img src=x onerror="alert(1)">',
        '<a href="https://e.com/&quot;&gt;&lt;script&gt;">y</a>',
        "&lt;script&gt;alert(1)&lt;/script&gt;",
    ],
)
def test_the_preview_never_carries_markup_of_the_authors(markup: str) -> None:
    shown = preview_html(markup)
    assert "<script" not in shown
    assert "onclick" not in shown
    assert "onmouseover" not in shown
    assert "<img" not in shown
    assert "onerror=" not in shown.replace("&quot;", "")  # only as escaped text, if at all


def test_the_preview_shows_the_formatting() -> None:
    shown = preview_html(
        '<b>Big</b> <tg-spoiler>s</tg-spoiler> <a href="https://e.com/?a=1&amp;b=2">go</a>'
    )
    assert shown == (
        '<b>Big</b> <span class="tg-spoiler">s</span> '
        '<a href="https://e.com/?a=1&amp;b=2" rel="noopener noreferrer nofollow" '
        'target="_blank">go</a>'
    )
