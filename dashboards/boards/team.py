"""Team overview: sitting, breaks, posture and trunk exposure, over groups of wearers only."""

from __future__ import annotations

from dashboards.boards.panels import Json, Panel, dashboard, target
from dashboards.queries import MIN_GROUP_SIZE, Gate, gated, hour_of_day, kind, per_wearer

from .common import BARS, LINKS, TRUNK_BANDS, gate_note, team_vars


def team_overview(min_group: int = MIN_GROUP_SIZE) -> Json:
    g = Gate("s", min_group)
    bouts = kind("sitting_bout")
    per_day_h = "Averages per wearer and day; each point covers at least {} wearers."
    panels = [
        gate_note(min_group),
        Panel(
            "Sitting per wearer and day",
            "timeseries",
            [
                target(
                    gated(
                        [per_wearer('sum("sitting_s") / 3600.0 AS s', "minute")],
                        [("mean(s)", "sitting_h")],
                        g,
                    )
                )
            ],
            description=per_day_h.format(min_group),
            unit="h",
            custom=BARS,
        ),
        Panel(
            "Upright per wearer and day",
            "timeseries",
            [
                target(
                    gated(
                        [
                            per_wearer(
                                '(sum("standing_s") + sum("walking_s")) / 3600.0 AS s', "minute"
                            )
                        ],
                        [("mean(s)", "upright_h")],
                        g,
                    )
                )
            ],
            description="Standing and walking. " + per_day_h.format(min_group),
            unit="h",
            custom=BARS,
        ),
        Panel(
            "Prolonged sitting bouts per wearer and day",
            "timeseries",
            [
                target(
                    gated(
                        [
                            per_wearer(
                                'count("duration_s") AS p', "event", bouts, '"prolonged" = true'
                            ),
                            per_wearer('count("sitting_s") AS s', "event", bouts),
                        ],
                        [("sum(p) * 1.0 / count(s)", "prolonged")],
                        g,
                    )
                )
            ],
            description=(
                "Sitting bouts of 30 min or more (the analytics' prolonged rule), per wearer who "
                f"sat that day. Each point covers at least {min_group} wearers."
            ),
            unit="none",
            custom=BARS,
        ),
        Panel(
            "Breaks per sitting hour",
            "timeseries",
            [
                target(
                    gated(
                        [
                            per_wearer(
                                'count("duration_s") AS b', "event", bouts, "\"ended_by\" = 'break'"
                            ),
                            per_wearer('sum("sitting_s") AS s', "event", bouts),
                        ],
                        [("sum(b) * 3600.0 / sum(s)", "breaks_per_h")],
                        g,
                    )
                )
            ],
            description=(
                "Sitting bouts ended by standing or walking for at least the break minimum, per "
                f"hour of sitting, over the team. Each point covers at least {min_group} wearers."
            ),
            unit="suffix: per h",
            custom=BARS,
        ),
        Panel(
            "Slouched share of sitting",
            "timeseries",
            [
                target(
                    gated(
                        [per_wearer('sum("slouch_s") AS sl, sum("sitting_s") AS s', "minute")],
                        [("sum(sl) * 1.0 / sum(s)", "slouch_share")],
                        g,
                    )
                )
            ],
            description=(
                "Time slouched (forward flexion past the threshold, held) as a share of sitting "
                f"time, over the team. Each point covers at least {min_group} wearers."
            ),
            unit="percentunit",
            custom=BARS,
        ),
        Panel(
            "Trunk inclination bands",
            "bargauge",
            [
                target(
                    gated(
                        [
                            per_wearer(
                                'sum("band_0_20_s") AS b1, sum("band_20_60_s") AS b2, '
                                'sum("band_60_s") AS b3',
                                "minute",
                                every=None,
                            )
                        ],
                        [
                            ("sum(b1) * 1.0 / (sum(b1) + sum(b2) + sum(b3))", "band_0_20"),
                            ("sum(b2) * 1.0 / (sum(b1) + sum(b2) + sum(b3))", "band_20_60"),
                            ("sum(b3) * 1.0 / (sum(b1) + sum(b2) + sum(b3))", "band_over_60"),
                        ],
                        Gate("b1", min_group),
                        every=None,
                    ),
                    table=True,
                )
            ],
            description=(
                "Share of sitting, standing and walking time with the trunk inclined 0-20, "
                "20-60 and more than 60 degrees (ISO 11226 / EN 1005-4), over the whole range, "
                f"per team of at least {min_group} wearers."
            ),
            unit="percentunit",
            options={
                "orientation": "horizontal",
                "displayMode": "basic",
                "reduceOptions": {"calcs": ["lastNotNull"], "fields": "/band/", "values": True},
            },
            defaults={"min": 0, "max": 1, **TRUNK_BANDS},
        ),
        Panel(
            "Sitting by hour of day",
            "heatmap",
            [
                target(hour_of_day(h, min_group=min_group), f"H{h:02d}", alias=str(h))
                for h in range(24)
            ],
            description=(
                "Minutes of sitting per wearer in each hour of each day (rows: hour of day in "
                f"the selected time zone). Hours with fewer than {min_group} wearers are blank."
            ),
            unit="m",
            width=24,
            height=10,
            options={
                "calculate": False,
                "rowsFrame": {"layout": "ge"},
                "yAxis": {"axisPlacement": "left", "axisLabel": "hour of day", "decimals": 0},
                "cellValues": {"unit": "m", "decimals": 0},
                "color": {"mode": "scheme", "scheme": "Oranges", "steps": 64, "min": 0, "max": 60},
                "legend": {"show": True},
                "tooltip": {"mode": "single", "yHistogram": False},
            },
        ),
    ]
    return dashboard(
        "posture-team",
        "Posture - team overview",
        panels,
        team_vars(),
        description="Team sitting, breaks, posture and trunk exposure (aggregates only).",
        tags=["posture", "team"],
        links=LINKS,
        time_from="now-30d",
    )
