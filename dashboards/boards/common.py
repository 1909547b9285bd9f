"""What the provisioned dashboards share: variables, styles and the privacy note."""

from __future__ import annotations

from analytics.records import Posture
from dashboards.boards.panels import Json, Panel, custom_variable, link, query_variable

TIME_ZONES = (
    "UTC",
    "Europe/London",
    "Europe/Berlin",
    "Europe/Madrid",
    "Europe/Helsinki",
    "America/New_York",
    "America/Chicago",
    "America/Los_Angeles",
    "Asia/Tokyo",
    "Australia/Sydney",
)
COLOURS = {
    Posture.SITTING: "red",
    Posture.STANDING: "green",
    Posture.WALKING: "dark-green",
    Posture.LYING: "blue",
    Posture.NOT_WORN: "text",
    Posture.UNKNOWN: "transparent",
}
WORN = ("sitting", "standing", "walking", "lying")
FOLDERS = {"posture": "Posture", "individual": "Posture - individual (restricted)"}

BARS = {"drawStyle": "bars", "fillOpacity": 70, "lineWidth": 1, "showPoints": "never"}
STACKED_BARS = {**BARS, "stacking": {"mode": "normal", "group": "A"}}
POINTS = {"drawStyle": "points", "pointSize": 8, "showPoints": "always"}


# In every dashboard's header: the others, keeping the time range and the chosen team and site.
LINKS = (
    link(
        "Posture dashboards",
        tags=["posture"],
        tooltip="Team overview, nudge effectiveness, wearer drill-down and fleet health",
    ),
)


def thresholds(*steps: tuple[str, float | None]) -> Json:
    return {
        "thresholds": {
            "mode": "absolute",
            "steps": [{"color": c, "value": v} for c, v in steps],
        }
    }


TRUNK_BANDS = thresholds(("green", None), ("orange", 20), ("red", 60))


def by_name(name: str, **properties: object) -> Json:
    return {
        "matcher": {"id": "byName", "options": name},
        "properties": [{"id": k, "value": v} for k, v in properties.items()],
    }


def colour(name: str, colour: str) -> Json:
    return by_name(name, color={"mode": "fixed", "fixedColor": colour})


def team_vars(*, wearer: bool = False) -> list[Json]:
    """Team and site (multi-select, "All" matches wearers without them too), the wearer if
    asked for, and the time zone of calendar days."""
    variables = [
        query_variable("team", "Team", 'SHOW TAG VALUES FROM "minute" WITH KEY = "team"'),
        query_variable(
            "site",
            "Site",
            'SHOW TAG VALUES FROM "minute" WITH KEY = "site" WHERE "team" =~ /^$team$/',
        ),
    ]
    if wearer:
        variables.append(
            query_variable(
                "wearer",
                "Wearer",
                'SHOW TAG VALUES FROM "minute" WITH KEY = "wearer" '
                'WHERE "team" =~ /^$team$/ AND "site" =~ /^$site$/',
                multi=False,
                all_value=None,
            )
        )
    return [*variables, custom_variable("tz", "Days in time zone", TIME_ZONES)]


def gate_note(min_group: int) -> Panel:
    return Panel(
        "How to read this dashboard",
        "text",
        description="Why a panel can be blank: the minimum group size, and what days are.",
        width=24,
        height=3,
        options={
            "mode": "markdown",
            "content": (
                f"Every number here is an average over **at least {min_group} wearers**; "
                f"a team, day or hour with fewer wearers is not shown at all (InfluxDB does "
                f"not return it). Days are calendar days in the selected time zone. "
                f"Wearers are pseudonymous; no panel shows one person."
            ),
        },
    )
