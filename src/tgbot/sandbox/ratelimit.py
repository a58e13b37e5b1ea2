"""Sliding windows: Telegram's send limits, overall, per chat and per group.

Telegram asks bots to stay under about 30 messages a second overall, one a second in one chat
and 20 a minute in one group; the sandbox enforces each as a sliding window when rate limits
are on.
"""

from __future__ import annotations

import math
from collections import deque

WINDOW = 1.0
GROUP_WINDOW = 60.0


class SlidingWindow:
    """Timestamps of accepted events in the last ``window`` seconds, for one key."""

    def __init__(self, window: float = WINDOW) -> None:
        self.window = window
        self._times: deque[float] = deque()

    def _trim(self, now: float) -> None:
        while self._times and self._times[0] <= now - self.window:
            self._times.popleft()

    def wait_needed(self, now: float, allowed_in_window: float) -> float:
        """Seconds until one more event fits under ``allowed_in_window`` (0: it fits now)."""
        self._trim(now)
        allowed = max(1, math.floor(allowed_in_window))
        if len(self._times) < allowed:
            return 0.0
        return self._times[len(self._times) - allowed] + self.window - now

    def add(self, now: float) -> None:
        self._times.append(now)


def is_group(chat_id: int | str) -> bool:
    """Groups and supergroups have negative ids."""
    return isinstance(chat_id, int) and chat_id < 0


class RateLimiter:
    """Admits a send when the global, the chat's and (for a group) the group's window have room.

    Only admitted sends count, as Telegram counts delivered messages.
    """

    def __init__(self) -> None:
        self._global = SlidingWindow()
        self._chats: dict[int | str, SlidingWindow] = {}
        self._groups: dict[int | str, SlidingWindow] = {}

    def check(
        self,
        chat_id: int | str,
        now: float,
        *,
        global_rate: float,
        per_chat_rate: float,
        group_per_minute: int | None = None,
    ) -> int:
        """0 and the send is counted, or the whole seconds to wait (``retry_after``, >= 1)."""
        chat = self._chats.setdefault(chat_id, SlidingWindow())
        wait = max(self._global.wait_needed(now, global_rate), chat.wait_needed(now, per_chat_rate))
        group: SlidingWindow | None = None
        if group_per_minute is not None and is_group(chat_id):
            group = self._groups.setdefault(chat_id, SlidingWindow(GROUP_WINDOW))
            wait = max(wait, group.wait_needed(now, group_per_minute))
        if wait > 0:
            return max(1, math.ceil(wait))
        self._global.add(now)
        chat.add(now)
        if group is not None:
            group.add(now)
        return 0

    def clear(self) -> None:
        self._global = SlidingWindow()
        self._chats.clear()
        self._groups.clear()
