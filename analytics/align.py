"""Aligns the epochs of a wearer's sensors on one dense one-second grid.

Seconds that a sensor did not deliver become rows with `fill == 0` and NaN features, so every
later stage sees each second exactly once, gaps included. The result depends only on the sample
times, not on how batches of the different sensors interleave, as long as each sensor's samples
arrive in order and no sensor runs more than `max_wait_s` ahead of another.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import fields

import numpy as np

from .epochs import EpochBlock, Epocher
from .records import Placement

MAX_GAP_S = 3600.0  # longer gaps in every sensor are skipped, not filled second by second


def _grid(
    blocks: Iterable[EpochBlock],
    start: float,
    until: float,
    *,
    last_s: float | None = None,
    next_s: float | None = None,
) -> np.ndarray:
    """Every second in [start, until), except the inside of gaps longer than MAX_GAP_S.

    `last_s` and `next_s`, if known, are the seconds with data just before `start` and at or
    after `until`: a gap reaching across either edge is judged by its whole length.
    """
    seen = np.unique(np.concatenate([b.t_s for b in blocks]))
    seen = seen[(seen >= start) & (seen < until)]
    lo = start if last_s is None else min(last_s, start)
    hi = until if next_s is None else max(next_s, until)
    edges = np.concatenate(([lo], seen, [hi]))
    wide = np.flatnonzero(np.diff(edges) > MAX_GAP_S)
    # the stretches between the long gaps, each built on its own (a gap of years costs nothing)
    firsts = np.concatenate(([0.0], np.ceil(edges[wide + 1] - start)))
    lasts = np.concatenate((np.floor(edges[wide] - start), [np.ceil(until - start) - 1.0]))
    parts = [start + np.arange(a, b + 1.0) for a, b in zip(firsts, lasts, strict=True) if b >= a]
    return np.concatenate(parts) if parts else np.zeros(0)


def _dense(block: EpochBlock, grid: np.ndarray) -> EpochBlock:
    """`block` spread onto the seconds of `grid` (NaN features where the sensor had nothing)."""
    if block.t_s.shape == grid.shape and np.array_equal(block.t_s, grid):
        return block
    rows = np.searchsorted(grid, block.t_s)
    inside = rows < grid.size
    inside[inside] = grid[rows[inside]] == block.t_s[inside]
    rows = rows[inside]

    def spread(name: str) -> np.ndarray:
        values = getattr(block, name)
        out = np.full((grid.size, *values.shape[1:]), 0.0 if name == "fill" else np.nan)
        out[rows] = values[inside]
        return out

    columns = {f.name: spread(f.name) for f in fields(EpochBlock) if f.name != "t_s"}
    return EpochBlock(t_s=grid.astype(np.float64), **columns)


class Aligner:
    """Takes the sensors' epochs once every sensor has reported up to the same second."""

    def __init__(
        self, epochers: Mapping[Placement, Epocher], *, max_wait_s: float = 60.0, step_s: int = 1
    ) -> None:
        if not epochers:
            raise ValueError("a wearer needs at least one sensor placement")
        self._epochers = dict(epochers)
        self._next = -np.inf  # first second not yet released
        self._last_seen: float | None = None  # the last released second with data
        self.max_wait_s = max_wait_s
        self.step_s = step_s  # release whole steps of this many seconds (less work per second)

    @property
    def placements(self) -> tuple[Placement, ...]:
        return tuple(self._epochers)

    def advance(self) -> dict[Placement, EpochBlock]:
        """The aligned seconds that are complete now (empty if none)."""
        filling = [e.filling_s for e in self._epochers.values()]
        leader, laggard = max(filling), min(filling)  # the seconds being filled
        until = max(laggard, leader - self.max_wait_s)
        until = float(np.floor(until / self.step_s) * self.step_s)
        return self._release(until)

    def flush(self) -> dict[Placement, EpochBlock]:
        """Release everything held."""
        return self._release(max(e.filling_s for e in self._epochers.values()) + 1.0)

    def _release(self, until: float) -> dict[Placement, EpochBlock]:
        if not np.isfinite(until) or until <= self._next:
            return {}
        if not np.isfinite(self._next):
            first = min(e.first_s for e in self._epochers.values())
            if not np.isfinite(first) or until <= first:
                return {}
            self._next = first
        start, self._next = self._next, until
        blocks = {p: e.take(until) for p, e in self._epochers.items()}
        # every sensor still holds data (none was left behind by max_wait_s): the first of it
        # is the next second with data, so a gap reaching past `until` is judged whole
        held = [e.first_s for e in self._epochers.values()]
        next_s = min(held) if np.isfinite(held).all() else None
        grid = _grid(blocks.values(), start, until, last_s=self._last_seen, next_s=next_s)
        seen = [float(b.t_s[-1]) for b in blocks.values() if len(b)]
        if seen:
            self._last_seen = max(seen)
        return {p: _dense(b, grid) for p, b in blocks.items()}
