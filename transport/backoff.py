"""Capped, jittered exponential backoff as a pure function (tests call it directly)."""

from __future__ import annotations

import random


def backoff_s(
    attempt: int, *, base_s: float = 0.5, cap_s: float = 30.0, rng: random.Random | None = None
) -> float:
    """Seconds to wait before retry number `attempt` (0-based): half to all of a capped doubling.

    >>> backoff_s(0, rng=random.Random(1)) <= 0.5
    True
    >>> backoff_s(20, cap_s=30.0, rng=random.Random(1)) <= 30.0
    True
    """
    ceiling = min(cap_s, base_s * (2.0 ** min(attempt, 30)))
    return (rng or random).uniform(ceiling / 2.0, ceiling)
