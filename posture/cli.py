"""The `posture` command line: a thin shell that loads settings and wires the packages together.

Exit codes: 0 success, 1 a failure at run time (bad trace, unreachable server), 2 a usage or
configuration error (reported before anything connects).
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from analytics.contract import check_id
from analytics.records import Placement

from .settings import ConfigError, Settings, load_settings

app = typer.Typer(
    help="Wearable posture and sitting-time monitor: gateway, analytics, recorder and reports.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
console = Console()
err_console = Console(stderr=True)


class _State:
    settings: Settings | None = None


def fail(message: str, *, code: int = 1) -> typer.Exit:
    """Print a one-line error and return the exit to raise."""
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


@app.callback()
def main(
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            "-c",
            help="TOML configuration file (see posture.example.toml).",
            envvar="POSTURE_CONFIG",
        ),
    ] = None,
    verbose: Annotated[
        int, typer.Option("--verbose", "-v", count=True, help="More logging (-vv for debug).")
    ] = 0,
) -> None:
    """Load the configuration once, before any command runs."""
    level = (logging.WARNING, logging.INFO, logging.DEBUG)[min(verbose, 2)]
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        _State.settings = load_settings(config)
    except ConfigError as err:
        raise fail(str(err), code=2) from None


def settings() -> Settings:
    assert _State.settings is not None
    return _State.settings


@app.command()
def analyze(
    trace: Annotated[Path, typer.Argument(help="Trace CSV with columns t_s, ax, ay, az (g).")],
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
    epochs: Annotated[
        Path | None, typer.Option(help="Write one row per second: t_s,posture,flexion_deg.")
    ] = None,
    events: Annotated[
        Path | None, typer.Option(help="Write the events, one JSON object per line.")
    ] = None,
) -> None:
    """Analyse a recorded trace offline (no servers) and print the summary."""
    from analytics.offline import analyze as run_analysis

    from .analysis import load_traces, write_epochs, write_events
    from .render import day_strip, summary_table

    if thigh is not None and placement is Placement.THIGH:
        raise fail("--thigh needs TRACE to be the trunk sensor (--placement trunk)", code=2)
    named = (
        {placement: trace} if thigh is None else {Placement.TRUNK: trace, Placement.THIGH: thigh}
    )
    traces, notes = load_traces(named)
    if isinstance(traces, str):
        raise fail(traces)
    for note in notes:
        err_console.print(f"[yellow]note:[/] {note}")
    analysis = run_analysis(traces, params=settings().analytics, calibrate_first_s=calibrate_first)
    try:
        if epochs is not None:
            write_epochs(epochs, analysis.output.timeline)
        if events is not None:
            write_events(events, analysis.output.events)
    except OSError as err:
        raise fail(f"{err.filename}: {err.strerror}") from None
    title = " + ".join(f"{path.name} ({p.value})" for p, path in named.items())
    console.print(summary_table(analysis.summary, title=title))
    console.print(day_strip(analysis.output.minutes))


@app.command()
def demo(
    trace: Annotated[
        list[Path] | None,
        typer.Option(
            "--trace", "-t", help="Replay this recording instead of the simulated day (repeatable)."
        ),
    ] = None,
    hours: Annotated[
        float, typer.Option(min=0.1, max=24, help="Length of the simulated day.")
    ] = 8.5,
    seed: Annotated[int, typer.Option(help="Seed of the simulated day.")] = 1234,
    speed: Annotated[
        float, typer.Option(min=0, help="Multiple of real time; 0 = as fast as possible.")
    ] = 0.0,
    external: Annotated[
        bool,
        typer.Option(
            "--external", help="Use the configured broker and InfluxDB instead of private ones."
        ),
    ] = False,
) -> None:
    """Run the whole pipeline with no hardware and print the summary read back from InfluxDB."""
    from dashboards.influx import InfluxError
    from sensor_gateway.traces import TraceError

    from .demo import run_demo
    from .mqtt import BrokerError
    from .servers import ServerError

    try:
        code = run_demo(
            settings(),
            trace_paths=trace or [],
            hours=hours,
            seed=seed,
            speed=speed,
            external=external,
            console=console,
        )
    except (TraceError, BrokerError, InfluxError, ServerError) as err:
        raise fail(str(err)) from None
    except OSError as err:
        raise fail(f"{err.filename or ''}: {err.strerror or err}") from None
    raise typer.Exit(code)


@app.command()
def notify(
    wearer: Annotated[str, typer.Option("--wearer", "-w", help="The wearer's pseudonym.")],
    terminal: Annotated[
        bool, typer.Option("--terminal", help="Show nudges in this terminal only.")
    ] = False,
) -> None:
    """Show a wearer's nudges as desktop notifications (or in the terminal) as they arrive."""
    import asyncio

    from analytics.contract import check_id

    from .mqtt import BrokerError
    from .notify import pick_notifier, show_nudges

    try:
        check_id(wearer, what="wearer id")
    except ValueError as err:
        raise fail(str(err), code=2) from None

    async def run() -> None:
        notifier = await pick_notifier(console, terminal_only=terminal)
        console.print(f"showing nudges for {wearer} via {notifier.name}; Ctrl-C to stop")
        try:
            await show_nudges(settings().mqtt, wearer, notifier)
        finally:
            notifier.close()

    try:
        asyncio.run(run())
    except BrokerError as err:
        raise fail(str(err)) from None
    except KeyboardInterrupt:
        raise typer.Exit(0) from None


@app.command()
def report(  # noqa: PLR0917 (typer passes options by name)
    trace: Annotated[
        Path | None, typer.Argument(help="Trace CSV to analyse offline (t_s, ax, ay, az in g).")
    ] = None,
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
) -> None:
    """Write a self-contained HTML daily report, from a trace (offline) or from InfluxDB."""
    from dashboards.influx import InfluxClient, InfluxError
    from dashboards.report import NoData, from_influx, from_trace, write
    from sensor_gateway.traces import TraceError, read_trace

    from .zones import ZoneError, local_zone, zone

    if (trace is None) == (wearer is None):
        raise fail("give either a trace file or --wearer (with --day)", code=2)
    try:
        if trace is not None:
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
    console.print(f"wrote {out}")


if __name__ == "__main__":
    app()
