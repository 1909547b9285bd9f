"""Slouch episodes: the trunk off its upright past the threshold while sitting, held for a time.

The per-second slouch deviation (`slouch_deg`, analytics/decider.py) is the trunk's angle from
the calibrated upright in any direction: forward flexion and sideways bending, and leaning back
only while the trunk is not resting still against a backrest. An excursion starts at a sitting
second with a deviation above `threshold_deg` and lasts while the wearer sits with a deviation
above `threshold_deg - hysteresis_deg`. An excursion of at least
`hold_s` is a slouch episode, back-dated to its start. Seconds of an undecided excursion are held
back (at most `hold_s`), so the `slouched` column never changes after release.
"""

from __future__ import annotations

import numpy as np

from .arrays import runs
from .params import SlouchRules
from .records import Event, EventKind, Posture, Value
from .timeline import CODE, Timeline

_SITTING = CODE[Posture.SITTING]


class SlouchTracker:
    """Marks slouched seconds and emits one event per closed episode."""

    def __init__(self, wearer_id: str, rules: SlouchRules) -> None:
        self.wearer_id = wearer_id
        self.rules = rules
        self._held = Timeline.empty()  # an excursion not yet long enough
        self._episode: _Episode | None = None  # the confirmed episode so far
        self._next_t = np.nan

    def push(self, timeline: Timeline) -> tuple[Timeline, list[Event]]:
        return self._run(timeline, final=False)

    def flush(self) -> tuple[Timeline, list[Event]]:
        return self._run(Timeline.empty(), final=True)

    def _run(self, timeline: Timeline, *, final: bool) -> tuple[Timeline, list[Event]]:
        r = self.rules
        out: list[Timeline] = []
        events: list[Event] = []
        with np.errstate(invalid="ignore"):
            sitting = timeline.posture == _SITTING
            cont = sitting & (timeline.slouch_deg > r.threshold_deg - r.hysteresis_deg)
            above = sitting & (timeline.slouch_deg > r.threshold_deg)
        jump = (
            np.diff(timeline.t_s, prepend=self._next_t - 1.0) != 1.0
        )  # a time jump ends excursions
        starts, lengths, _ = runs(cont.astype(np.int64) + 2 * np.cumsum(jump))
        for start, length in zip(starts.tolist(), lengths.tolist(), strict=True):
            part = timeline.take(slice(start, start + length))
            if jump[start] or not cont[start]:
                out.extend(self._close(events))
            if not cont[start]:
                out.append(part)
                continue
            if not self._active:
                rising = above[start : start + length]
                first = int(np.argmax(rising)) if rising.any() else length
                out.append(part.take(slice(0, first)))  # not (yet) above the threshold
                part = part.take(slice(first, None))
            if len(part):
                out.extend(self._grow(part))
        if final:
            out.extend(self._close(events))
        if len(timeline):
            self._next_t = float(timeline.t_s[-1]) + 1.0
        return Timeline.concat(out), events

    @property
    def _active(self) -> bool:
        return bool(len(self._held)) or self._episode is not None

    def _grow(self, part: Timeline) -> list[Timeline]:
        if self._episode is None:
            self._held = Timeline.concat([self._held, part])
            if len(self._held) < self.rules.hold_s:
                return []
            part, self._held = self._held, Timeline.empty()
            self._episode = _Episode(start_s=float(part.t_s[0]))
        self._episode.add(part)
        return [part.replace(slouched=np.ones(len(part), dtype=bool))]

    def _close(self, events: list[Event]) -> list[Timeline]:
        held, self._held = self._held, Timeline.empty()
        if self._episode is not None:
            events.append(self._episode.event(self.wearer_id))
            self._episode = None
        return [held]


class _Episode:
    """Running statistics of a confirmed slouch episode."""

    def __init__(self, start_s: float) -> None:
        self.start_s = start_s
        self.end_s = start_s
        self.seconds = 0
        self.flexion_sum_deg = 0.0
        self.flexion_max_deg = -np.inf
        self.lateral_sum_deg = 0.0
        self.lateral_n = 0

    def add(self, part: Timeline) -> None:
        self.end_s = float(part.t_s[-1]) + 1.0
        self.seconds += len(part)
        self.flexion_sum_deg += float(np.sum(part.flexion_deg))
        self.flexion_max_deg = max(self.flexion_max_deg, float(np.max(part.flexion_deg)))
        lateral = part.lateral_deg[np.isfinite(part.lateral_deg)]
        self.lateral_sum_deg += float(np.sum(lateral))
        self.lateral_n += int(lateral.size)

    def event(self, wearer_id: str) -> Event:
        values: dict[str, Value] = {
            "duration_s": float(self.seconds),
            "flexion_mean_deg": round(self.flexion_sum_deg / self.seconds, 2),
            "flexion_max_deg": round(self.flexion_max_deg, 2),
        }
        if self.lateral_n:
            values["lateral_mean_deg"] = round(self.lateral_sum_deg / self.lateral_n, 2)
        return Event(
            wearer_id=wearer_id,
            kind=EventKind.SLOUCH,
            start_s=self.start_s,
            end_s=self.end_s,
            values=values,
        )
