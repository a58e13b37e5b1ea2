"""Users' media for the inbox, read from Telegram server-side: ``getFile`` gives a file path, the
file server gives the bytes. The token stays here; the browser only ever sees the panel's own
``/admin/inbox/media/<message id>`` URL. No SQL here, no request parsing (views.py does both).
"""

from __future__ import annotations

import json
import mimetypes
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

from django.conf import settings

MAX_BYTES = 20 * 1024 * 1024  # what getFile lets a bot download
TIMEOUT_SECONDS = 10


class MediaUnavailable(Exception):
    """The file cannot be shown; the message is safe to show (it never contains the token)."""


@dataclass(frozen=True)
class Media:
    data: bytes
    content_type: str
    file_path: str


def _open(url: str) -> bytes:
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310 - the configured Bot API
            data: bytes = response.read(MAX_BYTES + 1)
    except urllib.error.HTTPError as exc:
        body = exc.read(4096)
        try:
            description = json.loads(body).get("description")
        except ValueError:
            description = None
        raise MediaUnavailable(description or f"Telegram answered {exc.code}") from None
    except (urllib.error.URLError, TimeoutError, OSError):
        raise MediaUnavailable("Telegram could not be reached") from None
    if len(data) > MAX_BYTES:
        raise MediaUnavailable("the file is larger than 20 MB")
    return data


def fetch(file_id: str) -> Media:
    token = settings.TELEGRAM_BOT_TOKEN
    if not token:
        raise MediaUnavailable("media previews need TELEGRAM_BOT_TOKEN")
    base = settings.TELEGRAM_API_BASE
    query = urllib.parse.urlencode({"file_id": file_id})
    try:
        answer = json.loads(_open(f"{base}/bot{token}/getFile?{query}"))
    except ValueError:
        raise MediaUnavailable("Telegram's answer could not be read") from None
    if not isinstance(answer, dict) or not isinstance(answer.get("result", {}), dict):
        raise MediaUnavailable("Telegram's answer could not be read")
    file_path = answer.get("result", {}).get("file_path")
    if not answer.get("ok") or not isinstance(file_path, str):
        raise MediaUnavailable(answer.get("description") or "Telegram gave no file path")
    data = _open(f"{base}/file/bot{token}/{urllib.parse.quote(file_path)}")
    return Media(data, _content_type(file_path), file_path)


def _content_type(file_path: str) -> str:
    return mimetypes.guess_type(file_path)[0] or "application/octet-stream"
