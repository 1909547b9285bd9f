"""The daily report's plots, drawn with matplotlib and returned as inline SVG text.

Each function takes a `Day` and returns one `<svg>` element (no XML prologue), so the report is
one self-contained HTML file. Times are drawn as hours from the start of the day's data and
labelled as clock times (or as time into the recording, for an offline trace).
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any

import matplotlib as mpl
from matplotlib.axes import Axes
from matplotlib.backends.backend_svg import FigureCanvasSVG
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, MaxNLocator

from analytics.records import EXPOSURE_BANDS_DEG, Event, EventKind, Posture

if TYPE_CHECKING:
    from .report import Day

COLOURS = {
    Posture.SITTING: "#d9534f",
    Posture.STANDING: "#5cb85c",
    Posture.WALKING: "#2e7d32",
    Posture.LYING: "#337ab7",
    Posture.NOT_WORN: "#b0b0b0",
    Posture.UNKNOWN: "#e8e8e8",
}
BAND_COLOURS = ("#5cb85c", "#f0ad4e", "#d9534f")
WIDTH_IN = 9.0
STYLE: dict[Any, Any] = {
    "svg.fonttype": "none",  # text stays text: small, searchable, readable by screen readers
    "svg.hashsalt": "posture-report",  # stable element ids
    "font.family": "sans-serif",
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
}


@contextmanager
def _figure(height_in: float, rows: int = 1, **grid: object) -> Iterator[tuple[Figure, list[Axes]]]:
    with mpl.rc_context(STYLE):
        fig = Figure(figsize=(WIDTH_IN, height_in), layout="constrained")
        FigureCanvasSVG(fig)
        axes = fig.subplots(rows, 1, squeeze=False, gridspec_kw=grid or None)[:, 0]
        yield fig, list(axes)


def _svg(fig: Figure) -> str:
    buf = io.StringIO()
    with mpl.rc_context(STYLE):
        fig.savefig(buf, format="svg", metadata={"Date": None})
    text = buf.getvalue()
    return text[text.index("<svg") :]


def _hours(day: Day, t_s: float) -> float:
    return (t_s - day.start_s) / 3600.0


def _time_axis(ax: Axes, day: Day) -> None:
    ax.set_xlim(0.0, max(_hours(day, day.end_s), 1 / 60))

    def label(x: float, _pos: object) -> str:
        t = day.start_s + x * 3600.0
        if day.tz is not None:
            return datetime.fromtimestamp(t, day.tz).strftime("%H:%M")
        minutes = round(x * 60)
        return f"{minutes // 60}:{minutes % 60:02d}"

    ax.xaxis.set_major_locator(MaxNLocator(nbins=10, steps=[1, 2, 3, 6, 10]))
    ax.xaxis.set_major_formatter(FuncFormatter(label))
    ax.set_xlabel("time of day" if day.tz is not None else "time into the recording (h:mm)")


def _empty(ax: Axes, text: str) -> None:
    ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center", color="#555555")


def _spans(events: list[Event], day: Day) -> list[tuple[float, float]]:
    return [(_hours(day, e.start_s), max(e.duration_s, 1.0) / 3600.0) for e in events]


def timeline(day: Day) -> str:
    """What the wearer did through the day: one band coloured by posture, one for slouching."""
    with _figure(2.2) as (fig, (ax,)):
        bouts = day.of(EventKind.POSTURE_BOUT)
        by_posture: dict[Posture, list[Event]] = {}
        if bouts:
            for e in bouts:
                by_posture.setdefault(Posture(str(e.values.get("posture"))), []).append(e)
            spans = {p: _spans(es, day) for p, es in by_posture.items()}
        else:  # no bouts read back: colour each minute by its main posture
            spans = {}
            for m in day.minutes:
                main = max(m.posture_s, key=lambda p: m.posture_s[p])
                spans.setdefault(main, []).append((_hours(day, m.start_s), 1 / 60))
        for posture, colour in COLOURS.items():
            if spans.get(posture):
                ax.broken_barh(spans[posture], (1.0, 0.8), facecolors=colour)
        slouches = _spans(day.of(EventKind.SLOUCH), day)
        ax.broken_barh(slouches, (0.0, 0.8), facecolors="#8e44ad")
        ax.set_ylim(-0.1, 1.9)
        ax.set_yticks([0.4, 1.4], ["slouched", "posture"])
        _time_axis(ax, day)
        handles = [Patch(color=c, label=p.value.replace("_", " ")) for p, c in COLOURS.items()]
        handles.append(Patch(color="#8e44ad", label="slouched"))
        ax.legend(
            handles=handles,
            ncols=7,
            loc="upper center",
            bbox_to_anchor=(0.5, 1.35),
            frameon=False,
            fontsize=8,
        )
        return _svg(fig)


def bouts(day: Day) -> str:
    """Each sitting bout as a bar at its start, as tall as it was long, against the 30 min line."""
    limit_min = day.prolonged_s / 60.0
    with _figure(2.6) as (fig, (ax,)):
        sitting = day.of(EventKind.SITTING_BOUT)
        for e in sitting:
            minutes = e.duration_s / 60.0
            colour = "#d9534f" if e.values.get("prolonged") else "#f0ad4e"
            ax.bar(
                _hours(day, e.start_s),
                minutes,
                width=max(e.duration_s / 3600.0, 1 / 60),
                align="edge",
                color=colour,
                edgecolor="#7a2b28",
                linewidth=0.5,
            )
        top = max([limit_min * 1.25, *(e.duration_s / 60.0 * 1.1 for e in sitting)])
        ax.axhline(limit_min, color="#333333", linestyle="--", linewidth=1)
        ax.text(0.0, limit_min, f" {limit_min:.0f} min", va="bottom", ha="left", fontsize=8)
        ax.set_ylim(0, top)
        ax.set_ylabel("bout length (min)")
        _time_axis(ax, day)
        if not sitting:
            _empty(ax, "No sitting bouts in this recording")
        ax.legend(
            handles=[
                Patch(color="#f0ad4e", label="sitting bout"),
                Patch(color="#d9534f", label=f"prolonged ({limit_min:.0f} min or more)"),
            ],
            loc="upper right",
            frameon=False,
            fontsize=8,
        )
        return _svg(fig)


def flexion(day: Day) -> str:
    """Forward trunk flexion per minute over the exposure bands, and the time in each band."""
    with _figure(3.4, rows=2, height_ratios=[4, 1]) as (fig, (ax, bar)):
        for (lo, hi), colour in zip(EXPOSURE_BANDS_DEG, BAND_COLOURS, strict=True):
            ax.axhspan(lo, min(hi, 120.0), color=colour, alpha=0.18, linewidth=0)
        known = [m for m in day.minutes if m.flexion_mean_deg is not None]
        x = [_hours(day, m.start_s + 30.0) for m in known]
        ax.plot(
            x,
            [m.flexion_max_deg or 0.0 for m in known],
            color="#999999",
            linewidth=0.8,
            label="highest in the minute",
        )
        ax.plot(
            x,
            [m.flexion_mean_deg or 0.0 for m in known],
            color="#222222",
            linewidth=1.2,
            label="mean of the minute",
        )
        values = [abs(m.flexion_max_deg or 0.0) for m in known]
        ax.set_ylim(
            min([-10.0, *(m.flexion_mean_deg or 0.0 for m in known)]),
            max(90.0, *values) if values else 90.0,
        )
        ax.set_ylabel("forward flexion (°)")
        _time_axis(ax, day)
        if not known:
            _empty(ax, "No trunk angle while sitting, standing or walking")
        ax.legend(loc="upper right", frameon=False, fontsize=8)
        totals = [sum(m.band_s[i] for m in day.minutes) for i in range(3)]
        left = 0.0
        whole = sum(totals) or 1
        labels = ("0-20°", "20-60°", ">60°")
        for seconds, colour, label in zip(totals, BAND_COLOURS, labels, strict=True):
            share = seconds / whole
            bar.barh(0, share, left=left, color=colour, height=0.8)
            if share > 0.06:
                bar.text(
                    left + share / 2,
                    0,
                    f"{label}: {share:.0%}",
                    ha="center",
                    va="center",
                    fontsize=8,
                )
            left += share
        bar.set_xlim(0, 1)
        bar.set_yticks([])
        bar.set_xticks([])
        bar.set_title(
            "share of upright and sitting time in each trunk inclination band",
            fontsize=8,
            loc="left",
        )
        for side in ("left", "bottom"):
            bar.spines[side].set_visible(False)
        return _svg(fig)


def nudges(day: Day) -> str:
    """Nudges as markers over the sitting bouts, joined to the response if one followed."""
    with _figure(2.4) as (fig, (ax,)):
        ax.broken_barh(
            _spans(day.of(EventKind.SITTING_BOUT), day), (0.0, 1.0), facecolors="#f6d5d4"
        )
        outcomes = {round(o.start_s, 3): o for o in day.of(EventKind.NUDGE_OUTCOME)}
        issued = day.of(EventKind.NUDGE)
        shapes = {"sitting": "^", "slouch": "D"}
        for n in issued:
            outcome = outcomes.get(round(n.start_s, 3))
            answered = bool(outcome and outcome.values.get("responded"))
            reason = str(n.values.get("reason", "sitting"))
            x = _hours(day, n.start_s)
            y = 0.7 if reason == "slouch" else 0.35
            colour = "#2e7d32" if answered else "#c0392b"
            ax.plot([x], [y], marker=shapes.get(reason, "o"), color=colour, markersize=8)
            if answered and outcome is not None and "response_s" in outcome.values:
                end = _hours(day, n.start_s + float(outcome.values["response_s"]))
                ax.plot([x, end], [y, y], color=colour, linewidth=2)
        ax.set_ylim(0, 1.05)
        ax.set_yticks([0.35, 0.7], ["movement", "slouch"])
        _time_axis(ax, day)
        if not issued:
            _empty(ax, "No nudges were issued")
        ax.legend(
            handles=[
                Patch(color="#f6d5d4", label="sitting"),
                Patch(color="#2e7d32", label="nudge followed by a response"),
                Patch(color="#c0392b", label="nudge without a response"),
            ],
            ncols=3,
            loc="upper center",
            bbox_to_anchor=(0.5, 1.25),
            frameon=False,
            fontsize=8,
        )
        return _svg(fig)


PLOTS = {
    "timeline": ("Posture through the day", timeline),
    "bouts": ("Sitting bouts", bouts),
    "flexion": ("Trunk flexion and exposure bands", flexion),
    "nudges": ("Nudges and responses", nudges),
}
