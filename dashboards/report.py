"""The daily report for one wearer: a self-contained HTML page with plots and plain words.

The report is made from the records the pipeline publishes (events and per-minute metrics),
either analysed offline from a trace or read back from InfluxDB for one wearer and day, so both
give the same page for the same data. Nothing in the page is fetched from anywhere: the plots
are inline SVG and the styles are inline.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, select_autoescape

from analytics.bandit import explain
from analytics.effect import describe, effect
from analytics.offline import analyze
from analytics.params import AnalyticsParams, BoutRules
from analytics.records import (
    EXPOSURE_BANDS_DEG,
    LATERAL_LIMIT_DEG,
    Event,
    EventKind,
    MinuteMetrics,
    Placement,
    Posture,
    Trace,
)
from analytics.summary import DaySummary, summarise

from . import plots
from .influx import InfluxClient
from .readback import wearer_records
from .words import duration

_TEMPLATES = Environment(
    loader=PackageLoader("dashboards", "templates"),
    autoescape=select_autoescape(["html"]),
    keep_trailing_newline=True,
)


class NoData(ValueError):
    """Nothing was recorded for the wearer and day asked for."""


@dataclass(frozen=True, slots=True)
class Day:
    """What one report shows: a wearer's events and minutes over a stretch of time."""

    title: str
    source: str  # where the data came from, in words
    events: tuple[Event, ...]
    minutes: tuple[MinuteMetrics, ...]
    start_s: float
    end_s: float
    tz: ZoneInfo | None  # None: times are seconds into a recording, not clock times
    prolonged_s: float = BoutRules().prolonged_s

    def __post_init__(self) -> None:
        if self.end_s < self.start_s:
            raise ValueError(f"day ends before it starts: {self.start_s} > {self.end_s}")

    def of(self, kind: EventKind) -> list[Event]:
        return [e for e in self.events if e.kind is kind]

    @property
    def summary(self) -> DaySummary:
        return summarise(self.events, self.minutes)


def _extent(events: Iterable[Event], minutes: Iterable[MinuteMetrics]) -> tuple[float, float]:
    starts = [m.start_s for m in minutes] + [e.start_s for e in events]
    ends = [m.start_s + 60.0 for m in minutes] + [e.end_s for e in events]
    if not starts:
        raise NoData("no events or minutes")
    return min(starts), max(ends)


def from_trace(
    trace: Trace,
    *,
    name: str,
    placement: Placement = Placement.TRUNK,
    params: AnalyticsParams | None = None,
) -> Day:
    """The report of a recorded trace (called `name`), analysed offline."""
    params = params or AnalyticsParams()
    out = analyze({placement: trace}, wearer_id="wearer", params=params).output
    start, end = _extent(out.events, out.minutes)
    unix = float(trace.t_s[0]) > 1e8  # a recording stamped with unix times has clock times
    return Day(
        title=f"{name} ({placement.value})",
        source=f"offline analysis of the recording {name}",
        events=tuple(out.events),
        minutes=tuple(out.minutes),
        start_s=start,
        end_s=end,
        tz=ZoneInfo("UTC") if unix else None,
        prolonged_s=params.bouts.prolonged_s,
    )


def from_influx(
    influx: InfluxClient,
    wearer_id: str,
    day: date,
    *,
    tz: ZoneInfo,
    prolonged_s: float = BoutRules().prolonged_s,
) -> Day:
    """The report of one wearer's calendar day in `tz`, read back from InfluxDB.

    Raises `NoData` if nothing was recorded, `InfluxError` if InfluxDB cannot answer.
    """
    midnight = datetime.combine(day, time(0), tzinfo=tz)
    day_start = midnight.timestamp()
    day_end = (midnight + timedelta(days=1)).timestamp()
    events, minutes = wearer_records(influx, wearer_id, start_s=day_start, end_s=day_end)
    if not events and not minutes:
        raise NoData(f"nothing recorded for wearer {wearer_id} on {day.isoformat()} ({tz.key})")
    start, end = _extent(events, minutes)
    return Day(
        title=f"Wearer {wearer_id}, {day.strftime('%A %d %B %Y')}",
        source=f"InfluxDB {influx.settings.database} at {influx.url}, times in {tz.key}",
        events=tuple(events),
        minutes=tuple(minutes),
        start_s=max(start, day_start),
        end_s=min(end, day_end),
        tz=tz,
        prolonged_s=prolonged_s,
    )


