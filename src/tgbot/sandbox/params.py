"""Turn a Bot API request (JSON, form-urlencoded or multipart) into typed parameters.

aiogram's AiohttpSession sends form fields: strings as they are, everything else JSON-encoded
(``123``, ``true``, ``{"inline_keyboard": ...}``), and files as multipart parts referenced by
``attach://<name>``. Which fields are numbers, booleans or JSON is fixed by the Bot API, so the
decoding is driven by the parameter name, never guessed from the value (a text of ``"123"``
stays a string).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from typing import Any

from tgbot.sandbox.errors import bad_request

INT_PARAMS = frozenset(
    {
        "from_chat_id",
        "message_id",
        "reply_to_message_id",
        "message_thread_id",
        "offset",
        "limit",
        "timeout",
        "max_connections",
        "cache_time",
        "user_id",
        "icon_color",
    }
)
BOOL_PARAMS = frozenset(
    {
        "disable_notification",
        "protect_content",
        "disable_web_page_preview",
        "allow_sending_without_reply",
        "show_alert",
        "drop_pending_updates",
        "has_spoiler",
        "disable_content_type_detection",
        "show_caption_above_media",
        "allow_paid_broadcast",
    }
)
JSON_PARAMS = frozenset(
    {
        "reply_markup",
        "entities",
        "caption_entities",
        "allowed_updates",
        "commands",
        "scope",
        "link_preview_options",
        "reply_parameters",
    }
)


def _to_int(name: str, value: Any) -> int:
    if isinstance(value, bool):
        raise bad_request(f"invalid {name} specified")
    if isinstance(value, int):
        return value
    try:
        return int(str(value).strip())
    except ValueError:
        raise bad_request(f"invalid {name} specified") from None


def _to_bool(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"true", "1"}:
        return True
    if text in {"false", "0", ""}:
        return False
    raise bad_request(f"invalid {name} specified")


def _to_json(name: str, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        raise bad_request(f"can't parse {name} JSON object") from None


def _chat_id(value: Any) -> int | str:
    """Telegram accepts an integer id or an ``@username`` string."""
    if isinstance(value, bool):
        raise bad_request("chat not found")
    if isinstance(value, int):
        return value
    text = str(value).strip()
    try:
        return int(text)
    except ValueError:
        return text


def coerce(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Typed parameters from raw request fields (strings from forms, values from JSON)."""
    out: dict[str, Any] = {}
    for name, value in raw.items():
        if value is None:
            continue
        if name == "chat_id":
            out[name] = _chat_id(value)
        elif name in INT_PARAMS:
            out[name] = _to_int(name, value)
        elif name in BOOL_PARAMS:
            out[name] = _to_bool(name, value)
        elif name in JSON_PARAMS:
            out[name] = _to_json(name, value)
        else:
            out[name] = value
    return out


def new_file_id() -> str:
    """A file id for media the sandbox received as bytes."""
    return "sbx_" + secrets.token_urlsafe(12)


def resolve_attachments(raw: dict[str, Any], files: Mapping[str, str]) -> dict[str, Any]:
    """Replace ``attach://<part>`` values by the file ids given to those uploaded parts.

    A part sent directly under a parameter's name (``photo=<file>``) becomes that parameter.
    """
    attached = set()
    for name, value in list(raw.items()):
        if isinstance(value, str) and value.startswith("attach://"):
            part = value.removeprefix("attach://")
            attached.add(part)
            raw[name] = files.get(part, value)
    for name, file_id in files.items():
        if name not in attached:
            raw.setdefault(name, file_id)
    return raw
