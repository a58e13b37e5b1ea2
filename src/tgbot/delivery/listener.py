"""LISTEN on channel ``outbox``: wakes the dispatcher when rows are added or broadcasts change."""

from __future__ import annotations

import asyncio
import contextlib

import psycopg
import structlog

log = structlog.get_logger(__name__)

CHANNEL = "outbox"


def psycopg_conninfo(url: str) -> str:
    scheme, rest = url.split("://", 1)
    return f"postgresql://{rest}" if scheme.startswith("postgres") else url


async def listen(
    database_url: str,
    wake: asyncio.Event,
    broadcast_changed: asyncio.Event,
    stop: asyncio.Event,
    connect_timeout: float = 5.0,
) -> None:
    """Set ``wake`` on every notification (and ``broadcast_changed`` on broadcast ones).

    Reconnects after errors; the dispatcher's periodic poll covers the gaps.
    """
    while not stop.is_set():
        try:
            async with await psycopg.AsyncConnection.connect(
                psycopg_conninfo(database_url),
                autocommit=True,
                connect_timeout=max(1, int(connect_timeout)),
            ) as conn:
                await conn.execute(f"LISTEN {CHANNEL}")
                log.info("dispatcher.listening", channel=CHANNEL)
                while not stop.is_set():
                    async for note in conn.notifies(timeout=1.0):
                        if note.payload.startswith("broadcast:"):
                            broadcast_changed.set()
                        wake.set()
        except psycopg.Error as exc:
            log.warning("dispatcher.listen_failed", error=type(exc).__name__)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=2.0)