@dataclass(frozen=True, slots=True)
class Nudges:
    """The day's nudges (`nudge` events) and what followed them (`nudge_outcome` events)."""

    by_reason: dict[str, int]
    outcomes: int
    answered: int
    mean_response_s: float | None

    @staticmethod
    def of(events: Iterable[Event]) -> Nudges:
        by_reason: dict[str, int] = {}
        outcomes = answered = 0
        response = 0.0
        for e in events:
            if e.kind is EventKind.NUDGE:
                reason = str(e.values.get("reason", "sitting"))
                by_reason[reason] = by_reason.get(reason, 0) + 1
            elif e.kind is EventKind.NUDGE_OUTCOME:
                outcomes += 1
                if e.values.get("responded"):
                    answered += 1
                    response += float(e.values.get("response_s", 0.0))
        return Nudges(by_reason, outcomes, answered, response / answered if answered else None)

    @property
    def issued(self) -> int:
        return sum(self.by_reason.values())


def _share(part: float, whole: float) -> str:
    return f"{part / whole:.0%}" if whole else "0%"


def sentences(day: Day) -> list[str]:
    """The day's numbers in plain words, one sentence each."""
    s = day.summary
    p = s.posture_s
    worn = s.worn_s
    limit = f"{day.prolonged_s / 60:g} min"
    out = [f"You wore the sensor for {duration(worn)}."]
    if p[Posture.NOT_WORN]:
        out.append(f"It was off the body for {duration(p[Posture.NOT_WORN])}.")
    if p[Posture.UNKNOWN]:
        out.append(f"There was no usable data for {duration(p[Posture.UNKNOWN])}.")
    out.append(f"You sat for {duration(s.sitting_s)}, {_share(s.sitting_s, worn)} of that time.")
    if s.sitting_bouts:
        out.append(
            f"You sat in {s.sitting_bouts} bout{'s' if s.sitting_bouts != 1 else ''} (short "
            "interruptions do not end a bout, a break on your feet does); the longest "
            f"lasted {duration(s.longest_bout_s)}, and {s.prolonged_bouts or 'none'} lasted "
            f"{limit} or more."
        )
        out.append(
            f"You took {s.breaks} break{'s' if s.breaks != 1 else ''} from sitting, "
            f"{s.breaks_per_sitting_hour:.1f} per hour of sitting."
        )
    out.append(
        f"You were upright for {duration(s.upright_s)}, "
        f"{duration(p[Posture.WALKING])} of it walking."
    )
    if p[Posture.LYING]:
        out.append(f"You were lying down for {duration(p[Posture.LYING])}.")
    out.append(
        f"You slouched for {duration(s.slouch_s)}, {s.slouch_fraction:.0%} of your sitting time."
    )
    bands = sum(s.band_s)
    if bands:
        parts = [
            f"{_band_words(lo, hi)} {_share(seconds, bands)}"
            for (lo, hi), seconds in zip(EXPOSURE_BANDS_DEG, s.band_s, strict=True)
        ]
        out.append("Your trunk was " + ", ".join(parts[:-1]) + f" and {parts[-1]} of the time.")
        out.append(
            f"It was bent sideways more than {LATERAL_LIMIT_DEG:.0f}° (the limit of ISO 11226)"
            f" for {duration(s.lateral_s)}, {_share(s.lateral_s, bands)} of the time."
        )
    out += desk_sentences(day)
    n = Nudges.of(day.events)
    if n.issued:
        kinds = " and ".join(
            f"{count} {'movement-break' if reason == 'sitting' else reason} nudge"
            f"{'s' if count != 1 else ''}"
            for reason, count in sorted(n.by_reason.items())
        )
        answered = f"you responded to {n.answered} of {n.outcomes}"
        if n.mean_response_s is not None:
            answered += f", on average {duration(n.mean_response_s)} later"
        out.append(f"You got {kinds}; {answered}.")
    else:
        out.append("You got no nudges.")
    return out


