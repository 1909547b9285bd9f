"""`posture nudges effect`: whether nudges work, from the decision points in InfluxDB."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from rich.markup import escape
from rich.table import Table

from analytics.effect import Effect
from dashboards.queries import MIN_GROUP_SIZE
from posture.app import ConfigOption, VerboseOption, app, console, err_console, fail, settings

nudges_app = typer.Typer(help="Nudges: whether they work.", no_args_is_help=True)
app.add_typer(nudges_app, name="nudges")

MIN_GROUP_HELP = "Fewest wearers a team's numbers must come from (privacy)."


@nudges_app.command()
def effect(  # noqa: PLR0917 (typer passes options by name)
    wearer: Annotated[str | None, typer.Option("--wearer", "-w", help="One wearer.")] = None,
    team: Annotated[str | None, typer.Option("--team", "-t", help="One team.")] = None,
    since: Annotated[
        str | None,
        typer.Option("--from", help="First day (YYYY-MM-DD, or a time); 30 days ago by default."),
    ] = None,
    until: Annotated[
        str | None,
        typer.Option("--to", help="Last day (YYYY-MM-DD, included, or a time); today by default."),
    ] = None,
    reason: Annotated[
        str, typer.Option(help="Which nudges: sitting (movement breaks), standing or slouch.")
    ] = "sitting",
    tz: Annotated[
        str | None,
        typer.Option(help="Time zone of the days, e.g. Europe/Berlin; local by default."),
    ] = None,
    min_group_size: Annotated[int, typer.Option(min=1, help=MIN_GROUP_HELP)] = MIN_GROUP_SIZE,
    _config: ConfigOption = None,
    _verbose: VerboseOption = 0,
) -> None:
    """Break rates after sent and after withheld nudges, with 95 % intervals (from InfluxDB).

    Needs `\\[analytics.nudges] withhold_probability` above 0 while the data were recorded: the
    withheld moments are the comparison.
    """
    from analytics.effect import describe
    from analytics.effect import effect as measure
    from analytics.wire import check_id
    from dashboards.influx import InfluxClient, InfluxError
    from dashboards.readback import decisions
    from posture.zones import ZoneError, local_zone, zone

    if wearer is not None and team is not None:
        raise fail("give --wearer or --team, not both", code=2)
    if reason not in ("sitting", "standing", "slouch"):
        raise fail(f"--reason must be sitting, standing or slouch, got {reason!r}", code=2)
    try:
        for value, what in ((wearer, "wearer id"), (team, "team")):
            if value is not None:
                check_id(value, what=what)
        zone_info = zone(tz) if tz else local_zone()
        now = datetime.now(zone_info)
        end = _moment(until, zone_info, end_of_day=True) if until else now
        start = _moment(since, zone_info) if since else end - timedelta(days=30)
    except (ValueError, ZoneError) as err:
        raise fail(str(err), code=2) from None
    if end <= start:
        raise fail("--to must come after --from", code=2)
    influx = InfluxClient(settings().influx)
    try:
        with err_console.status("reading the decision points"):
            events = decisions(
                influx,
                wearer_id=wearer,
                team=team,
                start_s=start.timestamp(),
                end_s=end.timestamp(),
            )
    except InfluxError as err:
        raise fail(str(err)) from None
    finally:
        influx.close()
    measured = measure(events, reason=reason)
    who = f"wearer {wearer}" if wearer else f"team {team}" if team else "all wearers"
    span = f"{start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} ({zone_info.key})"
    group = min_group_size
    if wearer is None and measured.wearers < group:
        raise fail(
            f"{who}: decision points of {measured.wearers} wearer(s) from {span}; a group's "
            f"numbers are shown from {group} wearers on"
        )
    if not (measured.sent.decisions or measured.withheld.decisions):
        raise fail(f"{who}: no {reason} nudge decision points from {span}")
    console.print(_table(measured, title=f"Nudge effect, {who}, {span}"))
    for line in describe(measured):
        console.print(escape(line), highlight=False)


def _moment(text: str, zone_info: ZoneInfo, *, end_of_day: bool = False) -> datetime:
    """A day (its start, or with `end_of_day` the next midnight) or a time, in `zone_info`."""
    try:
        if len(text) == 10:
            day = datetime.fromisoformat(text).date()
            start = datetime.combine(day, time(0), tzinfo=zone_info)
            return start + timedelta(days=1) if end_of_day else start
        when = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text[:40]!r} is not a day (YYYY-MM-DD) or a time") from None
    return when if when.tzinfo else when.replace(tzinfo=zone_info)


def _table(measured: Effect, *, title: str) -> Table:
    from dashboards.words import duration

    table = Table(title=escape(title), title_justify="left")
    for column in ("nudge", "decision points", "breaks", "rate", "95 % interval", "mean break"):
        table.add_column(column, justify="left" if column == "nudge" else "right")
    for name, rate in (("sent", measured.sent), ("withheld", measured.withheld)):
        lo, hi = rate.interval
        table.add_row(
            name,
            str(rate.decisions),
            str(rate.breaks),
            f"{rate.rate:.0%}" if rate.rate is not None else "-",
            f"{lo:.0%} to {hi:.0%}" if rate.decisions else "-",
            duration(rate.mean_break_s) if rate.mean_break_s is not None else "-",
        )
    if measured.difference is not None and measured.interval is not None:
        lo, hi = measured.interval
        table.add_row(
            "difference", "", "", f"{measured.difference:+.0%}", f"{lo:+.0%} to {hi:+.0%}", ""
        )
    return table
