"""Telegram's HTML formatting (``parse_mode=HTML``): checked before anything is sent, and
re-rendered safely for a browser preview.

What Telegram accepts (Bot API, "HTML style"): ``b strong i em u ins s strike del code pre
blockquote tg-spoiler`` (``blockquote expandable``), ``span class="tg-spoiler"``,
``a href="..."``, ``tg-emoji emoji-id="..."``, ``pre`` holding ``code class="language-..."``;
``&lt; &gt; &amp; &quot;`` and numeric entities; every other ``<``, ``>`` and ``&`` escaped.
Telegram refuses the whole message when any of it is wrong, so a broadcast is checked when it is
saved (``problems``), never at send time for every recipient. Its length is what Telegram
counts: the text without the tags, in UTF-16 code units (4096 for a message, 1024 for a caption).

Standard library only: the admin panel imports it too.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urlsplit

from tgbot.text_templates import telegram_length

MESSAGE_LIMIT = 4096
CAPTION_LIMIT = 1024
URL_SCHEMES = ("http", "https", "tg")
NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}

# tag -> the attributes it may carry (a value check per attribute, or None: no value)
_PLAIN = frozenset({"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "tg-spoiler"})
_NO_NESTING_INSIDE = frozenset({"code", "pre"})  # Telegram formats nothing inside these
_EMOJI_ID = re.compile(r"[0-9]{1,20}")
_LANGUAGE = re.compile(r"language-[A-Za-z0-9_+#.-]{1,32}")

# How the preview shows each tag (always with escaped attributes of our own choosing).
_PREVIEW = {
    "b": "b",
    "strong": "b",
    "i": "i",
    "em": "i",
    "u": "u",
    "ins": "u",
    "s": "s",
    "strike": "s",
    "del": "s",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-spoiler": "span",
    "span": "span",
    "a": "a",
    "tg-emoji": "span",
}


def url_problem(url: str) -> str | None:
    """Why ``url`` cannot be a link or a button's URL; None when it can."""
    if not url or url != url.strip() or any(c.isspace() for c in url):
        return f"{url!r} is not a URL (no spaces allowed)"
    parts = urlsplit(url)
    if parts.scheme.lower() not in URL_SCHEMES:
        return f"{url!r}: links must start with http://, https:// or tg://"
    if parts.scheme.lower() in ("http", "https") and not parts.hostname:
        return f"{url!r} has no host"
    if len(url) > 2048:
        return "a URL is longer than 2048 characters"
    return None


@dataclass
class _Parsed:
    problems: list[str] = field(default_factory=list)
    text: list[str] = field(default_factory=list)  # the visible text, entities decoded
    preview: list[str] = field(default_factory=list)  # safe HTML for a browser


