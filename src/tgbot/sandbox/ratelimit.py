"""Sliding one-second windows: Telegram's send limits, overall and per chat."""

from __future__ import annotations

import math
from collections import deque

WINDOW = 1.0


class SlidingWindow:
    """Timestamps of accepted events in the last second, for one key."""

    def __init__(self) -> None:
        self._times: deque[float] = deque()

    def _trim(self, now: float) -> None:
        while self._times and self._times[0] <= now - WINDOW:
            self._times.popleft()

    def wait_needed(self, now: float, rate: float) -> float:
        """Seconds until one more event fits under ``rate`` per second (0: it fits now)."""
        self._trim(now)
        allowed = max(1, math.floor(rate))
        if len(self._times) < allowed:
            return 0.0
        return self._times[len(self._times) - allowed] + WINDOW - now

    def add(self, now: float) -> None:
        self._times.append(now)


class RateLimiter:
    """Admits a send when both the global and the chat's window have room.

    Only admitted sends count, as Telegram counts delivered messages.
    """

    def __init__(self) -> None:
        self._global = SlidingWindow()
        self._chats: dict[int | str, SlidingWindow] = {}

    def check(
        self, chat_id: int | str, now: float, *, global_rate: float, per_chat_rate: float
    ) -> int:
        """0 and the send is counted, or the whole seconds to wait (``retry_after``, >= 1)."""
        chat = self._chats.setdefault(chat_id, SlidingWindow())
        wait = max(self._global.wait_needed(now, global_rate), chat.wait_needed(now, per_chat_rate))
        if wait > 0:
            return max(1, math.ceil(wait))
        self._global.add(now)
        chat.add(now)
        return 0

    def clear(self) -> None:
        self._global = SlidingWindow()
        self._chats.clear()
