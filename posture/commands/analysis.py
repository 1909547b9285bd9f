"""Commands on recorded data, offline: `analyze` and `report`."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from analytics.records import Placement
from analytics.wire import check_id
from posture.app import ConfigOption, VerboseOption, app, console, err_console, fail, settings

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
