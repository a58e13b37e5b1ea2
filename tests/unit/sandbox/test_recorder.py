from __future__ import annotations

import gc

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


def test_the_collector_does_not_walk_the_recorded_history() -> None:
    """A long history must not make every full collection (an event-loop pause) longer."""
    rec = Recorder(max_calls=1000)
    for n in range(1000):
        rec.record(
            time=float(n),
            method="sendMessage",
            chat_id=n,
            params={"chat_id": n, "text": "hi", "reply_markup": {"inline_keyboard": [[]]}},
            ok=True,
            error_code=None,
            result={"message_id": n, "chat": {"id": n}},
        )
    gc.collect()
    assert not any(gc.is_tracked(kept) for kept in rec._calls)
    calls = rec.calls()
    assert calls[7].public()["params"]["reply_markup"] == {"inline_keyboard": [[]]}
    assert calls[7].public()["result"] == {"message_id": 7, "chat": {"id": 7}}
    # A value JSON cannot hold is recorded as its text.
    rec.record(time=0, method="x", chat_id=None, params={"f": b"\x00"}, ok=True, error_code=None)
    assert rec.calls()[-1].public()["params"] == {"f": "b'\\x00'"}


def test_calls_filter_by_thread_and_groups_count_per_minute() -> None:
    recorder = Recorder(100)
    for n, thread in enumerate([5, 5, None, 9]):
        recorder.record(
            time=100.0 + n * 20,
            method="sendMessage",
            chat_id=-1001,
            params={},
            ok=True,
            error_code=None,
            thread_id=thread,
        )

    assert [c.seq for c in recorder.calls(thread_id=5)] == [1, 2]
    assert recorder.calls(thread_id=9)[0].public()["message_thread_id"] == 9
    stats = recorder.stats()
    assert stats["max_per_minute"] == {"per_group": 3, "by_group": {"-1001": 3}}
    assert stats["sends_ok_by_group"] == {"-1001": 4}
