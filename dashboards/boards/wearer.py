"""Wearer drill-down: one pseudonymous wearer's posture, trunk, bouts, nudges and wear time.

Provisioned into its own folder so that access can be limited to occupational-health staff.
"""

from __future__ import annotations

from analytics.records import Posture
from dashboards.boards.panels import Json, Panel, dashboard, target
from dashboards.queries import WEARER, kind, merge, select

from .common import (
    BARS,
    COLOURS,
    LINKS,
    STACKED_BARS,
    TRUNK_BANDS,
    WORN,
    by_name,
    colour,
    team_vars,
    thresholds,
)

LATERAL_SERIES = "bent_sideways_over_10"


def _wearer(
    columns: str,
    measurement: str,
    *conditions: str,
    every: str | None = None,
    fill: str | None = None,
    tz: bool = False,
) -> str:
    """A query over the selected wearer's points."""
    return select(
        columns,
        f'"{measurement}"',
        conditions=[WEARER, *conditions],
        every=every,
        fill=fill,
        tz=tz,
    )


def _stat(
    title: str, query: str, description: str, *, unit: str, no_value: str = "", width: int = 3
) -> Panel:
    defaults: Json = {"decimals": 1}
    if no_value:
        defaults["noValue"] = no_value
    return Panel(
        title,
        "stat",
        [target(query)],
        description=description,
        width=width,
        height=4,
        unit=unit,
        defaults=defaults,
        options={"reduceOptions": {"calcs": ["lastNotNull"]}, "colorMode": "none"},
    )


