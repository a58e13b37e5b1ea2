from __future__ import annotations

from tgbot.sandbox.recorder import Recorder, max_in_window


def test_max_in_window_uses_a_sliding_second() -> None:
    assert max_in_window([]) == 0
    assert max_in_window([0.0, 0.5, 0.99, 1.0, 1.5]) == 3
    assert max_in_window([3.0, 1.0, 2.0]) == 1


def record(rec: Recorder, t: float, method: str, chat: int, code: int | None = None) -> None:
    rec.record(time=t, method=method, chat_id=chat, params={}, ok=code is None, error_code=code)


def test_calls_filter_and_stats() -> None:
    rec = Recorder(max_calls=100)
    record(rec, 0.0, "sendMessage", 1)
    record(rec, 0.1, "sendMessage", 1)
    record(rec, 0.2, "sendMessage", 2, 429)
    record(rec, 0.3, "getMe", 0)
    record(rec, 5.0, "copyMessage", 2)

    assert [c.seq for c in rec.calls(chat_id=1)] == [1, 2]
    assert [c.seq for c in rec.calls(method="SENDMESSAGE", after=1)] == [2, 3]
    stats = rec.stats()
    assert stats["calls"] == 5
    assert stats["errors"] == {"429": 1}
    assert stats["rate_limited"] == 1
    assert stats["sends"] == 4
    assert stats["max_per_second"] == {"overall": 2, "per_chat": 2, "by_chat": {"1": 2, "2": 1}}
    assert stats["max_attempts_per_second"] == 3


def test_clear_keeps_sequence_numbers_growing() -> None:
    rec = Recorder(max_calls=2)
    for i in range(3):
        record(rec, float(i), "getMe", 0)

    assert [c.seq for c in rec.calls()] == [2, 3]  # bounded memory, oldest dropped
    rec.clear()
    record(rec, 9.0, "getMe", 0)
    assert [c.seq for c in rec.calls()] == [4]
