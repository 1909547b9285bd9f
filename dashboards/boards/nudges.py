"""Nudge effectiveness: how often movement-break and slouch nudges are followed, per team, and
(with `withhold_probability` above 0) how often a break follows sent nudges against withheld
ones, which is their effect."""

from __future__ import annotations

from dashboards.boards.panels import Json, Panel, dashboard, target
from dashboards.queries import MIN_GROUP_SIZE, Gate, gated, kind, per_wearer, wilson

from .common import BARS, LINKS, by_name, gate_note, team_vars


def _reason(reason: str) -> str:
    return f"\"reason\" = '{reason}'"


def nudge_effectiveness(min_group: int = MIN_GROUP_SIZE) -> Json:
    nudge, outcome = kind("nudge"), kind("nudge_outcome")
    reasons = (("sitting", "movement break"), ("slouch", "slouch"))

    def per_day(reason: str) -> str:
        return gated(
            [per_wearer('count("reason") AS s', "event", nudge, _reason(reason))],
            [("mean(s)", "nudges")],
            Gate("s", min_group),
        )

    def response_rate(reason: str, every: str | None) -> str:
        # `response_s` is there exactly when a response followed (analytics.contract)
        return gated(
            [
                per_wearer(
                    'count("response_s") AS r, count("end_s") AS s',
                    "event",
                    outcome,
                    _reason(reason),
                    every=every,
                )
            ],
            [("sum(r) * 1.0 / sum(s)", "response_rate")],
            Gate("s", min_group),
            every=every,
        )

    def response_time(reason: str) -> str:
        return gated(
            [
                per_wearer(
                    'sum("response_s") AS t, count("response_s") AS s',
                    "event",
                    outcome,
                    _reason(reason),
                    '"responded" = true',
                    every=None,
                )
            ],
            [("sum(t) / 60.0 / sum(s)", "response_min")],
            Gate("s", min_group),
            every=None,
        )

    def after(decision: str) -> str:
        # `response_s` is there exactly when a break followed (analytics.nudges)
        lower, upper = wilson("sum(r)", "sum(s)")
        return gated(
            [
                per_wearer(
                    'count("response_s") AS r, count("end_s") AS s',
                    "event",
                    kind("nudge_decision"),
                    _reason("sitting"),
                    f"\"decision\" = '{decision}'",
                    every=None,
                )
            ],
            [
                ("sum(r) * 1.0 / sum(s)", "rate"),
                (lower, "lower"),
                (upper, "upper"),
                ("sum(s)", "decisions"),
            ],
            Gate("s", min_group),
            every=None,
        )

    panels = [
        gate_note(min_group),
        Panel(
            "Break after sent and withheld nudges",
            "table",
            [
                target(after(d), ref, alias=f"$tag_team {d}", table=True)
                for d, ref in (("sent", "A"), ("withheld", "B"))
            ],
            description=(
                "Share of movement-break decision points followed by a break within the "
                "response window, when the nudge was sent and when it was withheld at random "
                "(withhold_probability): the difference is the nudges' effect. Lower and upper "
                f"are the 95 % (Wilson) interval. At least {min_group} wearers per row."
            ),
            unit="none",  # the counts; the rates have theirs below
            width=24,
            height=6,
            overrides=[
                by_name(name, unit="percentunit", decimals=0) for name in ("rate", "lower", "upper")
            ],
        ),
        Panel(
            "Nudges per wearer and day",
            "timeseries",
            [
                target(per_day(r), ref, alias=f"$tag_team {label}")
                for (r, label), ref in zip(reasons, "AB", strict=True)
            ],
            description=(
                f"Nudges per wearer who was nudged that day, by reason; at least {min_group} "
                "wearers per point."
            ),
            unit="none",
            custom=BARS,
        ),
        Panel(
            "Nudges followed by a response",
            "timeseries",
            [
                target(response_rate(r, "1d"), ref, alias=f"$tag_team {label}")
                for (r, label), ref in zip(reasons, "AB", strict=True)
            ],
            description=(
                "Share of nudges followed within the response window by a break (movement "
                f"nudges) or by sitting upright again (slouch nudges). At least {min_group} "
                "wearers per point."
            ),
            unit="percentunit",
            defaults={"min": 0, "max": 1},
            custom=BARS,
        ),
        Panel(
            "Response rate over the range",
            "bargauge",
            [
                target(response_rate(r, None), ref, alias=f"$tag_team {label}", table=True)
                for (r, label), ref in zip(reasons, "AB", strict=True)
            ],
            description=(
                "Share of the nudges over the whole time range that a response followed, per team "
                f"of at least {min_group} wearers."
            ),
            unit="percentunit",
            defaults={"min": 0, "max": 1},
            options={"orientation": "horizontal", "displayMode": "basic"},
        ),
        Panel(
            "Time to respond",
            "bargauge",
            [
                target(response_time(r), ref, alias=f"$tag_team {label}", table=True)
                for (r, label), ref in zip(reasons, "AB", strict=True)
            ],
            description="Mean minutes from a nudge to the response, for nudges that had one.",
            unit="m",
            options={"orientation": "horizontal", "displayMode": "basic"},
        ),
    ]
    return dashboard(
        "posture-nudges",
        "Posture - nudge effectiveness",
        panels,
        team_vars(),
        description="Whether movement-break and slouch nudges are followed (aggregates only).",
        tags=["posture", "team", "nudges"],
        links=LINKS,
        time_from="now-30d",
    )