class _Checker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.out = _Parsed()
        self.open: list[str] = []
        self.refused: list[str] = []

    # --- tags -------------------------------------------------------------------------------
    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        raw = self.get_starttag_text() or f"<{tag}>"
        if (
            self.open
            and self.open[-1] in _NO_NESTING_INSIDE
            and not (self.open[-1] == "pre" and tag == "code")
        ):
            self._problem(f"{raw}: nothing can be formatted inside <{self.open[-1]}>")
        if tag in ("blockquote", "a") and tag in self.open:
            self._problem(f"{raw}: a <{tag}> cannot be inside another")
        problem = self._attrs_problem(tag, dict(attrs), len(attrs))
        if problem:
            self._problem(f"{raw}: {problem}")
            self.refused.append(tag)  # its closing tag is not a second problem
            return
        self.open.append(tag)
        self.out.preview.append(self._preview_open(tag, dict(attrs)))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._problem(f"{self.get_starttag_text()}: Telegram has no self-closing tags")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.refused and (not self.open or self.open[-1] != tag):
            self.refused.remove(tag)
            return
        if not self.open or self.open[-1] != tag:
            expected = f"</{self.open[-1]}>" if self.open else "no closing tag"
            self._problem(f"</{tag}> closes nothing open here (expected {expected})")
            return
        self.open.pop()
        self.out.preview.append(f"</{_PREVIEW[tag]}>")

    def _attrs_problem(self, tag: str, attrs: dict[str, str | None], count: int) -> str | None:
        if count != len(attrs):
            return "an attribute is given twice"
        if tag in _PLAIN or tag == "pre":
            return "takes no attributes" if attrs else None
        if tag == "code":
            if not attrs:
                return None
            if set(attrs) != {"class"} or not _LANGUAGE.fullmatch(attrs["class"] or ""):
                return 'only class="language-..." is allowed'
            if not self.open or self.open[-1] != "pre":
                return 'class="language-..." only inside <pre>'
            return None
        if tag == "blockquote":
            return None if set(attrs) <= {"expandable"} else "only expandable is allowed"
        if tag == "span":
            return None if attrs == {"class": "tg-spoiler"} else 'only class="tg-spoiler"'
        if tag == "a":
            if set(attrs) != {"href"}:
                return "needs href and nothing else"
            return url_problem(attrs["href"] or "")
        if tag == "tg-emoji":
            if set(attrs) != {"emoji-id"} or not _EMOJI_ID.fullmatch(attrs["emoji-id"] or ""):
                return "needs emoji-id (digits) and nothing else"
            return None
        allowed = "b, i, u, s, tg-spoiler, a, code, pre, blockquote, tg-emoji"
        return f"Telegram does not know this tag (it knows {allowed})"

    # --- text -------------------------------------------------------------------------------
    def handle_data(self, data: str) -> None:
        for char, name in (("<", "&lt;"), (">", "&gt;"), ("&", "&amp;")):
            if char in data:
                self._problem(f"a bare {char!r} must be written {name}")
        self._text(data)

    def handle_entityref(self, name: str) -> None:
        if name not in NAMED_ENTITIES:
            self._problem(f"&{name}; is not an entity Telegram knows (only &lt; &gt; &amp; &quot;)")
            return
        self._text(NAMED_ENTITIES[name])

    def handle_charref(self, name: str) -> None:
        try:
            code = int(name[1:], 16) if name[:1] in "xX" else int(name)
            char = chr(code)
        except (ValueError, OverflowError):
            self._problem(f"&#{name}; is not a character")
            return
        self._text(char)

    def handle_comment(self, data: str) -> None:
        self._problem("HTML comments are not allowed")

    def handle_decl(self, decl: str) -> None:
        self._problem(f"<!{decl}> is not allowed")

    def handle_pi(self, data: str) -> None:
        self._problem(f"<?{data}> is not allowed")

    def unknown_decl(self, data: str) -> None:
        self._problem(f"<![{data}]> is not allowed")

    def close(self) -> None:
        super().close()  # an unterminated tag ("<b") arrives as text: a bare "<"
        for tag in reversed(self.open):
            self._problem(f"<{tag}> is never closed")
            self.out.preview.append(f"</{_PREVIEW[tag]}>")

    # --- helpers ----------------------------------------------------------------------------
    def _text(self, text: str) -> None:
        self.out.text.append(text)
        self.out.preview.append(html.escape(text))

    def _problem(self, problem: str) -> None:
        if problem not in self.out.problems:
            self.out.problems.append(problem)

    @staticmethod
    def _preview_open(tag: str, attrs: dict[str, str | None]) -> str:
        if tag == "a":
            href = html.escape(attrs.get("href") or "", quote=True)
            return f'<a href="{href}" rel="noopener noreferrer nofollow" target="_blank">'
        if tag in ("tg-spoiler", "span"):
            return '<span class="tg-spoiler">'
        if tag == "tg-emoji":
            return '<span class="tg-emoji">'
        if tag == "blockquote" and "expandable" in attrs:
            return '<blockquote class="tg-expandable">'
        return f"<{_PREVIEW[tag]}>"


def _parse(markup: str) -> _Parsed:
    checker = _Checker()
    checker.feed(markup)
    checker.close()
    return checker.out


def problems(markup: str, *, limit: int = MESSAGE_LIMIT) -> list[str]:
    """What Telegram would refuse in ``markup``, one readable sentence each; [] when it is fine."""
    parsed = _parse(markup)
    text = "".join(parsed.text)
    found = list(parsed.problems)
    if too_long := _length_problem(text, limit):
        found.append(too_long)
    if not text.strip():
        found.append("the text is empty once the formatting is taken away")
    return found


def length_problem(markup: str, limit: int) -> str | None:
    """Why ``markup`` is longer than ``limit`` as Telegram counts it, or None."""
    return _length_problem(plain_text(markup), limit)


def _length_problem(text: str, limit: int) -> str | None:
    length = telegram_length(text)
    if length <= limit:
        return None
    return f"the text is {length} characters as Telegram counts them; at most {limit}"


def plain_text(markup: str) -> str:
    """The visible text of ``markup`` (tags dropped, entities decoded)."""
    return "".join(_parse(markup).text)


def preview_html(markup: str) -> str:
    """``markup`` as safe HTML for a browser: only the formatting re-emitted by us, all text and
    URLs escaped (even for markup that has problems)."""
    return "".join(_parse(markup).preview)
