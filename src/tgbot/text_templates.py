"""Bot texts as safe templates: only the documented placeholders, and never longer than Telegram
accepts.

Texts are ``str.format`` templates an admin edits in the panel, so they are untrusted input:
``{name:>999999999}`` would allocate a gigabyte, ``{name.__class__}`` reads attributes. A template
may hold only ``{placeholder}`` (no format spec, conversion, attribute or index) naming one of its
key's placeholders (``PLACEHOLDERS``); ``{{`` and ``}}`` are literal braces. The panel refuses
anything else when the text is saved (``template_problems``) and rendering (``render``) enforces
the same, so a text that reached the database another way still renders safely.

Standard library only: the admin panel imports it too.
"""

from __future__ import annotations

import string

# Telegram's limit for a message's text, in UTF-16 code units (what Telegram counts).
MAX_TEXT_LENGTH = 4096

# The placeholders each text key is rendered with (docs/admin.md lists them for editors).
PLACEHOLDERS: dict[str, frozenset[str]] = {
    "start": frozenset({"name"}),
}

_FORMATTER = string.Formatter()


def telegram_length(text: str) -> int:
    """The length Telegram counts: UTF-16 code units (an emoji outside the BMP counts 2)."""
    return len(text.encode("utf-16-le")) // 2


def template_problems(key: str, template: str) -> list[str]:
    """Why ``template`` cannot be the text ``key``, one readable sentence each; [] when fine."""
    allowed = PLACEHOLDERS.get(key, frozenset())
    problems: list[str] = []
    try:
        fields = [
            (field, spec, conversion)
            for _literal, field, spec, conversion in _FORMATTER.parse(template)
            if field is not None
        ]
    except ValueError as exc:  # a lone { or }, an unclosed field
        return [f"Braces do not match ({exc}); write {{{{ and }}}} for literal braces."]
    for field, spec, conversion in fields:
        suffix = (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "")
        shown = "{" + field + suffix + "}"
        if spec or conversion:
            problems.append(f"{shown}: placeholders take no format or conversion.")
        elif field not in allowed:
            known = ", ".join("{" + name + "}" for name in sorted(allowed)) or "none"
            problems.append(f"{shown} is not a placeholder of this text (it has: {known}).")
    if telegram_length(template) > MAX_TEXT_LENGTH:
        problems.append(f"Longer than Telegram's {MAX_TEXT_LENGTH} characters.")
    return problems


def render(key: str, template: str, **params: object) -> str | None:
    """``template`` with its placeholders filled, cut to Telegram's limit; None when the template
    is not a safe one for ``key`` (the caller falls back to the built-in text)."""
    allowed = PLACEHOLDERS.get(key, frozenset())
    parts: list[str] = []
    try:
        for literal, field, spec, conversion in _FORMATTER.parse(template):
            parts.append(literal)
            if field is None:
                continue
            if spec or conversion or field not in allowed:
                return None
            parts.append(str(params.get(field, "")))
    except ValueError:
        return None
    return _cut("".join(parts))


def _cut(text: str) -> str:
    if telegram_length(text) <= MAX_TEXT_LENGTH:
        return text
    encoded = text.encode("utf-16-le")[: 2 * MAX_TEXT_LENGTH]
    return encoded.decode("utf-16-le", errors="ignore")
