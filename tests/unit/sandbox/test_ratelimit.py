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


def test_twenty_a_minute_into_one_group() -> None:
    limiter = RateLimiter()
    group, other = -1001, -1002

    def send(chat: int, now: float) -> int:
        return limiter.check(chat, now, global_rate=30, per_chat_rate=1, group_per_minute=20)

    assert [send(group, 3.0 * n) for n in range(20)] == [0] * 20  # t = 0 .. 57
    assert send(group, 58.0) == 2  # the first of the 20 leaves the minute at t = 60
    assert send(other, 58.0) == 0  # another group has its own minute
    assert send(7, 58.5) == 0  # a private chat has none
    assert send(group, 60.0) == 0


def test_without_a_group_limit_groups_have_only_the_per_chat_window() -> None:
    limiter = RateLimiter()

    assert [check(limiter, -1001, float(n)) for n in range(30)] == [0] * 30
