"""Admission of a webhook update: dedup claim and throttle count in one Redis round trip.

A Lua script claims the update id (``SET NX``, see ``services.dedup``) and, only when the claim
is new and the update is a user's message, counts the message in the user's throttle window
(``services.throttle``). The throttle decision travels with the update to
``ThrottlingMiddleware``, which acts on it after the ban check.
"""

from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio import Redis

from tgbot.services.dedup import DONE, IN_FLIGHT, Seen, UpdateDeduplicator
from tgbot.services.redis_guard import RedisGuard
from tgbot.services.throttle import Throttle, ThrottleDecision

# KEYS[1] the update's dedup key, KEYS[2] (optional) the user's throttle window key.
# ARGV[1] in-flight ttl, ARGV[2] throttle window ttl, ARGV[3] the in-flight marker.
# Returns {state, hits}: state is 'new' or the marker found (in-flight or done).
ADMIT = """
if redis.call('SET', KEYS[1], ARGV[3], 'NX', 'EX', ARGV[1]) then
    local hits = 0
    if KEYS[2] then
        hits = redis.call('INCR', KEYS[2])
        if hits == 1 then redis.call('EXPIRE', KEYS[2], ARGV[2]) end
    end
    return {'new', hits}
end
return {redis.call('GET', KEYS[1]), 0}
"""


@dataclass(frozen=True)
class Admission:
    seen: Seen
    throttle: ThrottleDecision | None  # None: not counted here (not a message, or no Redis)


class UpdateAdmission:
    def __init__(self, guard: RedisGuard, dedup: UpdateDeduplicator, throttle: Throttle) -> None:
        self._guard = guard
        self._dedup = dedup
        self._throttle = throttle
        self._script = guard.redis.register_script(ADMIT)

    async def admit(self, update_id: int, *, message_from: int | None) -> Admission:
        """Claim the update; count it against ``message_from``'s throttle window if given."""
        keys = [self._dedup.key(update_id)]
        if message_from is not None:
            keys.append(self._throttle.key(message_from))
        args: list[int | bytes] = [
            self._dedup.in_flight_ttl,
            self._throttle.window_seconds + 1,
            IN_FLIGHT,
        ]

        async def run(redis: Redis) -> Admission:
            state, hits = await self._script(keys=keys, args=args, client=redis)
            if state == b"new":
                decision = self._throttle.decide(int(hits)) if message_from is not None else None
                return Admission(Seen.NEW, decision)
            return Admission(Seen.DONE if state == DONE else Seen.IN_FLIGHT, None)

        admission, _ = await self._guard.run("admit", run, Admission(Seen.UNKNOWN, None))
        return admission
