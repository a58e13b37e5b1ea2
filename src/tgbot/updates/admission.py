"""Admission of a webhook update: dedup claim and throttle count in one Redis round trip.

A Lua script, run once for all the updates that arrive together (``updates.batching``), claims
each update id (``SET NX``, see ``updates.dedup``) and, only when the claim
is new and the update is a user's message, counts the message in the user's throttle window
(``updates.throttle``). The throttle decision travels with the update to
``ThrottlingMiddleware``, which acts on it after the ban check.
"""

from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio import Redis

from tgbot.services.redis_guard import RedisGuard
from tgbot.updates.batching import Batcher
from tgbot.updates.dedup import DONE, IN_FLIGHT, Seen, UpdateDeduplicator
from tgbot.updates.throttle import Throttle, ThrottleDecision

# For each update i: KEYS[2i-1] its dedup key, KEYS[2i] its user's throttle window key,
# ARGV[3+i] '1' when the update is a message to count in that window.
# ARGV[1] in-flight ttl, ARGV[2] throttle window ttl, ARGV[3] the in-flight marker.
# Returns, per update, {state, hits}: state is 'new' or the marker found (in-flight or done).
ADMIT = """
local admitted = {}
for i = 1, #KEYS / 2 do
    local dedup_key, throttle_key = KEYS[2 * i - 1], KEYS[2 * i]
    if redis.call('SET', dedup_key, ARGV[3], 'NX', 'EX', ARGV[1]) then
        local hits = 0
        if ARGV[3 + i] == '1' then
            hits = redis.call('INCR', throttle_key)
            if hits == 1 then redis.call('EXPIRE', throttle_key, ARGV[2]) end
        end
        admitted[i] = {'new', hits}
    else
        admitted[i] = {redis.call('GET', dedup_key), 0}
    end
end
return admitted
"""


@dataclass(frozen=True)
class Admission:
    seen: Seen
    throttle: ThrottleDecision | None  # None: not counted here (not a message, or no Redis)


UNKNOWN = Admission(Seen.UNKNOWN, None)


class UpdateAdmission:
    """Admits updates in batches: the updates arriving together share one Redis round trip."""

    def __init__(self, guard: RedisGuard, dedup: UpdateDeduplicator, throttle: Throttle) -> None:
        self._guard = guard
        self._dedup = dedup
        self._throttle = throttle
        self._script = guard.redis.register_script(ADMIT)
        self._batcher: Batcher[tuple[int, int | None], Admission] = Batcher(
            self._admit_batch, name="admit"
        )

    async def admit(self, update_id: int, *, message_from: int | None) -> Admission:
        """Claim the update; count it against ``message_from``'s throttle window if given."""
        return await self._batcher.submit((update_id, message_from))

    async def _admit_batch(self, updates: list[tuple[int, int | None]]) -> list[Admission]:
        keys: list[str] = []
        counted: list[bytes] = []
        for update_id, message_from in updates:
            keys += [self._dedup.key(update_id), self._throttle.key(message_from or 0)]
            counted.append(b"1" if message_from is not None else b"0")
        args: list[int | bytes] = [
            self._dedup.in_flight_ttl,
            self._throttle.window_seconds + 1,
            IN_FLIGHT,
            *counted,
        ]

        async def run(redis: Redis) -> list[Admission]:
            replies = await self._script(keys=keys, args=args, client=redis)
            admitted = []
            for (_, message_from), (state, hits) in zip(updates, replies, strict=True):
                if state != b"new":
                    admitted.append(Admission(Seen.DONE if state == DONE else Seen.IN_FLIGHT, None))
                elif message_from is None:
                    admitted.append(Admission(Seen.NEW, None))
                else:
                    admitted.append(Admission(Seen.NEW, self._throttle.decide(int(hits))))
            return admitted

        admitted, _ = await self._guard.run("admit", run, [UNKNOWN] * len(updates))
        return admitted
