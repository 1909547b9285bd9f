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

from analytics.contract import Command, check_id
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
    if verbose < 2:  # Bumble's emulated controllers warn about every packet in flight at shutdown
        logging.getLogger("bumble").setLevel(logging.ERROR)
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
def recorder(
    client_id: Annotated[
        str | None,
        typer.Option(help="MQTT client id: the persistent session. One per running recorder."),
    ] = None,
    share_group: Annotated[
        str | None,
        typer.Option(help="Share one subscription with the group's other recorders (scale out)."),
    ] = None,
) -> None:
    """Record MQTT events, metrics and device reports into InfluxDB until Ctrl-C or SIGTERM."""
    import signal
    import ssl

    from pydantic import ValidationError

    from dashboards.influx import InfluxClient
    from dashboards.recorder import Recorder

    from .mqtt import BrokerError
    from .settings import RecorderSettings

    s = settings()
    changes = {"client_id": client_id, "share_group": share_group}
    try:
        chosen = RecorderSettings.model_validate(
            s.recorder.model_dump() | {k: v for k, v in changes.items() if v is not None}
        )
        influx = InfluxClient(s.influx)
    except ValidationError as err:
        raise fail(f"invalid option: {err.errors()[0]['msg']}", code=2) from None
    except (ConfigError, ValueError) as err:
        raise fail(str(err), code=2) from None
    if logging.getLogger().level > logging.INFO:  # lifecycle and health lines by default
        logging.getLogger("dashboards.recorder").setLevel(logging.INFO)
    service = Recorder(s.mqtt, influx, chosen)
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda _signum, _frame: service.stop())
    try:
        stats = service.run()
    except ConfigError as err:
        raise fail(str(err), code=2) from None
    except BrokerError as err:
        raise fail(str(err)) from None
    except (OSError, ssl.SSLError) as err:  # a CA, certificate or key file that cannot be read
        raise fail(f"mqtt TLS files: {err.strerror or err}", code=2) from None
    finally:
        influx.close()
    console.print(
        f"recorder stopped: received {stats.received}, wrote {stats.written_messages}, "
        f"rejected {stats.rejected}, write retries {stats.write_retries}"
    )


@app.command()
def demo(  # noqa: PLR0917 (typer passes options by name)
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
        float,
        typer.Option(min=0, help="Multiple of real time; 0 = chosen to finish in about a minute."),
    ] = 0.0,
    external: Annotated[
        bool,
        typer.Option(
            "--external", help="Use the configured broker and InfluxDB instead of private ones."
        ),
    ] = False,
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Directory for the wearers' HTML reports.")
    ] = Path("demo-reports"),
) -> None:
    """The whole product with no hardware: virtual sensors, gateway, recorder, InfluxDB, reports."""
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
            speed=speed or None,
            external=external,
            out_dir=out,
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


@app.command()
def decode(
    payloads: Annotated[list[str], typer.Argument(help="Notification payloads in hex.")],
    profile: Annotated[
        str, typer.Option("--profile", "-p", help="Sensor profile (microbit, thingy52, ...).")
    ],
) -> None:
    """Decode notification payloads; print one sample per line as x y z in g."""
    from sensor_gateway.decoding import DecodeFailure, decode_hex

    try:
        for x, y, z in decode_hex(profile, payloads):
            console.print(f"{x:.4f} {y:.4f} {z:.4f}", highlight=False)
    except DecodeFailure as err:
        raise fail(str(err)) from None


VirtualOption = Annotated[
    list[str] | None,
    typer.Option(
        "--virtual",
        help="Use a virtual sensor streaming a trace instead of hardware: PROFILE=TRACE.csv "
        "(repeatable).",
    ),
]
SpeedOption = Annotated[
    float, typer.Option(min=0.01, max=1000, help="Virtual sensors: multiple of real time.")
]


def _specs(virtual: list[str] | None) -> list[object]:
    from sensor_gateway.runner import VirtualSpecError, parse_virtual

    try:
        return [parse_virtual(v) for v in virtual or []]
    except VirtualSpecError as err:
        raise fail(str(err), code=2) from None


def _run_radio(coroutine: object) -> object:
    """Run a BLE coroutine; link and trace failures become one-line errors."""
    import asyncio

    from bleak.exc import BleakError

    from sensor_gateway.traces import TraceError

    from .mqtt import BrokerError

    try:
        return asyncio.run(coroutine)  # type: ignore[arg-type]
    except (TraceError, BrokerError) as err:
        raise fail(str(err)) from None
    except (BleakError, OSError, EOFError) as err:
        reason = err or type(err).__name__
        raise fail(
            f"Bluetooth is not available ({reason}); is BlueZ running? "
            "--virtual PROFILE=TRACE.csv works without an adapter"
        ) from None


