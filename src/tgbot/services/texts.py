"""Bot texts: admin overrides from the database over built-in defaults, with language fallback.

Overrides are cached in-process for ``TEXTS_CACHE_SECONDS`` so an edit in the admin reaches
every replica within seconds without a query per message.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tgbot.db.queries.texts import all_text_overrides
from tgbot.texts_defaults import DEFAULT_TEXTS, SUPPORTED_LANGUAGES

log = structlog.get_logger(__name__)


class TextService:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        default_language: str,
        ttl_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._default_language = default_language
        self._ttl = ttl_seconds
        self._clock = clock
        self._overrides: dict[tuple[str, str], str] = {}
        self._loaded_at: float | None = None

    def language_for(self, language_code: str | None) -> str:
        """The supported language closest to Telegram's ``language_code`` (``ru-RU`` → ``ru``)."""
        if language_code:
            base = language_code.split("-", 1)[0].lower()
            if base in SUPPORTED_LANGUAGES:
                return base
        return self._default_language

    async def _refresh(self) -> None:
        now = self._clock()
        if self._loaded_at is not None and now - self._loaded_at < self._ttl:
            return
        try:
            async with self._sessionmaker() as session:
                self._overrides = await all_text_overrides(session)
        except Exception as exc:  # stale texts beat no answer
            log.warning("texts.refresh_failed", error=type(exc).__name__)
        self._loaded_at = now

    async def get(self, key: str, language: str, **fmt: object) -> str:
        await self._refresh()
        for lang in (language, self._default_language):
            body = self._overrides.get((key, lang)) or DEFAULT_TEXTS.get(key, {}).get(lang)
            if body:
                break
        else:
            body = DEFAULT_TEXTS[key]["en"]
        if fmt:
            try:
                return body.format(**fmt)
            except (KeyError, IndexError, ValueError):
                log.warning("texts.bad_placeholder", key=key, language=language)
        return body
