"""The statements every update makes, run on asyncpg's own connection under SQLAlchemy's pool.

SQLAlchemy's async layer costs a fraction of a millisecond of CPU per statement (a greenlet
switch, the cursor adaptation, result rows); on the path of every update that is a fifth of
what handling it costs. The same pool and the same SQL text serve both ways: a ``text()``
statement is compiled once for asyncpg's ``$n`` placeholders.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from sqlalchemy import TextClause
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
from sqlalchemy.ext.asyncio import AsyncEngine

from tgbot.db.errors import database_unavailable


class DriverStatement:
    """A ``text()`` statement as asyncpg runs it: ``sql`` and its arguments from the same names."""

    def __init__(self, statement: TextClause) -> None:
        compiled = statement.compile(dialect=asyncpg_dialect())  # type: ignore[no-untyped-call]
        self.sql = str(compiled)
        self._names = list(compiled.positiontup or [])

    def arguments(self, parameters: Mapping[str, Any]) -> list[Any]:
        return [parameters[name] for name in self._names]

    async def fetch(
        self, connection: asyncpg.Connection, parameters: Mapping[str, Any]
    ) -> list[asyncpg.Record]:
        return await connection.fetch(self.sql, *self.arguments(parameters))


@asynccontextmanager
async def driver_connection(engine: AsyncEngine) -> AsyncIterator[asyncpg.Connection]:
    """A pooled connection's asyncpg connection, outside any transaction (each statement
    commits on its own). A connection that failed because the server went away is dropped
    from the pool rather than handed to the next caller."""
    async with engine.connect() as conn:
        raw = await conn.get_raw_connection()
        driver: asyncpg.Connection = raw.driver_connection  # type: ignore[assignment]
        try:
            yield driver
        except BaseException as exc:
            if database_unavailable(exc):
                await conn.invalidate()
            raise
