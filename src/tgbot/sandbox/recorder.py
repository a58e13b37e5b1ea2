"""Every Bot API call the bot made, in order, and figures over them.

A record is kept as a plain tuple of atoms, its parameters and result as JSON text: the garbage
collector stops tracking such tuples (not a NamedTuple's) and never walks strings, so a sandbox
holding 100,000 calls does not pause its event loop for a full collection over them (tens to
hundreds of milliseconds, which the bot under test would see as latency).
"""

from __future__ import annotations

import itertools
import json
from collections import Counter, deque
from collections.abc import Iterable
from typing import Any, NamedTuple

from tgbot.sandbox.ratelimit import GROUP_WINDOW, WINDOW, is_group

SENDING_METHODS = frozenset(
    {
        "sendmessage",
        "copymessage",
        "forwardmessage",
        "sendphoto",
        "senddocument",
        "sendvideo",
        "sendanimation",
        "sendvoice",
        "sendaudio",
        "sendsticker",
        "sendvideonote",
        # These post a service message into the group (topic created, edited, closed, reopened).
        "createforumtopic",
        "editforumtopic",
        "closeforumtopic",
        "reopenforumtopic",
    }
)


def is_sending(method: str) -> bool:
    """Methods that put a message into a chat: the only ones rate limits count."""
    return method.lower() in SENDING_METHODS


class CallRecord(NamedTuple):
    seq: int
    time: float
    method: str
    chat_id: int | str | None
    params_json: str
    ok: bool
    error_code: int | None
    result_json: str = "null"
    thread_id: int | None = None

    def public(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "time": self.time,
            "method": self.method,
            "chat_id": self.chat_id,
            "message_thread_id": self.thread_id,
            "params": json.loads(self.params_json),
            "ok": self.ok,
            "error_code": self.error_code,
            "result": json.loads(self.result_json),
        }


def max_in_window(times: Iterable[float], window: float = WINDOW) -> int:
    """The most events inside any half-open interval of ``window`` seconds."""
    ordered = sorted(times)
    best = 0
    start = 0
    for end, t in enumerate(ordered):
        while ordered[start] <= t - window:
            start += 1
        best = max(best, end - start + 1)
    return best


class Recorder:
    def __init__(self, max_calls: int) -> None:
        self._calls: deque[tuple[Any, ...]] = deque(maxlen=max_calls)  # CallRecord's fields
        self._seq = itertools.count(1)

    def record(
        self,
        *,
        time: float,
        method: str,
        chat_id: int | str | None,
        params: dict[str, Any],
        ok: bool,
        error_code: int | None,
        result: Any = None,
        thread_id: int | None = None,
    ) -> CallRecord:
        call = CallRecord(
            next(self._seq),
            time,
            method,
            chat_id,
            json.dumps(params, default=str),  # a value JSON cannot hold is kept as its str()
            ok,
            error_code,
            json.dumps(result, default=str),
            thread_id,
        )
        self._calls.append(tuple(call))
        return call

    def clear(self) -> None:
        """Drop the calls; ``seq`` keeps growing so ``after=`` cursors stay valid."""
        self._calls.clear()

    def calls(
        self,
        *,
        chat_id: int | str | None = None,
        method: str | None = None,
        after: int = 0,
        thread_id: int | None = None,
    ) -> list[CallRecord]:
        return [
            c
            for c in map(CallRecord._make, self._calls)
            if c.seq > after
            and (chat_id is None or str(c.chat_id) == str(chat_id))
            and (method is None or c.method.lower() == method.lower())
            and (thread_id is None or c.thread_id == thread_id)
        ]

    def stats(self) -> dict[str, Any]:
        calls = self.calls()
        errors = Counter(str(c.error_code) for c in calls if not c.ok)
        sends = [c for c in calls if is_sending(c.method)]
        accepted = [c for c in sends if c.ok]
        by_chat: dict[str, list[float]] = {}
        for c in accepted:
            by_chat.setdefault(str(c.chat_id), []).append(c.time)
        per_chat = {chat: max_in_window(times) for chat, times in by_chat.items()}
        per_group = {
            str(chat): max_in_window(times, GROUP_WINDOW)
            for chat, times in by_chat.items()
            if is_group(_as_int(chat))
        }
        sends_by_group = {chat: len(times) for chat, times in by_chat.items() if chat in per_group}
        return {
            "calls": len(calls),
            "ok": sum(1 for c in calls if c.ok),
            "errors": dict(errors),
            "rate_limited": errors.get("429", 0),
            "sends": len(sends),
            "sends_ok": len(accepted),
            "max_per_second": {
                "overall": max_in_window(c.time for c in accepted),
                "per_chat": max(per_chat.values(), default=0),
                "by_chat": per_chat,
            },
            "max_attempts_per_second": max_in_window(c.time for c in sends),
            "max_per_minute": {
                "per_group": max(per_group.values(), default=0),
                "by_group": per_group,
            },
            "sends_ok_by_group": sends_by_group,
        }


def _as_int(chat: str) -> int | str:
    try:
        return int(chat)
    except ValueError:
        return chat
