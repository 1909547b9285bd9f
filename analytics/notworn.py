"""Not-worn detection: long perfect stillness, back-dated to when the stillness began.

A still run is a sequence of consecutive still seconds whose gravity direction stays within
`still_range_g` on at least two axes. Seconds of a run are held back until the run either ends
(they are released unchanged) or lasts `not_worn_min_s` (they are released as `not_worn`, and so
is the rest of the run as it arrives). A sensor left on a desk therefore never counts as sitting.

A body breathes: on the trunk, breathing (and the heartbeat) tilt the sensor a little every few
seconds, so a person lying still moves the per-second mean gravity from one second to the next
by more than the samples' own scatter explains, and a sensor on a table does not. When the trunk
is the deciding sensor, a run whose change of mean gravity over 1, 2 or 3 s (a breath takes
2-10 s) has more than `breathing_ratio` times the variance the sampling noise explains is worn
(lying or sitting still), however long it lasts. A thigh sensor sees no breathing: stillness
alone decides there.
"""

from __future__ import annotations

import numpy as np

from .arrays import runs
from .params import Thresholds
from .records import Posture
from .timeline import CODE, Timeline

_NOT_WORN = CODE[Posture.NOT_WORN]
LAGS = 3  # breathing is looked for in changes over 1 to LAGS seconds


class NotWornDetector:
    """Holds still runs until they are long enough to be not-worn or end."""

    def __init__(self, thresholds: Thresholds, *, breathing: bool = False) -> None:
        """`breathing`: the deciding sensor is on the trunk, where breathing shows."""
        self.min_s = thresholds.not_worn_min_s
        self.range_g = thresholds.still_range_g
        self.breathing_ratio = thresholds.breathing_ratio if breathing else np.inf
        self._worn = False  # the current run breathes: it is worn, released as it comes
        self._held: list[Timeline] = []
        self._held_s = 0
        self._lo = np.full(3, np.inf)
        self._hi = np.full(3, -np.inf)
        self._next_t = np.nan  # second that would continue the run
        self._off = False  # the current run is already confirmed not-worn

    def push(self, timeline: Timeline) -> Timeline:
        out: list[Timeline] = []
        # a run of still seconds also ends where time jumps (a skipped gap)
        jumps = np.cumsum(np.diff(timeline.t_s, prepend=-np.inf) != 1.0)
        starts, lengths, _ = runs(timeline.still + 2 * jumps)
        values = timeline.still[starts]
        span = 0  # start of seconds that pass through unchanged
        end = len(timeline)
        for start, length, is_still in zip(
            starts.tolist(), lengths.tolist(), values.tolist(), strict=True
        ):
            busy = bool(self._held_s) or self._off or self._worn
            if not is_still or (not busy and start + length < end and length < self.min_s):
                if not is_still and busy:  # movement ends the run being held
                    out.extend(self._end_run())
                continue  # too short to be off the body: passes through
            if span < start:
                out.append(timeline.take(slice(span, start)))
            out.extend(self._extend(timeline.take(slice(start, start + length))))
            span = start + length
        if span < end:
            out.append(timeline.take(slice(span, end)))
        return Timeline.concat(out)

    def flush(self) -> Timeline:
        return Timeline.concat(self._end_run())

    def _end_run(self) -> list[Timeline]:
        held, self._held, self._held_s, self._off = self._held, [], 0, False
        self._lo, self._hi = np.full(3, np.inf), np.full(3, -np.inf)
        self._worn = False
        return held

    def _extend(self, part: Timeline) -> list[Timeline]:
        """Add consecutive still seconds to the run, splitting it where the sensor moved."""
        out: list[Timeline] = []
        while len(part):
            if (self._held_s or self._off or self._worn) and part.t_s[0] != self._next_t:
                out.extend(self._end_run())
            lo = np.minimum.accumulate(np.vstack((self._lo, part.gravity_g)), axis=0)[1:]
            hi = np.maximum.accumulate(np.vstack((self._hi, part.gravity_g)), axis=0)[1:]
            moved = ((hi - lo) > self.range_g).sum(axis=1) >= 2
            n = int(np.argmax(moved)) if moved.any() else len(part)
            if n == 0:  # the first second already breaks the run: it starts a new one
                out.extend(self._end_run())
                continue
            run, part = part.take(slice(0, n)), part.take(slice(n, None))
            self._lo, self._hi = lo[n - 1], hi[n - 1]
            self._next_t = float(run.t_s[-1]) + 1.0
            out.extend(self._add(run))
            if len(part):
                out.extend(self._end_run())
        return out

    def _add(self, run: Timeline) -> list[Timeline]:
        if self._off:
            return [_mark(run)]
        if self._worn:
            return [run]
        need = int(np.ceil(self.min_s)) - self._held_s
        if len(run) < need:
            self._held.append(run)
            self._held_s += len(run)
            return []
        # decided on the run's first `min_s` seconds, however many more arrived with them
        held = [*self._held, run.take(slice(0, need))]
        self._held, self._held_s = [], 0
        if self._breathes(held):
            self._worn = True
        else:
            self._off = True
            held = [_mark(t) for t in held]
        return held + self._add(run.take(slice(need, None)))

    def _breathes(self, held: list[Timeline]) -> bool:
        """Whether the still run `held` (consecutive seconds) shows breathing."""
        if not np.isfinite(self.breathing_ratio):
            return False
        run = Timeline.concat(held)
        g, v = run.gravity_g, run.mean_var_g2
        for lag in range(1, LAGS + 1):
            change = ((g[lag:] - g[:-lag]) ** 2).sum(axis=1)
            noise = v[lag:] + v[:-lag]  # the variance of a difference of two means
            known = np.isfinite(change) & np.isfinite(noise)
            if float(change[known].sum()) > self.breathing_ratio * float(noise[known].sum()):
                return True
        return False


def _mark(timeline: Timeline) -> Timeline:
    return timeline.replace(posture=np.full(len(timeline), _NOT_WORN, dtype=np.int8))
