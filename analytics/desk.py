"""A sit-stand desk's height: a second signal for sitting vs standing, and time at each height.

The desk reports its height now and then (when it moves, or when asked); between reports it
stays where it was. A height of at least `DeskRules.standing_cm` is standing height, below it
sitting height. With a trunk sensor alone, a still stretch at a known desk height gets
`DeskRules.weight` log-odds for the posture the desk is set for (analytics/hmm.py weighs it
with the rest of the evidence: the wearer may be away from the desk). Each stretch of released
seconds at one height becomes a `desk` event (time at each desk height), with the seconds the
wearer sat in it.
"""

from __future__ import annotations

import bisect
import itertools
import math

import numpy as np
from numpy.typing import NDArray

from .params import DeskRules
from .records import Event, EventKind, Posture, Value
from .timeline import CODE, Timeline

_SITTING = CODE[Posture.SITTING]
MIN_CM, MAX_CM = 30.0, 200.0  # heights outside this are not a desk's


class DeskTrack:
    """One wearer's desk heights over time."""

    def __init__(self, wearer_id: str, rules: DeskRules) -> None:
        self.wearer_id = wearer_id
        self.rules = rules
        self._t: list[float] = []  # report times, sorted
        self._cm: list[float] = []
        self._open: tuple[float, float, float, float] | None = None  # start, end, cm, sat_s

    def report(self, t_s: float, height_cm: float) -> None:
        """The desk is `height_cm` high from `t_s` on; raises ValueError for an impossible one.

        A desk that says its height again (many do every minute) adds nothing to keep."""
        if not (math.isfinite(height_cm) and MIN_CM <= height_cm <= MAX_CM):
            raise ValueError(f"desk height {height_cm} cm is outside {MIN_CM:g}-{MAX_CM:g} cm")
        cm = round(float(height_cm), 1)
        i = bisect.bisect_right(self._t, t_s)
        if i == len(self._t) and i and self._cm[-1] == cm:
            return
        self._t.insert(i, t_s)
        self._cm.insert(i, cm)

    @property
    def known(self) -> bool:
        return bool(self._t)

    def heights(self, t_s: NDArray[np.float64]) -> NDArray[np.float64]:
        """The desk's height at each time (NaN before the first report)."""
        i = np.searchsorted(np.asarray(self._t), t_s, side="right") - 1
        cm = np.asarray([*self._cm, np.nan])
        return np.where(i >= 0, cm[i], np.nan)

    def evidence(self, t_s: NDArray[np.float64]) -> float:
        """Log-odds for standing over sitting from the desk heights during seconds `t_s`."""
        if not self._t or not t_s.size:
            return 0.0
        cm = self.heights(t_s)
        known = np.isfinite(cm)
        if not known.any():
            return 0.0
        level = np.where(cm[known] >= self.rules.standing_cm, 1.0, -1.0)
        return float(self.rules.weight * level.sum() / t_s.size)

    def push(self, timeline: Timeline) -> list[Event]:
        """Desk stretches closed by these released seconds (a new height, or a gap)."""
        events: list[Event] = []
        if not self._t or not len(timeline):
            return events
        cm = self.heights(timeline.t_s)
        sat = timeline.posture == _SITTING
        key = np.where(np.isfinite(cm), cm, -1.0)
        jump = np.diff(timeline.t_s, prepend=timeline.t_s[0] - 1.0) != 1.0
        cut = np.flatnonzero(jump | (np.diff(key, prepend=np.nan) != 0))
        bounds = [*cut.tolist(), len(timeline)]
        for a, b in itertools.pairwise(bounds):
            start, end = float(timeline.t_s[a]), float(timeline.t_s[b - 1]) + 1.0
            height, sat_s = float(key[a]), float(sat[a:b].sum())
            run = self._open
            if run is not None and run[1] == start and run[2] == height:
                self._open = (run[0], end, height, run[3] + sat_s)
                continue
            events += self._close()
            self._open = (start, end, height, sat_s) if height > 0 else None
        # released seconds are never asked about again: keep the report in effect at the last
        done = bisect.bisect_right(self._t, float(timeline.t_s[-1])) - 1
        if done > 0:
            del self._t[:done], self._cm[:done]
        return events

    def flush(self) -> list[Event]:
        """End of data: the stretch still open."""
        return self._close()

    def _close(self) -> list[Event]:
        run, self._open = self._open, None
        if run is None:
            return []
        start, end, height, sat_s = run
        position = "standing" if height >= self.rules.standing_cm else "sitting"
        values: dict[str, Value] = {"height_cm": height, "position": position, "sitting_s": sat_s}
        return [Event(self.wearer_id, EventKind.DESK, start, end, values=values)]
