"""The daily summary of one wearer, from events and per-minute metrics.

It uses only what the pipeline publishes (events and minutes), so the same function summarises
an offline analysis and what was read back from InfluxDB.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from .records import UPRIGHT, Event, EventKind, MinuteMetrics, Posture


@dataclass(frozen=True, slots=True)
class DaySummary:
    """A wearer's numbers for one stretch of data (usually a day)."""

    posture_s: dict[Posture, int]
    sitting_bouts: int
    longest_bout_s: float
    prolonged_bouts: int
    breaks: int  # sitting bouts ended by at least break_min_s upright
    slouch_s: int
    band_s: tuple[int, int, int]
    events: dict[str, int] = field(default_factory=dict)
    nudges: int = 0  # nudges issued (movement breaks and slouch)
    nudges_responded: int = 0  # ... followed by a break (or sitting up) in time
    valid_wear_s: int = 0  # seconds with data while the sensor was on the body
    steps: int = 0
    lateral_s: int = 0  # seconds bent sideways past LATERAL_LIMIT_DEG (ISO 11226)
    nudges_by_reason: dict[str, int] = field(default_factory=dict)

    @property
    def sitting_s(self) -> int:
        return self.posture_s.get(Posture.SITTING, 0)

    @property
    def upright_s(self) -> int:
        return sum(self.posture_s.get(p, 0) for p in UPRIGHT)

    @property
    def worn_s(self) -> int:
        """Seconds with data while the sensor was on the body."""
        off = (Posture.NOT_WORN, Posture.UNKNOWN)
        return sum(s for p, s in self.posture_s.items() if p not in off)

    @property
    def breaks_per_sitting_hour(self) -> float:
        return self.breaks / (self.sitting_s / 3600.0) if self.sitting_s else 0.0

    @property
    def nudge_response_rate(self) -> float:
        """Share of nudges followed by a break (or, for slouch nudges, sitting up) in time."""
        return self.nudges_responded / self.nudges if self.nudges else 0.0

    def valid_day(self, min_wear_s: float = 10 * 3600.0) -> bool:
        """Enough wear for the day's numbers to stand for the day (default 10 h)."""
        return self.valid_wear_s >= min_wear_s

    @property
    def slouch_fraction(self) -> float:
        """Share of sitting time spent slouched."""
        return self.slouch_s / self.sitting_s if self.sitting_s else 0.0


def summarise(events: Iterable[Event], minutes: Iterable[MinuteMetrics]) -> DaySummary:
    posture_s: Counter[Posture] = Counter()
    slouch_s = 0
    steps = 0
    lateral_s = 0
    bands = [0, 0, 0]
    for m in minutes:
        posture_s.update(m.posture_s)
        steps += m.steps
        lateral_s += m.lateral_s
        slouch_s += m.slouch_s
        for i, s in enumerate(m.band_s):
            bands[i] += s
    kinds: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    bouts = []
    responded = 0
    for e in events:
        kinds[e.kind.value] += 1
        if e.kind is EventKind.SITTING_BOUT:
            bouts.append(e)
        elif e.kind is EventKind.NUDGE:
            reasons[str(e.values.get("reason", ""))] += 1
        elif e.kind is EventKind.NUDGE_OUTCOME and e.values.get("responded") is True:
            responded += 1
    return DaySummary(
        posture_s={p: posture_s.get(p, 0) for p in Posture},
        sitting_bouts=len(bouts),
        longest_bout_s=max((b.duration_s for b in bouts), default=0.0),
        prolonged_bouts=sum(1 for b in bouts if b.values.get("prolonged")),
        breaks=sum(1 for b in bouts if b.values.get("ended_by") == "break"),
        slouch_s=slouch_s,
        band_s=(bands[0], bands[1], bands[2]),
        events=dict(sorted(kinds.items())),
        nudges=sum(reasons.values()),
        nudges_responded=responded,
        valid_wear_s=sum(
            n for p, n in posture_s.items() if p not in (Posture.NOT_WORN, Posture.UNKNOWN)
        ),
        steps=steps,
        lateral_s=lateral_s,
        nudges_by_reason=dict(sorted(reasons.items())),
    )


def summarise_days(
    events: Iterable[Event], minutes: Iterable[MinuteMetrics], *, timezone: str = "UTC"
) -> dict[date, DaySummary]:
    """One summary per local calendar day in `timezone` (events by their start)."""
    zone = ZoneInfo(timezone)

    def day(t_s: float) -> date:
        return datetime.fromtimestamp(t_s, UTC).astimezone(zone).date()

    by_day_events: dict[date, list[Event]] = defaultdict(list)
    by_day_minutes: dict[date, list[MinuteMetrics]] = defaultdict(list)
    for e in events:
        by_day_events[day(e.start_s)].append(e)
    for m in minutes:
        by_day_minutes[day(m.start_s)].append(m)
    days = sorted(set(by_day_events) | set(by_day_minutes))
    return {d: summarise(by_day_events[d], by_day_minutes[d]) for d in days}