@app.command()
def scan(
    seconds: Annotated[float, typer.Option(min=0.5, help="How long to listen.")] = 5.0,
    virtual: VirtualOption = None,
) -> None:
    """List the supported sensors advertising nearby: profile, address, name, RSSI."""
    from rich.table import Table

    from sensor_gateway.runner import open_radio
    from sensor_gateway.scanning import Sighting, discover

    specs = _specs(virtual)

    async def main() -> list[Sighting]:
        async with open_radio(settings(), specs) as (radio, _timebase, _sensors):  # type: ignore[arg-type]
            return await discover(radio, seconds=seconds)

    found: list[Sighting] = _run_radio(main())  # type: ignore[assignment]
    table = Table(box=None, padding=(0, 2))
    for column in ("profile", "address", "name", "rssi"):
        table.add_column(column)
    for s in found:
        profile = s.profile.name if s.profile else "?"
        table.add_row(profile, s.device.address, s.name or "", f"{s.rssi_dbm} dBm")
    console.print(table)
    if not found:
        err_console.print("no supported sensors found")


@app.command()
def record(  # noqa: PLR0917 (typer maps parameters to options)
    out: Annotated[Path, typer.Argument(help="Trace CSV to write (t_s, ax, ay, az).")],
    address: Annotated[str | None, typer.Option(help="Sensor address or advertised name.")] = None,
    profile: Annotated[str | None, typer.Option(help="Sensor profile.")] = None,
    seconds: Annotated[float, typer.Option(min=0.1, help="How long to record.")] = 60.0,
    raw: Annotated[
        Path | None, typer.Option(help="Also write every notification (receive time, hex).")
    ] = None,
    virtual: VirtualOption = None,
    speed: SpeedOption = 1.0,
) -> None:
    """Record one sensor into a trace CSV (and optionally its raw notifications)."""
    from sensor_gateway.connection import SensorLink
    from sensor_gateway.profiles import get_profile
    from sensor_gateway.recording import RecordingResult
    from sensor_gateway.recording import record as record_link
    from sensor_gateway.runner import link_settings, open_radio
    from sensor_gateway.scanning import Finder

    specs = _specs(virtual)
    if address is None and not specs:
        raise fail("give --address (and --profile) or --virtual PROFILE=TRACE", code=2)

    async def main() -> RecordingResult:
        gateway_settings = settings().gateway
        async with open_radio(settings(), specs, speed=speed) as (radio, timebase, sensors):  # type: ignore[arg-type]
            target = address or sensors[0].address
            chosen = next((s.profile for s in sensors if s.address == target), None)
            try:
                sensor_profile = get_profile(profile) if profile else chosen
            except KeyError as err:
                raise fail(str(err.args[0]), code=2) from None
            if sensor_profile is None:
                raise fail(f"--profile is needed for {target}", code=2)
            link = SensorLink(
                target,
                sensor_profile,
                radio=radio,
                finder=Finder(radio),
                timebase=timebase,
                settings=link_settings(gateway_settings),
            )
            return await record_link(link, seconds=seconds, out=out, raw=raw)

    result: RecordingResult = _run_radio(main())  # type: ignore[assignment]
    console.print(
        f"recorded {result.samples} samples into {out} ({result.lost} lost, "
        f"{result.bad_packets} bad packets, {result.connects} connection(s))"
    )
    if not result.samples:
        raise typer.Exit(1)


@app.command()
def gateway(
    virtual: VirtualOption = None,
    speed: SpeedOption = 1.0,
    seconds: Annotated[
        float | None, typer.Option(min=0.1, help="Stop after this long (default: run until ^C).")
    ] = None,
) -> None:
    """Run the gateway: sensors -> edge analytics -> MQTT (events, metrics, state, health)."""
    from sensor_gateway.publisher import MqttPublisher
    from sensor_gateway.runner import open_radio, serve

    specs = _specs(virtual)
    config = settings()
    if not specs and not config.gateway.sensors:
        raise fail("no sensors configured ([[gateway.sensors]]) and no --virtual", code=2)
    publisher = MqttPublisher(
        config.mqtt, config.gateway.id, team=config.gateway.team, site=config.gateway.site
    )

    async def main() -> None:
        async with open_radio(config, specs, speed=speed) as (radio, timebase, sensors):  # type: ignore[arg-type]
            running = await serve(
                config,
                sensors,
                sink=publisher,
                health=publisher,
                radio=radio,
                timebase=timebase,
                seconds=seconds,
                publisher=publisher,
            )
        for key, stats in running.stats.items():
            console.print(
                f"{key.wearer_id}/{key.placement.value}: {stats.samples} samples, "
                f"{stats.lost} lost, {stats.reconnects} reconnect(s)",
                highlight=False,
            )

    from .mqtt import BrokerError

    try:
        publisher.start()
    except BrokerError as err:
        raise fail(str(err)) from None
    try:
        _run_radio(main())
    finally:
        publisher.close()


