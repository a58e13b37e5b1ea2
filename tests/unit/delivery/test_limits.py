"""Limiter intervals and the send-rate meter."""

from __future__ import annotations

import pytest

from tgbot.delivery.metrics import RateMeter
from tgbot.delivery.ratelimit import HEADROOM, chat_interval, global_interval


def test_private_chats_get_one_message_per_second_groups_twenty_per_minute() -> None:
    assert chat_interval(12345) == 1.0
    assert chat_interval(-100123) == 3.0


@pytest.mark.parametrize("rate", [1, 30, 1000])
def test_global_interval_keeps_the_rate_just_under_the_limit(rate: int) -> None:
    achieved = 1 / global_interval(rate)
    assert achieved < rate
    assert achieved >= rate * 0.97  # within the ±3 % a broadcast must hit
    assert global_interval(rate) == pytest.approx(HEADROOM / rate)


def test_rate_meter_averages_complete_seconds_of_the_window() -> None:
    meter = RateMeter(window=10)
    for second in range(100, 110):
        meter.add(30, now=second + 0.5)
    assert meter.rate(now=110.1) == pytest.approx(30.0)


def test_rate_meter_forgets_old_seconds() -> None:
    meter = RateMeter(window=10)
    meter.add(100, now=100.0)
    assert meter.rate(now=101.0) == pytest.approx(10.0)
    assert meter.rate(now=200.0) == 0.0


def test_the_group_limit_is_a_setting() -> None:
    assert chat_interval(-100123, 300) == 0.2
    assert chat_interval(12345, 300) == 1.0  # private chats keep Telegram's one a second
