"""Commands on recorded data, offline: `analyze` and `report`; `simulate` writes the demo's
simulated day as recordings."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from analytics.records import Placement
from analytics.wire import check_id
from posture.app import ConfigOption, VerboseOption, app, console, err_console, fail, settings

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

TRACE_HELP = (
    "A recording: CSV or Parquet with columns t_s, ax, ay, az (g), or a device's own file "
    "(Axivity .cwa, GENEActiv .bin, ActiGraph .gt3x)."
)


@app.command()
def analyze(
    trace: Annotated[Path, typer.Argument(help=TRACE_HELP)],
    *,
    placement: Annotated[
        Placement, typer.Option(help="Where the sensor of TRACE was worn.")
    ] = Placement.TRUNK,
    thigh: Annotated[
        Path | None, typer.Option(help="A second trace from a thigh sensor (TRACE is the trunk).")
    ] = None,
    calibrate_first: Annotated[
        float | None,
        typer.Option(
            "--calibrate-first", min=1.0, help="Take the first S seconds as the upright reference."
        ),
    ] = None,
    thigh_mount: Annotated[
        str | None,
        typer.Option(
            "--thigh-mount",
            help='How the thigh sensor is worn: "auto" (learned from walking) or'
            ' "<axis up the thigh> <axis out of the body>", e.g. "+x -z" (docs/mounting.md).',
        ),
    ] = None,
    epochs: Annotated[
        Path | None,
        typer.Option(
            help="Write one row per second:"
            " t_s,posture,flexion_deg,lateral_deg,slouch_deg,slouched."
        ),
    ] = None,
    events: Annotated[
        Path | None, typer.Option(help="Write the events, one JSON object per line.")
    ] = None,
    context: Annotated[
        Path | None,
        typer.Option(
            help="Busy intervals (CSV start_s,end_s,kind on the trace's time axis): "
            "nudges wait for their end."
        ),
    ] = None,
    _config: ConfigOption = None,
    _verbose: VerboseOption = 0,
) -> None:
    """Analyse a recorded trace offline (no servers) and print the summary."""
    from analytics.offline import analyze as run_analysis
    from posture.analysis import (
        ContextFileError,
        load_traces,
        read_contexts,
        write_epochs,
        write_events,
    )
    from posture.render import day_strip, decision_lines, summary_table

    if thigh is not None and placement is Placement.THIGH:
        raise fail("--thigh needs TRACE to be the trunk sensor (--placement trunk)", code=2)
    params = settings().analytics
    if thigh_mount is not None:
        try:
            params = replace(params, mounting=replace(params.mounting, thigh=thigh_mount))
        except ValueError as err:
            raise fail(f"--thigh-mount: {err}", code=2) from None
    named = (
        {placement: trace} if thigh is None else {Placement.TRUNK: trace, Placement.THIGH: thigh}
    )
    with err_console.status(f"reading {escape(' and '.join(p.name for p in named.values()))}"):
        traces, notes = load_traces(named)
    if isinstance(traces, str):
        raise fail(traces)
    for note in notes:
        err_console.print(f"[yellow]note:[/] {escape(note)}")
    try:
        busy = read_contexts(context) if context is not None else []
    except ContextFileError as err:
        raise fail(str(err)) from None
    except OSError as err:
        raise fail(f"{err.filename}: {err.strerror}") from None
    with err_console.status("analysing"):
        analysis = run_analysis(
            traces, params=params, calibrate_first_s=calibrate_first, contexts=busy
        )
    try:
        if epochs is not None:
            write_epochs(epochs, analysis.output.timeline)
        if events is not None:
            write_events(events, analysis.output.events)
    except OSError as err:
        raise fail(f"{err.filename}: {err.strerror}") from None
    title = " + ".join(f"{path.name} ({p.value})" for p, path in named.items())
    console.print(summary_table(analysis.summary, title=title))
    for line in decision_lines(analysis.output.events):
        console.print(escape(line), highlight=False)
    console.print(day_strip(analysis.output.minutes))


@app.command()
def report(  # noqa: PLR0917 (typer passes options by name)
    trace: Annotated[Path | None, typer.Argument(help=TRACE_HELP)] = None,
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Where to write the HTML report.")
    ] = Path("report.html"),
    placement: Annotated[
        Placement, typer.Option(help="Where the trace's sensor was worn.")
    ] = Placement.TRUNK,
    wearer: Annotated[
        str | None,
        typer.Option(help="Instead of a trace: this wearer's day from the configured InfluxDB."),
    ] = None,
    day: Annotated[
        str | None, typer.Option(help="The day to report (YYYY-MM-DD); today by default.")
    ] = None,
    tz: Annotated[
        str | None, typer.Option(help="Time zone of the day, e.g. Europe/Berlin; local by default.")
    ] = None,
    _config: ConfigOption = None,
    _verbose: VerboseOption = 0,
) -> None:
    """Write a self-contained HTML daily report, from a trace (offline) or from InfluxDB."""
    from dashboards.influx import InfluxClient, InfluxError
    from dashboards.report import NoData, from_influx, from_trace, write
    from posture.zones import ZoneError, local_zone, zone
    from sensor_gateway.traces import TraceError, read_trace

    if (trace is None) == (wearer is None):
        raise fail("give either a trace file or --wearer (with --day)", code=2)
    try:
        if trace is not None:
            with err_console.status(f"reading and analysing {escape(trace.name)}"):
                loaded, _notes = read_trace(trace)
                report_day = from_trace(
                    loaded, name=trace.name, placement=placement, params=settings().analytics
                )
        else:
            assert wearer is not None
            check_id(wearer, what="wearer id")
            zone_info = zone(tz) if tz else local_zone()
            when = date.fromisoformat(day) if day else datetime.now(zone_info).date()
            influx = InfluxClient(settings().influx)
            try:
                report_day = from_influx(
                    influx,
                    wearer,
                    when,
                    tz=zone_info,
                    prolonged_s=settings().analytics.bouts.prolonged_s,
                )
            finally:
                influx.close()
        write(report_day, out)
    except (ZoneError, ValueError) as err:
        if isinstance(err, TraceError | NoData):
            raise fail(str(err)) from None
        raise fail(str(err), code=2) from None
    except InfluxError as err:
        raise fail(str(err)) from None
    except OSError as err:
        raise fail(f"{err.filename or ''}: {err.strerror or err}") from None
    console.print(f"wrote {escape(str(out))}")


@app.command()
def simulate(
    *,
    seed: Annotated[
        int, typer.Option(help="Seed of the simulated day (as `posture demo`).")
    ] = 1234,
    hours: Annotated[
        float, typer.Option(min=0.1, max=24, help="Length of the simulated day.")
    ] = 8.5,
    start: Annotated[
        str | None,
        typer.Option(
            help="When the day begins: YYYY-MM-DDTHH:MM (in the configured time zone unless an"
            " offset is given), or YYYY-MM-DD for 08:00 that day; 08:00 today by default."
        ),
    ] = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="Directory for the trace files.")] = Path(
        "simulated-day"
    ),
    _config: ConfigOption = None,
    _verbose: VerboseOption = 0,
) -> None:
    """Write the simulated office day that `posture demo` streams, one trace CSV per wearer and
    placement (w01-trunk.csv, ...): the very samples the demo's virtual sensors send."""
    from zoneinfo import ZoneInfo

    from dashboards.words import duration
    from posture.demo import demo_sensors
    from sensor_gateway.traces import TIME_RANGE_S, write_trace

    zone = ZoneInfo(settings().analytics.nudges.timezone)
    try:
        start_s = _day_start(start, zone)
    except ValueError as err:
        raise fail(f"--start: {err}", code=2) from None
    if not TIME_RANGE_S[0] <= start_s <= TIME_RANGE_S[1] - hours * 3600.0:
        raise fail("--start: the day must lie between 1970 and 2100", code=2)
    with err_console.status(f"simulating {duration(hours * 3600.0)} of an office day"):
        sensors = demo_sensors([], hours=hours, seed=seed, start_s=start_s, console=err_console)
    try:
        out.mkdir(parents=True, exist_ok=True)
        for s in sensors:
            path = out / f"{s.key.wearer_id}-{s.key.placement.value}.csv"
            with err_console.status(f"writing {escape(str(path))}"):
                write_trace(path, s.trace)
            console.print(
                f"wrote {escape(str(path))}: {len(s.trace):,} samples ({s.profile} in the demo)",
                highlight=False,
            )
    except OSError as err:
        raise fail(f"{err.filename or out}: {err.strerror or err}") from None
    first = datetime.fromtimestamp(start_s, zone)
    console.print(f"the day begins {first:%Y-%m-%d %H:%M} {zone.key} (seed {seed}); analyse with")
    trunk, thigh = (escape(str(out / f"w01-{p}.csv")) for p in ("trunk", "thigh"))
    console.print(f"  posture analyze {trunk} --thigh {thigh}", highlight=False)


def _day_start(text: str | None, zone: ZoneInfo) -> float:
    """Unix seconds of `--start` (see `simulate`); raises `ValueError` for text that is neither."""
    from posture.demo import day_start

    if text is None:
        return day_start(zone)
    try:
        if len(text) == 10:
            return day_start(zone, date.fromisoformat(text))
        when = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text[:40]!r} is not YYYY-MM-DDTHH:MM or YYYY-MM-DD") from None
    return (when if when.tzinfo else when.replace(tzinfo=zone)).timestamp()