def desk_sentences(day: Day) -> list[str]:
    """Time at each height of a sit-stand desk (nothing without desk heights)."""
    stretches = day.of(EventKind.DESK)
    if not stretches:
        return []
    by_position: dict[str, float] = {}
    heights: dict[str, set[float]] = {}
    for e in stretches:
        position = str(e.values.get("position", "sitting"))
        by_position[position] = by_position.get(position, 0.0) + e.duration_s
        heights.setdefault(position, set()).add(float(e.values.get("height_cm", 0.0)))
    parts = [
        f"at {position} height ({', '.join(f'{h:g} cm' for h in sorted(heights[position]))}) "
        f"for {duration(seconds)}"
        for position, seconds in sorted(by_position.items())
    ]
    return ["Your desk was " + " and ".join(parts) + "."]


_WAITED = {
    "busy": "you were busy",
    "upright": "you were already up",
    "posture": "you had just changed position",
    "snooze": "you had snoozed them",
    "dnd": "do-not-disturb was on",
    "quiet_hours": "of quiet hours",
    "off_hours": "it was outside working hours",
}


def nudge_sentences(day: Day) -> list[str]:
    """What happened to the day's nudges: waits, the ones not needed, their measured effect,
    and why they come when they do (nothing if no nudge was due)."""
    decisions = day.of(EventKind.NUDGE_DECISION)
    if not decisions:
        return []
    out = []
    waited: dict[str, int] = {}
    for d in decisions:
        if "deferred_by" in d.values and d.values.get("decision") != "dropped":
            reason = str(d.values["deferred_by"])
            waited[reason] = waited.get(reason, 0) + 1
    if waited:
        out.append(
            "Some nudges waited for a better moment: "
            + ", ".join(
                f"{n} because {_WAITED.get(reason, reason)}" for reason, n in sorted(waited.items())
            )
            + "."
        )
    dropped = sum(1 for d in decisions if d.values.get("decision") == "dropped")
    if dropped:
        out.append(
            f"{dropped} nudge{'s were' if dropped != 1 else ' was'} not sent because you were "
            "already up or the moment had passed."
        )
    measured = effect(decisions)
    if measured.withheld.decisions:
        out += describe(measured, person="you")
    why = explain(decisions)
    if why is not None:
        out.append(why)
    return out


def _band_words(lo: float, hi: float) -> str:
    if lo == 0:
        return f"within {hi:.0f}° of upright"
    if hi == float("inf"):
        return f"bent more than {lo:.0f}°"
    return f"bent {lo:.0f}-{hi:.0f}°"


def _span(day: Day) -> str:
    if day.tz is None:
        return f"A recording of {duration(day.end_s - day.start_s)}"
    start = datetime.fromtimestamp(day.start_s, day.tz)
    end = datetime.fromtimestamp(day.end_s, day.tz)
    return f"{start:%A %d %B %Y}, {start:%H:%M} to {end:%H:%M} ({day.tz.key})"


def render(day: Day) -> str:
    """The report as one HTML page."""
    figures = [
        {"id": name, "title": title, "svg": draw(day)}
        for name, (title, draw) in plots.PLOTS.items()
    ]
    return _TEMPLATES.get_template("report.html").render(
        day=day,
        sentences=sentences(day),
        nudge_words=nudge_sentences(day),
        figures=figures,
        span=_span(day),
    )


def write(day: Day, out: Path) -> None:
    """Write the report to `out` (its directory must exist). Raises `OSError`."""
    out.write_text(render(day), encoding="utf-8")
