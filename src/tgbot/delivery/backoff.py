"""Retry delays: exponential backoff with "equal jitter" (half fixed, half random)."""

from __future__ import annotations

import random


def backoff_delay(
    attempt: int, *, base: float, cap: float, rng: random.Random | None = None
) -> float:
    """Seconds to wait before retry number ``attempt`` (1 = the first retry).

    The ceiling doubles per attempt (``base * 2**(attempt-1)``, at most ``cap``) and the delay
    is drawn uniformly from ``[ceiling/2, ceiling]``: never immediate, never synchronised.
    """
    if attempt < 1:
        raise ValueError("attempt starts at 1")
    ceiling: float = min(cap, base * 2.0 ** min(attempt - 1, 62))
    draw: float = (rng or random).random()
    return ceiling / 2 + draw * ceiling / 2