@app.command()
def run(
    virtual: VirtualOption = None,
    speed: SpeedOption = 1.0,
    seconds: Annotated[
        float | None, typer.Option(min=0.1, help="Stop after this long (default: run until ^C).")
    ] = None,
) -> None:
    """Gateway and recorder in one process: a single-machine deployment (use --config)."""
    from dashboards.influx import InfluxClient
    from dashboards.recorder import Recorder

    from .mqtt import BrokerError
    from .pipeline import RecorderThread

    influx = InfluxClient(settings().influx)
    recorder = RecorderThread(Recorder(settings().mqtt, influx, settings().recorder))
    try:
        recorder.start()
    except BrokerError as err:
        raise fail(str(err)) from None
    try:
        gateway(virtual=virtual, speed=speed, seconds=seconds)
    finally:
        stats = recorder.stop()
        influx.close()
        console.print(
            f"recorder: {stats.written_messages} messages written, {stats.rejected} rejected",
            highlight=False,
        )


@app.command()
def cmd(
    command: Annotated[str, typer.Argument(help="snooze, dnd, calibrate or quiet-hours.")],
    args: Annotated[
        list[str] | None,
        typer.Argument(help="snooze MINUTES | dnd on|off | quiet-hours HH:MM-HH:MM ... | none"),
    ] = None,
    wearer: Annotated[str, typer.Option("--wearer", "-w", help="The wearer's pseudonym.")] = "",
) -> None:
    """Send a wearer's command to the gateway: snooze, do-not-disturb, calibrate, quiet hours."""
    from analytics.contract import encode_command, wearer_topic

    from .mqtt import BrokerError, publish_once

    try:
        parsed = _parse_command(wearer, command, args or [])
    except ValueError as err:
        raise fail(str(err), code=2) from None
    topic = wearer_topic(settings().mqtt.topic_root, parsed.wearer_id, "cmd")
    try:
        publish_once(settings().mqtt, topic, encode_command(parsed))
    except BrokerError as err:
        raise fail(str(err)) from None
    console.print(f"sent {parsed.name} to {parsed.wearer_id}", highlight=False)


def _parse_command(wearer: str, name: str, args: list[str]) -> Command:
    """A `Command` from the command line's words; raises ValueError with a one-line reason."""
    from analytics.contract import check_id
    from analytics.params import clock_minutes

    check_id(wearer, what="wearer id (--wearer)")
    name = name.replace("-", "_")
    if name == "snooze":
        if (
            len(args) != 1
            or not args[0].replace(".", "", 1).isdigit()
            or not 1 <= float(args[0]) <= 1440
        ):
            raise ValueError("snooze takes the minutes, 1 to 1440: posture cmd snooze 30 -w W")
        return Command(wearer, name, minutes=float(args[0]))
    if name == "dnd":
        if args not in (["on"], ["off"]):
            raise ValueError("dnd takes on or off: posture cmd dnd on -w W")
        return Command(wearer, name, on=args[0] == "on")
    if name == "calibrate":
        if args:
            raise ValueError("calibrate takes no arguments")
        return Command(wearer, name)
    if name == "quiet_hours":
        spans: list[tuple[str, str]] = []
        for word in [] if args == ["none"] else args:
            start, sep, end = word.partition("-")
            clock_minutes(start), clock_minutes(end)
            if not sep:
                raise ValueError(f"quiet hours are HH:MM-HH:MM, got {word!r}")
            spans.append((start, end))
        if not args:
            raise ValueError("quiet-hours takes HH:MM-HH:MM spans, or none to clear them")
        return Command(wearer, name, spans=tuple(spans))
    raise ValueError(f"unknown command {name!r}: snooze, dnd, calibrate or quiet-hours")


if __name__ == "__main__":
    app()
