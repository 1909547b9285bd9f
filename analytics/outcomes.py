"""The outcomes sedentary-behaviour research reports, from what the pipeline publishes.

Only events and per-minute metrics are used (never the per-second timeline), so the outcomes of
a wearer's data read back from InfluxDB equal those of the trace that filled it:

- `seconds`: each second's posture (from the posture bouts) and whether it was slouched;
- `bouts`: one bout per stretch of sitting, standing, walking or lying, through interruptions by
  another of these postures of up to `BoutRules.interruption_max_s` (20 s, as in the harmonised
  thigh-sensor pipelines); not-worn time, unknown time and gaps always end a bout;
- `days`: per local calendar day, the full day accounted for (postures, not worn, no data),
  the day's summary (`analytics.summary`), time and counts in sitting bouts of 30 and 60 min or
  more, sit-to-stand transitions and the counts of bouts of at least 1 to 60 min.

Events and bouts belong to the day they start on.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from typing import Final
from zoneinfo import ZoneInfo

import numpy as np
from numpy.typing import NDArray

from .records import Event, EventKind, MinuteMetrics, Posture
from .summary import DaySummary, summarise
from .timeline import CODE

BOUT_POSTURES: Final = (Posture.SITTING, Posture.STANDING, Posture.WALKING, Posture.LYING)
BOUT_MINUTES: Final = (1, 2, 3, 4, 5, 10, 30, 60)  # bout counts: at least this many minutes
LONG_SITTING_MINUTES: Final = (30, 60)


@dataclass(frozen=True, slots=True)
class Bout:
    """A stretch of one posture; short interruptions by another posture do not end it."""

    posture: Posture
    start_s: float
    end_s: float  # end of its last second in the posture
    posture_s: float  # seconds in the posture (interruptions excluded)
    interruptions: int
    steps: int
    since_previous_s: float | None  # from the end of the previous bout of this posture

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


@dataclass(frozen=True, slots=True)
class Seconds:
    """Consecutive classified seconds (gaps between posture bouts are left out)."""

    t_s: NDArray[np.float64]
    posture: NDArray[np.int8]  # index into analytics.timeline.POSTURES
    slouched: NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class Day:
    """One local calendar day of a wearer."""

    day: date
    length_s: int  # 86,400, or 23 or 25 hours on the days the clocks change
    summary: DaySummary
    no_data_s: int  # seconds of the day without a minute of data
    sit_to_stand: int
    long_sitting_s: dict[int, float] = field(default_factory=dict)  # minutes -> seconds in bouts
    long_sitting_bouts: dict[int, int] = field(default_factory=dict)  # minutes -> sitting bouts
    bout_counts: dict[Posture, dict[int, int]] = field(default_factory=dict)


def _posture_runs(events: Iterable[Event]) -> list[Event]:
    runs = [e for e in events if e.kind is EventKind.POSTURE_BOUT]
    runs.sort(key=lambda e: e.start_s)
    return runs


def _posture(e: Event) -> Posture:
    return Posture(str(e.values["posture"]))


def seconds(events: Iterable[Event]) -> Seconds:
    """Every second covered by a posture bout, with its posture and whether it was slouched."""
    events = list(events)
    runs = _posture_runs(events)
    if not runs:
        return Seconds(np.zeros(0), np.zeros(0, dtype=np.int8), np.zeros(0, dtype=bool))
    starts = np.array([e.start_s for e in runs])
    counts = np.array([round(e.duration_s) for e in runs])
    offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    t = np.repeat(starts, counts) + offsets
    codes = np.repeat(np.array([CODE[_posture(e)] for e in runs], dtype=np.int8), counts)
    slouched = np.zeros(t.size, dtype=bool)
    for e in events:
        if e.kind is EventKind.SLOUCH:
            lo, hi = np.searchsorted(t, [e.start_s, e.end_s])
            slouched[lo:hi] = True
    return Seconds(t, codes, slouched)


def bouts(events: Iterable[Event], *, interruption_max_s: float = 20.0) -> list[Bout]:
    """The bouts of every posture in `BOUT_POSTURES`, in time order."""
    runs = _posture_runs(events)
    out: list[Bout] = []
    for posture in BOUT_POSTURES:
        out += _bouts_of(posture, runs, interruption_max_s)
    out.sort(key=lambda b: (b.start_s, b.posture.value))
    return out


def _bouts_of(posture: Posture, runs: Sequence[Event], interruption_max_s: float) -> list[Bout]:
    out: list[Bout] = []
    open_: list[Event] = []  # the bout's runs so far, ending with one in `posture`
    pending: list[Event] = []  # runs of other postures since its last run in `posture`

    def close() -> None:
        if open_:
            mine = [r for r in open_ if _posture(r) is posture]
            previous = out[-1].end_s if out else None
            out.append(
                Bout(
                    posture=posture,
                    start_s=open_[0].start_s,
                    end_s=open_[-1].end_s,
                    posture_s=sum(r.duration_s for r in mine),
                    interruptions=len(mine) - 1,
                    steps=sum(int(r.values.get("steps", 0)) for r in open_),
                    since_previous_s=None if previous is None else open_[0].start_s - previous,
                )
            )
        open_.clear()
        pending.clear()

    last_end = None
    for run in runs:
        if last_end is not None and run.start_s != last_end:
            close()  # a gap in the data ends every bout
        last_end = run.end_s
        if _posture(run) is posture:
            open_ += [*pending, run]
            pending.clear()
        elif open_:
            bridged = sum(r.duration_s for r in pending) + run.duration_s
            if _posture(run) in BOUT_POSTURES and bridged <= interruption_max_s:
                pending.append(run)
            else:
                close()
    close()
    return out


def sit_to_stand(events: Iterable[Event]) -> int:
    """Transitions from a sitting bout straight into standing or walking."""
    runs = _posture_runs(events)
    upright = (Posture.STANDING, Posture.WALKING)
    return sum(
        1
        for a, b in pairwise(runs)
        if _posture(a) is Posture.SITTING and _posture(b) in upright and b.start_s == a.end_s
    )


def day_bounds(day: date, zone: ZoneInfo) -> tuple[float, float]:
    """Unix seconds of the local midnights that start and end `day`."""
    start = datetime.combine(day, time(), zone)
    end = datetime.combine(day + timedelta(days=1), time(), zone)
    return start.timestamp(), end.timestamp()


def days(
    events: Iterable[Event],
    minutes: Iterable[MinuteMetrics],
    *,
    timezone: str = "UTC",
    interruption_max_s: float = 20.0,
) -> list[Day]:
    """One `Day` per local calendar day with any data, in order."""
    zone = ZoneInfo(timezone)

    def day_of(t_s: float) -> date:
        return datetime.fromtimestamp(t_s, UTC).astimezone(zone).date()

    events = list(events)
    by_events: dict[date, list[Event]] = defaultdict(list)
    by_minutes: dict[date, list[MinuteMetrics]] = defaultdict(list)
    by_bouts: dict[date, list[Bout]] = defaultdict(list)
    for e in events:
        by_events[day_of(e.start_s)].append(e)
    for m in minutes:
        by_minutes[day_of(m.start_s)].append(m)
    for b in bouts(events, interruption_max_s=interruption_max_s):
        by_bouts[day_of(b.start_s)].append(b)
    out = []
    for d in sorted(set(by_events) | set(by_minutes)):
        start, end = day_bounds(d, zone)
        sitting = [e for e in by_events[d] if e.kind is EventKind.SITTING_BOUT]
        out.append(
            Day(
                day=d,
                length_s=round(end - start),
                summary=summarise(by_events[d], by_minutes[d]),
                no_data_s=round(end - start) - 60 * len(by_minutes[d]),
                sit_to_stand=sit_to_stand(by_events[d]),
                long_sitting_s={
                    m: sum(b.duration_s for b in sitting if b.duration_s >= 60 * m)
                    for m in LONG_SITTING_MINUTES
                },
                long_sitting_bouts={
                    m: sum(1 for b in sitting if b.duration_s >= 60 * m)
                    for m in LONG_SITTING_MINUTES
                },
                bout_counts=bout_counts(by_bouts[d]),
            )
        )
    return out


def bout_counts(day_bouts: Iterable[Bout]) -> dict[Posture, dict[int, int]]:
    """Per posture, the number of bouts of at least each of `BOUT_MINUTES` minutes."""
    counts = {p: dict.fromkeys(BOUT_MINUTES, 0) for p in BOUT_POSTURES}
    for b in day_bouts:
        for m in BOUT_MINUTES:
            if b.duration_s >= 60 * m:
                counts[b.posture][m] += 1
    return counts
