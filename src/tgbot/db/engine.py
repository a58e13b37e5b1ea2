"""The one async engine (asyncpg) of a bot process: the batched commits of updates, texts,
readiness, and the outbox dispatcher's claims and results (standalone or inside serve)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from tgbot.config import DatabaseSettings


def create_engine(settings: DatabaseSettings) -> AsyncEngine:
    return create_async_engine(
        settings.sqlalchemy_url,
        pool_size=settings.database_pool_size,
        max_overflow=0,  # overflow connections are closed on return: churn under steady load
        pool_pre_ping=settings.database_pool_pre_ping,
        pool_recycle=settings.database_pool_recycle_seconds,
        pool_timeout=settings.database_connect_timeout,
        connect_args=settings.sqlalchemy_connect_args,
    )
