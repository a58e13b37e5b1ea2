"""FSM storage in Redis that degrades to "no state" instead of failing the update."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, DefaultKeyBuilder, StateType, StorageKey
from aiogram.fsm.storage.redis import RedisStorage

from tgbot.services.redis_guard import RedisGuard


class FailOpenRedisStorage(BaseStorage):
    def __init__(self, guard: RedisGuard, *, state_ttl: int = 86_400) -> None:
        self._guard = guard
        self._storage = RedisStorage(
            guard.redis,
            key_builder=DefaultKeyBuilder(with_bot_id=True),
            state_ttl=state_ttl,
            data_ttl=state_ttl,
        )

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        await self._guard.run("fsm.set_state", lambda _: self._storage.set_state(key, state), None)

    async def get_state(self, key: StorageKey) -> str | None:
        result, _ = await self._guard.run(
            "fsm.get_state", lambda _: self._storage.get_state(key), None
        )
        return result.state if isinstance(result, State) else result

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        await self._guard.run("fsm.set_data", lambda _: self._storage.set_data(key, data), None)

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        empty: dict[str, Any] = {}
        result, _ = await self._guard.run(
            "fsm.get_data", lambda _: self._storage.get_data(key), empty
        )
        return result

    async def close(self) -> None:
        """The Redis client is owned and closed by the application, not by the storage."""
