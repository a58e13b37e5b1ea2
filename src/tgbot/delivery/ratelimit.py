"""Rate limits shared by every dispatcher process: GCRA reservations in one Redis Lua script.

Limits (Telegram's published ones):

- global: ``OUTBOX_GLOBAL_RATE`` messages per second across all dispatchers;
- private chats (``chat_id > 0``): 1 message per second each;
- groups (``chat_id < 0``): ``OUTBOX_GROUP_RATE_PER_MINUTE`` messages per minute each (20, as
  Telegram allows; every topic of the staff supergroup counts against its one limit).

A sender *reserves* a slot: the script returns how long to wait for it. The global schedule
advances only when the chat itself is free, so a busy chat never pushes everyone back.
A 429 blocks the chat for ``retry_after``; several 429s from different chats within a second
(any chats) are taken as a global flood wait and block everybody for ``retry_after``.
The global interval carries ``HEADROOM`` (2.5 %: 25 ms of every second) so scheduling and
network jitter do not bunch more than the limit into any one second at the receiving end; the
per-chat intervals, which cost no throughput, carry 10 %.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from redis.asyncio import Redis

HEADROOM = 1.025
CHAT_HEADROOM = 1.10
PRIVATE_CHAT_INTERVAL_S = 1.0
GROUP_RATE_PER_MINUTE = 20
GLOBAL_FLOOD_CHATS = 3  # this many 429s within one second => a global flood wait
KEY_PREFIX = "tgbot:rl:"

# KEYS: global tat, chat tat, global block, chat block, recent-429 counter
# ARGV: global interval us, chat interval us, max wait us
_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local gi = tonumber(ARGV[1])
local ci = tonumber(ARGV[2])
local max_wait = tonumber(ARGV[3])
local g_tat = math.max(tonumber(redis.call('GET', KEYS[1]) or '0'), now)
local c_tat = math.max(tonumber(redis.call('GET', KEYS[2]) or '0'), now)
local g_block = tonumber(redis.call('GET', KEYS[3]) or '0')
local c_block = tonumber(redis.call('GET', KEYS[4]) or '0')
local chat_ready = math.max(c_tat, c_block)
local global_ready = math.max(g_tat, g_block)
if chat_ready > global_ready then
  return {0, chat_ready - now}
end
local start = global_ready
if start - now > max_wait then
  return {0, start - now}
end
redis.call('SET', KEYS[1], start + gi, 'PX', math.ceil((start + gi - now) / 1000) + 1000)
if ci > 0 then
  redis.call('SET', KEYS[2], start + ci, 'PX', math.ceil((start + ci - now) / 1000) + 1000)
end
return {1, start - now}
"""

# KEYS: chat block, global block, recent-429 counter; ARGV: retry_after us, flood chats
_FLOOD = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local until_ = now + tonumber(ARGV[1])
local px = math.ceil(tonumber(ARGV[1]) / 1000) + 1000
local function extend(key)
  local cur = tonumber(redis.call('GET', key) or '0')
  if until_ > cur then redis.call('SET', key, until_, 'PX', px) end
end
extend(KEYS[1])
local n = redis.call('INCR', KEYS[3])
if n == 1 then redis.call('PEXPIRE', KEYS[3], 1000) end
if n >= tonumber(ARGV[2]) then
  extend(KEYS[2])
  return 1
end
return 0
"""


@dataclass(frozen=True)
class Reservation:
    """``granted``: the slot is ours, send after ``delay``; else try again after ``delay``."""

    granted: bool
    delay: float


class Limiter(Protocol):
    async def reserve(self, chat_id: int, max_wait: float) -> Reservation: ...

    async def flood_wait(self, chat_id: int, retry_after: float) -> bool: ...


def chat_interval(chat_id: int, group_rate_per_minute: int = GROUP_RATE_PER_MINUTE) -> float:
    """Seconds between two messages to one chat (before headroom)."""
    return PRIVATE_CHAT_INTERVAL_S if chat_id > 0 else 60.0 / group_rate_per_minute


def global_interval(rate: float) -> float:
    """Seconds between two messages of everybody (with headroom)."""
    return HEADROOM / rate


class RedisLimiter:
    """The shared limiter. One script call per reservation; all state lives in Redis."""

    def __init__(
        self,
        redis: Redis,
        global_rate: float,
        prefix: str = KEY_PREFIX,
        group_rate_per_minute: int = GROUP_RATE_PER_MINUTE,
    ) -> None:
        self._redis = redis
        self._global_us = round(global_interval(global_rate) * 1_000_000)
        self._group_rate = group_rate_per_minute
        self._prefix = prefix
        self._reserve = redis.register_script(_RESERVE)
        self._flood = redis.register_script(_FLOOD)

    async def reserve(self, chat_id: int, max_wait: float) -> Reservation:
        p = self._prefix
        chat_us = round(chat_interval(chat_id, self._group_rate) * CHAT_HEADROOM * 1_000_000)
        granted, wait_us = await self._reserve(
            keys=[f"{p}g:tat", f"{p}c:{chat_id}:tat", f"{p}g:block", f"{p}c:{chat_id}:block"],
            args=[self._global_us, chat_us, round(max_wait * 1_000_000)],
        )
        return Reservation(bool(granted), int(wait_us) / 1_000_000)

    async def flood_wait(self, chat_id: int, retry_after: float) -> bool:
        """Honour a 429 for this chat; returns True when it became a global flood wait."""
        p = self._prefix
        became_global = await self._flood(
            keys=[f"{p}c:{chat_id}:block", f"{p}g:block", f"{p}g:recent429"],
            args=[round(retry_after * 1_000_000), GLOBAL_FLOOD_CHATS],
        )
        return bool(became_global)


class NoLimiter:
    """No limits at all (``OUTBOX_RATE_LIMITS_ENABLED=false``; benchmarks only)."""

    async def reserve(self, chat_id: int, max_wait: float) -> Reservation:
        return Reservation(True, 0.0)

    async def flood_wait(self, chat_id: int, retry_after: float) -> bool:
        return False
