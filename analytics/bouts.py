"""Posture bouts and sitting bouts from the final per-second postures.

A posture bout is a maximal run of one posture. A sitting bout is continuous sitting: it goes on
through interruptions shorter than `break_min_s` and ends when the wearer has not sat for
`break_min_s` (a break if all that time was upright), or at a gap in the data.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .arrays import runs
from .params import BoutRules
from .records import UPRIGHT, Event, EventKind, Posture, Value
from .timeline import CODE, POSTURES, Timeline

_SITTING = CODE[Posture.SITTING]


@dataclass(slots=True)
class _Run:
    code: int
    start_s: float
    end_s: float
    steps: int = 0


class PostureBouts:
    """Emits a `posture_bout` event for every closed run of one posture."""

    def __init__(self, wearer_id: str) -> None:
        self.wearer_id = wearer_id
        self.current: _Run | None = None
        self.last: _Run | None = None  # the last run, still known after `flush`

    def push(self, timeline: Timeline) -> list[Event]:
        events: list[Event] = []
        for run in _runs(timeline):
            cur = self.current
            if cur is not None and cur.code == run.code and cur.end_s == run.start_s:
                cur.end_s = run.end_s
                cur.steps += run.steps
                continue
            if cur is not None:
                events.append(self._event(cur))
            self.current = self.last = run
        return events

    def flush(self) -> list[Event]:
        events = [self._event(self.current)] if self.current is not None else []
        self.current = None
        return events

    def _event(self, run: _Run) -> Event:
        duration = run.end_s - run.start_s
        values: dict[str, Value] = {"posture": POSTURES[run.code].value, "duration_s": duration}
        if POSTURES[run.code] is Posture.WALKING:
            values["steps"] = run.steps
            values["cadence_spm"] = round(60.0 * run.steps / duration, 1)
        return Event(
            wearer_id=self.wearer_id,
            kind=EventKind.POSTURE_BOUT,
            start_s=run.start_s,
            end_s=run.end_s,
            values=values,
        )


@dataclass(slots=True)
class _SittingBout:
    start_s: float
    sit_end_s: float  # end of the last sitting second
    sitting_s: float
    interruptions: int = 0
    away_s: float = 0.0  # not sitting since sit_end_s
    away_upright: bool = True  # all of that time upright


class SittingBouts:
    """Tracks the current sitting bout and emits a `sitting_bout` event when it ends."""

    def __init__(self, wearer_id: str, rules: BoutRules) -> None:
        self.wearer_id = wearer_id
        self.rules = rules
        self.bout: _SittingBout | None = None
        self._next_t = np.nan

    def push(self, timeline: Timeline) -> list[Event]:
        events: list[Event] = []
        for run in _runs(timeline):
            if self.bout is not None and run.start_s != self._next_t:
                events.append(self._close("gap"))
            self._next_t = run.end_s
            if run.code == _SITTING:
                self._sit(run)
            elif self.bout is not None:
                event = self._away(run)
                if event is not None:
                    events.append(event)
        return events

    def flush(self) -> list[Event]:
        return [self._close("end_of_data")] if self.bout is not None else []

    def _sit(self, run: _Run) -> None:
        bout = self.bout
        if bout is None:
            self.bout = _SittingBout(
                start_s=run.start_s, sit_end_s=run.end_s, sitting_s=run.end_s - run.start_s
            )
            return
        if bout.away_s:
            bout.interruptions += 1
            bout.away_s, bout.away_upright = 0.0, True
        bout.sit_end_s = run.end_s
        bout.sitting_s += run.end_s - run.start_s

    def _away(self, run: _Run) -> Event | None:
        bout = self.bout
        assert bout is not None
        bout.away_upright &= POSTURES[run.code] in UPRIGHT
        bout.away_s += run.end_s - run.start_s
        if bout.away_s < self.rules.break_min_s:
            return None
        return self._close("break" if bout.away_upright else POSTURES[run.code].value)

    def _close(self, ended_by: str) -> Event:
        bout = self.bout
        assert bout is not None
        self.bout = None
        duration = bout.sit_end_s - bout.start_s
        return Event(
            wearer_id=self.wearer_id,
            kind=EventKind.SITTING_BOUT,
            start_s=bout.start_s,
            end_s=bout.sit_end_s,
            values={
                "duration_s": duration,
                "sitting_s": bout.sitting_s,
                "interruptions": bout.interruptions,
                "prolonged": duration >= self.rules.prolonged_s,
                "ended_by": ended_by,
            },
        )


def _runs(timeline: Timeline) -> list[_Run]:
    """Maximal runs of one posture over consecutive seconds."""
    if not len(timeline):
        return []
    jump = np.concatenate(([False], np.diff(timeline.t_s) != 1.0))
    starts, lengths, _ = runs(timeline.posture.astype(np.int64) + len(CODE) * np.cumsum(jump))
    t = timeline.t_s
    steps = np.add.reduceat(timeline.steps, starts).tolist()
    return [
        _Run(
            code=int(timeline.posture[s]),
            start_s=float(t[s]),
            end_s=float(t[s + n - 1]) + 1.0,
            steps=int(k),
        )
        for s, n, k in zip(starts.tolist(), lengths.tolist(), steps, strict=True)
    ]
