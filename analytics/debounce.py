"""Minimum bout durations: a run of a posture shorter than its minimum takes the posture before it.

The last run of what has arrived may still grow, so it is held back until it is long enough to
stand or something else follows it. Seconds are released in order and never change afterwards.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from .arrays import runs
from .records import Posture
from .timeline import CODE, Timeline


class Debouncer:
    """Applies minimum bout durations to a stream of classified seconds."""

    def __init__(self, min_bout_s: Mapping[Posture, int]) -> None:
        self._min = np.zeros(len(CODE), dtype=np.int64)
        for posture, seconds in min_bout_s.items():
            self._min[CODE[posture]] = seconds
        self._held = Timeline.empty()
        self._previous: int | None = None  # posture code of the last released second
        self._last_t = np.nan  # time of the last released second

    def push(self, timeline: Timeline) -> Timeline:
        return self._run(Timeline.concat([self._held, timeline]), final=False)

    def flush(self) -> Timeline:
        return self._run(self._held, final=True)

    def _run(self, timeline: Timeline, *, final: bool) -> Timeline:
        if not len(timeline):
            return timeline
        posture = timeline.posture.copy()
        # a time jump (skipped gap) also ends a run
        jump = np.diff(timeline.t_s, prepend=self._last_t) != 1.0
        key = posture.astype(np.int64) + np.cumsum(jump) * len(CODE)
        starts, lengths, _ = runs(key)
        release = len(timeline)
        for i, (start, length) in enumerate(zip(starts.tolist(), lengths.tolist(), strict=True)):
            code = int(posture[start])
            last = i == len(starts) - 1
            if last and not final and length < self._min[code]:
                release = start  # may still grow into a real bout
                break
            if length < self._min[code] and self._previous is not None and not jump[start]:
                posture[start : start + length] = self._previous
            else:
                self._previous = code
        self._held = timeline.take(slice(release, None))
        if release:
            self._last_t = float(timeline.t_s[release - 1])
        return timeline.take(slice(0, release)).replace(posture=posture[:release])
