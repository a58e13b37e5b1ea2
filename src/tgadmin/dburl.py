"""``DATABASE_URL`` (the bot's postgresql:// URL) as Django's ``DATABASES['default']``."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit


def database_settings(
    url: str, *, connect_timeout: int = 5, conn_max_age: int = 0
) -> dict[str, Any]:
    """Django database settings for a postgresql:// URL; query parameters become options."""
    parts = urlsplit(url)
    options: dict[str, Any] = dict(parse_qsl(parts.query))
    options.setdefault("connect_timeout", connect_timeout)
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": unquote(parts.path.lstrip("/")),
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": parts.hostname or options.pop("host", ""),
        "PORT": str(parts.port or ""),
        "OPTIONS": options,
        "CONN_MAX_AGE": conn_max_age,
        "CONN_HEALTH_CHECKS": conn_max_age > 0,
    }
