"""Every Bot API call the bot made, in order, and figures over them."""

from __future__ import annotations

import itertools
from collections import Counter, deque
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from tgbot.sandbox.ratelimit import WINDOW

SENDING_METHODS = frozenset(
    {"sendmessage", "copymessage", "forwardmessage", "sendphoto", "senddocument"}
)


def is_sending(method: str) -> bool:
    """Methods that send a message: the only ones rate limits count."""
    return method.lower() in SENDING_METHODS


@dataclass(frozen=True)
class CallRecord:
    seq: int
    time: float
    method: str
    chat_id: int | str | None
    params: dict[str, Any]
    ok: bool
    error_code: int | None
    result: Any = None

    def public(self) -> dict[str, Any]:
        return asdict(self)


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
        self._calls: deque[CallRecord] = deque(maxlen=max_calls)
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
    ) -> CallRecord:
        call = CallRecord(next(self._seq), time, method, chat_id, params, ok, error_code, result)
        self._calls.append(call)
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
    ) -> list[CallRecord]:
        return [
            c
            for c in self._calls
            if c.seq > after
            and (chat_id is None or str(c.chat_id) == str(chat_id))
            and (method is None or c.method.lower() == method.lower())
        ]

    def stats(self) -> dict[str, Any]:
        calls = list(self._calls)
        errors = Counter(str(c.error_code) for c in calls if not c.ok)
        sends = [c for c in calls if is_sending(c.method)]
        accepted = [c for c in sends if c.ok]
        by_chat: dict[str, list[float]] = {}
        for c in accepted:
            by_chat.setdefault(str(c.chat_id), []).append(c.time)
        per_chat = {chat: max_in_window(times) for chat, times in by_chat.items()}
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
        }