def wearer_drilldown() -> Json:
    bouts = kind("sitting_bout")
    worn = " + ".join(f'sum("{p}_s")' for p in WORN)
    stats = [
        _stat(
            "Sitting",
            _wearer('sum("sitting_s") / 3600.0 AS sitting_h', "minute"),
            "Hours of sitting in the time range.",
            unit="h",
        ),
        _stat(
            "Upright",
            _wearer('(sum("standing_s") + sum("walking_s")) / 3600.0 AS upright_h', "minute"),
            "Hours of standing and walking in the time range.",
            unit="h",
        ),
        _stat(
            "Worn",
            _wearer(f"({worn}) / 3600.0 AS worn_h", "minute"),
            "Hours with the sensor on the body (not-worn and unknown time left out).",
            unit="h",
        ),
        _stat(
            "Longest sitting bout",
            _wearer('max("duration_s") / 60.0 AS longest_min', "event", bouts),
            "Minutes of the longest sitting bout that started in the time range.",
            unit="m",
            no_value="0",
        ),
        _stat(
            "Prolonged bouts",
            _wearer('count("duration_s") AS prolonged', "event", bouts, '"prolonged" = true'),
            "Sitting bouts of 30 min or more (the prolonged-sitting rule).",
            unit="none",
            no_value="0",
        ),
        _stat(
            "Breaks per sitting hour",
            select(
                "sum(b) * 3600.0 / sum(s) AS breaks_per_h",
                merge(
                    _wearer('count("duration_s") AS b', "event", bouts, "\"ended_by\" = 'break'"),
                    _wearer('sum("sitting_s") AS s', "event", bouts),
                ),
                fill="0",  # no breaks is 0, not missing
            ),
            "Sitting bouts ended by a break (standing or walking for the break minimum), per "
            "hour of sitting.",
            unit="suffix: per h",
            no_value="0",
        ),
        _stat(
            "Slouched share of sitting",
            _wearer('sum("slouch_s") * 1.0 / sum("sitting_s") AS slouch_share', "minute"),
            "Time slouched (forward flexion past the threshold, held) as a share of sitting.",
            unit="percentunit",
        ),
        _stat(
            "Nudges answered",
            # `response_s` is there exactly when a response followed (analytics.contract)
            _wearer(
                'count("response_s") * 1.0 / count("end_s") AS response_rate',
                "event",
                kind("nudge_outcome"),
                fill="0",  # none answered is 0, not missing
            ),
            "Share of nudges followed by a response (a break, or sitting upright again).",
            unit="percentunit",
        ),
    ]
    postures = ", ".join(f'sum("{p.value}_s") / 60.0 AS {p.value}' for p in Posture)
    panels = [
        *stats,
        Panel(
            "Posture timeline",
            "timeseries",
            [target(_wearer(postures, "minute", every="$__interval", fill="none"))],
            description="Minutes in each posture per interval; gaps are times without data.",
            width=24,
            unit="m",
            custom=STACKED_BARS,
            overrides=[colour(p.value, c) for p, c in COLOURS.items()],
        ),
        Panel(
            "Trunk flexion",
            "timeseries",
            [
                target(
                    _wearer(
                        'mean("flexion_mean_deg") AS mean_deg, max("flexion_max_deg") AS max_deg',
                        "minute",
                        every="$__interval",
                        fill="none",
                    )
                )
            ],
            description="Forward trunk flexion from the calibrated upright, with the 20 and "
            "60 degree bands of ISO 11226 / EN 1005-4.",
            unit="degree",
            defaults=TRUNK_BANDS,
            custom={"thresholdsStyle": {"mode": "line+area"}, "fillOpacity": 0, "spanNulls": False},
        ),
        Panel(
            "Time in trunk inclination bands",
            "timeseries",
            [
                target(
                    _wearer(
                        'sum("band_0_20_s") / 60.0 AS band_0_20, sum("band_20_60_s") / 60.0 AS '
                        'band_20_60, sum("band_60_s") / 60.0 AS band_over_60',
                        "minute",
                        every="$__interval",
                        fill="none",
                    )
                )
            ],
            description="Minutes per interval with the trunk inclined 0-20, 20-60 and more than "
            "60 degrees (ISO 11226 / EN 1005-4).",
            unit="m",
            custom=STACKED_BARS,
            overrides=[
                colour("band_0_20", "green"),
                colour("band_20_60", "orange"),
                colour("band_over_60", "red"),
            ],
        ),
        Panel(
            "Sitting bouts",
            "timeseries",
            [target(_wearer('"duration_s" / 60.0 AS bout_min', "event", bouts))],
            description="Each sitting bout at its start, with the 30 min prolonged-sitting line.",
            unit="m",
            defaults=thresholds(("green", None), ("red", 30)),
            custom={**BARS, "thresholdsStyle": {"mode": "line"}},
        ),
        Panel(
            "Slouch episodes",
            "timeseries",
            [target(_wearer('"duration_s" / 60.0 AS slouch_min', "event", kind("slouch")))],
            description="Each slouch episode at its start, with its length.",
            unit="m",
            custom=BARS,
        ),
        Panel(
            "Nudges and responses",
            "table",
            [
                target(
                    _wearer('"reason", "responded", "response_s"', "event", kind("nudge_outcome")),
                    table=True,
                )
            ],
            description="Each nudge (at the time it was issued), whether a response followed "
            "and after how long.",
            unit="none",
            overrides=[by_name("response_s", unit="s")],
        ),
        Panel(
            "Wear time per day",
            "timeseries",
            [
                target(
                    _wearer(
                        f"({worn}) / 3600.0 AS worn_h", "minute", every="1d", fill="none", tz=True
                    )
                )
            ],
            description="Hours with the sensor on the body per calendar day; short days are "
            "less representative.",
            unit="h",
            defaults=thresholds(("orange", None), ("green", 4)),
            custom={**BARS, "thresholdsStyle": {"mode": "line"}},
        ),
        Panel(
            "Sideways bending",
            "timeseries",
            [
                target(
                    _wearer(
                        f'sum("lateral_s") / 60.0 AS {LATERAL_SERIES}',
                        "minute",
                        every="$__interval",
                        fill="none",
                    )
                )
            ],
            description="Minutes with the trunk bent sideways more than 10 degrees while sitting "
            "or standing: beyond the limit of ISO 11226 / EN 1005-4 for static postures.",
            unit="m",
            custom=BARS,
            overrides=[colour(LATERAL_SERIES, "orange")],
        ),
    ]
    return dashboard(
        "posture-wearer",
        "Posture - wearer drill-down",
        panels,
        team_vars(wearer=True),
        description="One pseudonymous wearer's day: posture, trunk, bouts, nudges, wear time.",
        tags=["posture", "wearer"],
        links=LINKS,
        time_from="now-24h",
    )
