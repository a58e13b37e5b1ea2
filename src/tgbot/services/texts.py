"""Bot texts: admin overrides from the database over built-in defaults, with language fallback.

Overrides are cached in-process for ``TEXTS_CACHE_SECONDS`` so an edit in the admin reaches
every replica within seconds without a query per message. Only the first read waits for the
database; after that a stale cache is answered from at once while one background task reloads
it, so a handler holding a pooled connection never waits for another one to read texts.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable

import structlog
from sqlalchemy.ext.asyncio import AsyncEngine

from tgbot import text_templates
from tgbot.db.queries.texts import all_text_overrides
from tgbot.texts_defaults import DEFAULT_TEXTS, SUPPORTED_LANGUAGES

log = structlog.get_logger(__name__)


class TextService:
    def __init__(
        self,
        engine: AsyncEngine,
        *,
        default_language: str,
        ttl_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._engine = engine
        self._default_language = default_language
        self._ttl = ttl_seconds
        self._clock = clock
        self._overrides: dict[tuple[str, str], str] = {}
        self._loaded_at: float | None = None
        self._first_load = asyncio.Lock()
        self._reloading: asyncio.Task[None] | None = None

    def language_for(self, language_code: str | None) -> str:
        """The supported language closest to Telegram's ``language_code`` (``ru-RU`` → ``ru``)."""
        if language_code:
            base = language_code.split("-", 1)[0].lower()
            if base in SUPPORTED_LANGUAGES:
                return base
        return self._default_language

    async def _load(self) -> None:
        try:
            async with self._engine.connect() as conn:
                self._overrides = await all_text_overrides(conn)
        except Exception as exc:  # stale texts beat no answer
            log.warning("texts.refresh_failed", error=type(exc).__name__)
        self._loaded_at = self._clock()

    async def _refresh(self) -> None:
        if self._loaded_at is None:
            async with self._first_load:  # concurrent first readers share one query
                if self._loaded_at is None:
                    await self._load()
            return
        stale = self._clock() - self._loaded_at >= self._ttl
        if stale and (self._reloading is None or self._reloading.done()):
            self._reloading = asyncio.create_task(self._load(), name="texts-reload")

    async def load(self) -> None:
        """Load the texts before the first update, so that no update waits for the first load
        (a burst right after start used to stall on it)."""
        if self._loaded_at is None:
            await self._refresh()

    async def aclose(self) -> None:
        if self._reloading is not None and not self._reloading.done():
            self._reloading.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reloading

    async def get(self, key: str, language: str, **fmt: object) -> str:
        """The text ``key`` in ``language`` (or the default language), placeholders filled.

        An override that is not a safe template (``tgbot.text_templates``) gives way to the
        built-in text: the panel refuses such texts, but a row may have been written elsewhere.
        """
        await self._refresh()
        for lang in (language, self._default_language):
            override = self._overrides.get((key, lang))
            if override:
                rendered = text_templates.render(key, override, **fmt)
                if rendered is not None:
                    return rendered
                log.warning("texts.unsafe_override", key=key, language=lang)
            default = DEFAULT_TEXTS.get(key, {}).get(lang)
            if default:
                return text_templates.render(key, default, **fmt) or default
        return DEFAULT_TEXTS[key][SUPPORTED_LANGUAGES[0]]
