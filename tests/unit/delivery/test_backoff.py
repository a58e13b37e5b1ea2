"""Retry delays: exponential, capped, jittered, never immediate."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tgbot.delivery.backoff import backoff_delay


class _Fixed(random.Random):
    def __init__(self, value: float) -> None:
        super().__init__()
        self.value = value

    def random(self) -> float:
        return self.value


def test_the_ceiling_doubles_per_attempt() -> None:
    top = [backoff_delay(a, base=1.0, cap=300.0, rng=_Fixed(1.0)) for a in range(1, 6)]
    assert top == [1.0, 2.0, 4.0, 8.0, 16.0]


def test_the_jitter_spans_the_upper_half() -> None:
    assert backoff_delay(3, base=1.0, cap=300.0, rng=_Fixed(0.0)) == 2.0
    assert backoff_delay(3, base=1.0, cap=300.0, rng=_Fixed(0.5)) == 3.0


def test_the_cap_holds_for_huge_attempt_numbers() -> None:
    assert backoff_delay(10_000, base=1.0, cap=300.0, rng=_Fixed(1.0)) == 300.0


def test_attempts_start_at_one() -> None:
    with pytest.raises(ValueError, match="attempt"):
        backoff_delay(0, base=1.0, cap=10.0)


@given(
    attempt=st.integers(min_value=1, max_value=200),
    base=st.floats(min_value=0.01, max_value=10),
    cap=st.floats(min_value=10, max_value=3600),
)
def test_delay_is_within_half_ceiling_and_ceiling(attempt: int, base: float, cap: float) -> None:
    ceiling = min(cap, base * 2.0 ** (attempt - 1))
    delay = backoff_delay(attempt, base=base, cap=cap)
    assert ceiling / 2 <= delay <= ceiling
