"""The aligner's grid of seconds: gaps longer than an hour are skipped, however long they are."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from analytics.align import MAX_GAP_S, _grid
from analytics.epochs import EpochBlock


class _Seen:
    """Only the times of a block matter to the grid."""

    def __init__(self, t_s: np.ndarray) -> None:
        self.t_s = t_s


def _every_second(seen: np.ndarray, start: float, until: float) -> np.ndarray:
    """The grid as it was first written: every second, then the insides of long gaps removed."""
    seen = np.unique(seen)
    seen = seen[(seen >= start) & (seen < until)]
    edges = np.concatenate(([start], seen, [until]))
    grid = np.arange(start, until)
    for i in np.flatnonzero(np.diff(edges) > MAX_GAP_S):
        grid = grid[(grid <= edges[i]) | (grid >= edges[i + 1])]
    return grid


@settings(max_examples=300, deadline=None)
@given(
    start=st.integers(0, 100).map(float),
    offsets=st.lists(st.integers(0, 20_000), max_size=8),
    length=st.floats(1.0, 22_000.0),
)
def test_the_grid_is_every_second_outside_long_gaps(
    start: float, offsets: list[int], length: float
) -> None:
    seen = start + np.array(sorted(set(offsets)), dtype=float)
    blocks: list[EpochBlock] = [_Seen(seen)]  # type: ignore[list-item]
    np.testing.assert_array_equal(
        _grid(blocks, start, start + length), _every_second(seen, start, start + length)
    )


def test_a_gap_of_a_century_costs_nothing() -> None:
    seen = np.array([0.0, 1.0, 3e9, 3e9 + 1])
    blocks: list[EpochBlock] = [_Seen(seen)]  # type: ignore[list-item]
    grid = _grid(blocks, 0.0, 3e9 + 2)
    assert grid.tolist() == [0.0, 1.0, 3e9, 3e9 + 1]
