"""The trunk's movement pieces (analytics/segments.py) on short buffers, as the gateway's
analytics thread hands them over at a sensor's start or after a gap."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from analytics.params import TrunkRules
from analytics.segments import _lasted

RULES = TrunkRules()


def lasted_by_definition(burst: list[bool], breaks: list[bool], run: int) -> list[bool]:
    """Second k counts if seconds k-run .. k-1 are all burst and no break lies in k-run+1 .. k."""
    return [
        k >= run and all(burst[k - run : k]) and not any(breaks[k - run + 1 : k + 1])
        for k in range(len(burst))
    ]


@given(st.lists(st.tuples(st.booleans(), st.booleans()), max_size=3 * RULES.event_max_s))
def test_lasted_follows_its_definition_at_every_length(seconds: list[tuple[bool, bool]]) -> None:
    # buffers shorter than event_max_s // 2 once raised a broadcasting error in the analytics
    # thread (a negative slice end wrapped around)
    burst = [b for b, _ in seconds]
    breaks = [b for _, b in seconds]
    got = _lasted(np.array(burst, dtype=bool), np.array(breaks, dtype=bool), RULES)
    assert got.tolist() == lasted_by_definition(burst, breaks, RULES.event_max_s // 2)
