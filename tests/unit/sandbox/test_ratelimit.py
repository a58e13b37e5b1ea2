from __future__ import annotations

from tgbot.sandbox.ratelimit import RateLimiter


def check(limiter: RateLimiter, chat: int, now: float, *, g: float = 30, c: float = 1) -> int:
    return limiter.check(chat, now, global_rate=g, per_chat_rate=c)


def test_one_message_per_second_per_chat() -> None:
    limiter = RateLimiter()

    assert check(limiter, 1, 100.0) == 0
    assert check(limiter, 1, 100.5) == 1  # retry_after in whole seconds, at least 1
    assert check(limiter, 2, 100.5) == 0  # another chat is not affected
    assert check(limiter, 1, 101.0) == 0  # the window has moved on


def test_global_rate_spans_chats() -> None:
    limiter = RateLimiter()

    assert [check(limiter, chat, 10.0 + chat / 100, g=3) for chat in range(4)] == [0, 0, 0, 1]
    assert check(limiter, 9, 11.0, g=3) == 0


def test_refused_sends_do_not_count() -> None:
    limiter = RateLimiter()
    check(limiter, 1, 0.0)

    for t in (0.1, 0.2, 0.3):
        assert check(limiter, 1, t) == 1
    assert check(limiter, 1, 1.0) == 0


def test_retry_after_rounds_up_the_remaining_wait() -> None:
    limiter = RateLimiter()
    for i in range(5):
        check(limiter, i, 0.0, g=5, c=5)

    assert check(limiter, 9, 0.01, g=5, c=5) == 1
    assert check(limiter, 9, 0.999, g=5, c=5) == 1
