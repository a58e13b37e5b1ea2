"""Which exceptions come from PostgreSQL, and which of them mean "unavailable, try again later".

One classification for the webhook (503, so Telegram delivers the update again) and the
dispatcher (keep the results until the database is back). SQLAlchemy wraps what asyncpg raises
while a connection is in use (``DBAPIError``), but what asyncpg raises while *opening* one
reaches the caller unwrapped: PostgreSQL refusing the connection ("the database system is
shutting down", too many connections: ``asyncpg.PostgresError``), the client
(``asyncpg.InterfaceError``, ``InternalClientError``) or the socket (``OSError``; a connect
timeout is a ``TimeoutError``).
"""

from __future__ import annotations

import asyncpg
from asyncpg.exceptions import (
    InsufficientResourcesError,
    InternalClientError,
    OperatorInterventionError,
    PostgresConnectionError,
)
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

# Anything the database layer raises: a failed update is retried rather than acknowledged.
DATABASE_ERRORS: tuple[type[BaseException], ...] = (
    DBAPIError,
    PoolTimeoutError,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    InternalClientError,
)

# PostgreSQL unreachable, restarting or out of connections: nothing is wrong with the work.
UNAVAILABLE_ERRORS: tuple[type[BaseException], ...] = (
    OperationalError,
    InterfaceError,
    PoolTimeoutError,
    OperatorInterventionError,  # 57xxx: shutting down, terminated by the administrator
    PostgresConnectionError,
    InsufficientResourcesError,
    asyncpg.InterfaceError,
    InternalClientError,
    OSError,
    TimeoutError,
)


def driver_error(exc: BaseException) -> BaseException | None:
    """asyncpg's own exception behind ``exc``: ``exc`` itself when asyncpg raised it unwrapped,
    else the cause of the error SQLAlchemy wraps (``orig``); None when it is no database error."""
    orig: BaseException | None = getattr(exc, "orig", None)
    if orig is None:
        return exc if isinstance(exc, DATABASE_ERRORS) else None
    return orig.__cause__ if orig.__cause__ is not None else orig


def database_unavailable(exc: BaseException) -> bool:
    """PostgreSQL unreachable, restarting or out of connections, as raised or as wrapped."""
    return isinstance(exc, UNAVAILABLE_ERRORS) or isinstance(driver_error(exc), UNAVAILABLE_ERRORS)
