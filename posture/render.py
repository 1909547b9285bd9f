"""Rendering a wearer's summary for the terminal with rich."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import datetime, tzinfo

from rich.console import Group
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from analytics.effect import describe, effect
from analytics.records import EXPOSURE_BANDS_DEG, Event, EventKind, MinuteMetrics, Posture
from analytics.summary import DaySummary
from dashboards.words import duration

COLOURS = {
    Posture.SITTING: "red",
    Posture.STANDING: "green",
    Posture.WALKING: "bright_green",
    Posture.LYING: "blue",
    Posture.NOT_WORN: "grey50",
    Posture.UNKNOWN: "grey23",
}


def _share(part: float, whole: float) -> str:
    return f" ({part / whole:.0%})" if whole else ""


def summary_table(summary: DaySummary, *, title: str) -> Table:
    """The day's numbers, one per row, in plain words."""
    worn = summary.worn_s
    table = Table(
        title=escape(title), show_header=False, title_justify="left", box=None, padding=(0, 2)
    )
    table.add_column(style="bold")
    table.add_column()
    p = summary.posture_s
    rows = [
        (
            "Sitting",
            duration(summary.sitting_s) + _share(summary.sitting_s, worn) + " of wear time",
        ),
        ("Sitting bouts", f"{summary.sitting_bouts}, longest {duration(summary.longest_bout_s)}"),
        ("Prolonged bouts (30 min+)", str(summary.prolonged_bouts)),
        ("Breaks", f"{summary.breaks} ({summary.breaks_per_sitting_hour:.1f} per sitting hour)"),
        (
            "Upright",
            duration(summary.upright_s) + f", walking {duration(p.get(Posture.WALKING, 0))}",
        ),
        ("Lying", duration(p.get(Posture.LYING, 0))),
        ("Slouched", duration(summary.slouch_s) + f" ({summary.slouch_fraction:.0%} of sitting)"),
    ]
    band_total = sum(summary.band_s)
    for (lo, hi), seconds in zip(EXPOSURE_BANDS_DEG, summary.band_s, strict=True):
        label = f"Trunk {lo:.0f}-{hi:.0f}°" if hi != float("inf") else f"Trunk >{lo:.0f}°"
        rows.append((label, duration(seconds) + _share(seconds, band_total)))
    rows += [
        ("Steps", str(summary.steps)),
        (
            "Nudges",
            f"{summary.nudges}, {summary.nudges_responded} followed by a break"
            + (f" ({summary.nudge_response_rate:.0%})" if summary.nudges else ""),
        ),
        ("Worn", duration(worn) + f", not worn {duration(p.get(Posture.NOT_WORN, 0))}"),
        ("No data", duration(p.get(Posture.UNKNOWN, 0))),
        ("Events", ", ".join(f"{k} {v}" for k, v in summary.events.items()) or "none"),
    ]
    for name, value in rows:
        table.add_row(name, value)
    return table


def decision_lines(events: Iterable[Event]) -> list[str]:
    """The nudge decision points in plain words: what was due, sent, withheld and why it waited
    (nothing if there were none); with withheld ones, the measured effect."""
    made = [e for e in events if e.kind is EventKind.NUDGE_DECISION]
    if not made:
        return []
    decided = Counter(str(e.values.get("decision")) for e in made)
    waited = Counter(str(e.values["deferred_by"]) for e in made if "deferred_by" in e.values)
    line = (
        f"Nudges due {len(made)}: sent {decided['sent']}, withheld {decided['withheld']}, "
        f"dropped {decided['dropped']}"
    )
    if waited:
        line += "; waited for " + ", ".join(
            f"{reason.replace('_', ' ')} {n}" for reason, n in sorted(waited.items())
        )
    lines = [line]
    if decided["withheld"]:
        lines += describe(effect(made))
    return lines


def day_strip(
    minutes: Sequence[MinuteMetrics], *, width: int = 96, zone: tzinfo | None = None
) -> Group:
    """A one-line picture of the day: one block per few minutes, coloured by main posture."""
    if not minutes:
        return Group(Text("(no data)"))
    ordered = sorted(minutes, key=lambda m: m.start_s)
    t0, t1 = ordered[0].start_s, ordered[-1].start_s + 60.0
    per_block = max(60.0, (t1 - t0) / width)
    strip = Text()
    i = 0
    t = t0
    while t < t1:
        totals: dict[Posture, int] = {}
        while i < len(ordered) and ordered[i].start_s < t + per_block:
            for posture, seconds in ordered[i].posture_s.items():
                totals[posture] = totals.get(posture, 0) + seconds
            i += 1
        main = max(totals, key=lambda k: totals[k]) if totals else Posture.UNKNOWN
        strip.append("█", style=COLOURS[main])
        t += per_block
    start = datetime.fromtimestamp(t0, zone).strftime("%H:%M") if t0 > 1e8 else f"{t0:.0f} s"
    end = datetime.fromtimestamp(t1, zone).strftime("%H:%M") if t0 > 1e8 else f"{t1:.0f} s"
    legend = Text("  ")
    for posture, colour in COLOURS.items():
        legend.append("█ ", style=colour).append(f"{posture.value}  ")
    return Group(Text(f"{start} … {end}, {per_block / 60:.0f} min per block"), strip, legend)
