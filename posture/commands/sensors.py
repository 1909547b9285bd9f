"""Commands about sensors and the gateway: `decode`, `scan`, `record` and `gateway`."""

from __future__ import annotations

from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from posture.app import ConfigOption, VerboseOption, app, console, err_console, fail, settings

if TYPE_CHECKING:
    from posture.exporter import HealthPort
    from sensor_gateway.runner import VirtualSpec

T = TypeVar("T")


@app.command()
def decode(
    payloads: Annotated[list[str], typer.Argument(help="Notification payloads in hex.")],
    profile: Annotated[
        str, typer.Option("--profile", "-p", help="Sensor profile (microbit, thingy52, ...).")
    ],
    _config: ConfigOption = None,
    _verbose: VerboseOption = 0,
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
SecondsOption = Annotated[
    float | None, typer.Option(min=0.1, help="Stop after this long (default: run until ^C).")
]


def _specs(virtual: list[str] | None) -> list[VirtualSpec]:
    from sensor_gateway.runner import VirtualSpecError, parse_virtual

    try:
        return [parse_virtual(v) for v in virtual or []]
    except VirtualSpecError as err:
        raise fail(str(err), code=2) from None


def _run_radio(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a BLE coroutine; link and trace failures become one-line errors."""
    import asyncio
    import sqlite3

    from bleak.exc import BleakError

    from sensor_gateway.traces import TraceError
    from transport.mqtt import BrokerError

    try:
        return asyncio.run(coroutine)
    except (TraceError, BrokerError) as err:
        raise fail(str(err)) from None
    except sqlite3.Error as err:  # the gateway's outbox
        raise fail(f"the outbox in [gateway] state_dir cannot be used: {err}") from None
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
    _config: ConfigOption = None,
    _verbose: VerboseOption = 0,
) -> None:
    """List the supported sensors advertising nearby: profile, address, name, RSSI."""
    from rich.table import Table

    from sensor_gateway.runner import open_radio
    from sensor_gateway.scanning import Sighting, discover

    specs = _specs(virtual)

    async def main() -> list[Sighting]:
        async with open_radio(settings(), specs) as (radio, _timebase, _sensors):
            return await discover(radio, seconds=seconds)

    found: list[Sighting] = _run_radio(main())
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
    _config: ConfigOption = None,
    _verbose: VerboseOption = 0,
) -> None:
    """Record one sensor into a trace CSV (and optionally its raw notifications)."""
    from sensor_gateway.connection import SensorLink
    from sensor_gateway.profiles import get_profile
    from sensor_gateway.recording import RecordingResult
    from sensor_gateway.recording import record as record_link
    from sensor_gateway.runner import link_settings, open_radio
    from sensor_gateway.scanning import Finder, discover

    specs = _specs(virtual)
    if address is None and not specs:
        raise fail("give --address (and --profile) or --virtual PROFILE=TRACE", code=2)

    async def main() -> RecordingResult:
        gateway_settings = settings().gateway
        async with open_radio(settings(), specs, speed=speed) as (radio, timebase, sensors):
            if not specs:  # a real adapter: fail now if there is none, not after `seconds`
                await discover(radio, seconds=0.1)
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

    result: RecordingResult = _run_radio(main())
    console.print(
        f"recorded {result.samples} samples into {out} ({result.lost} lost, "
        f"{result.bad_packets} bad packets, {result.connects} connection(s))",
        markup=False,
    )
    if not result.samples:
        raise typer.Exit(1)


@app.command()
def gateway(
    virtual: VirtualOption = None,
    speed: SpeedOption = 1.0,
    seconds: SecondsOption = None,
    _config: ConfigOption = None,
    _verbose: VerboseOption = 0,
) -> None:
    """Run the gateway: sensors -> edge analytics -> MQTT (events, metrics, state, health)."""
    with http_port() as port:
        run_gateway(virtual, speed=speed, seconds=seconds, port=port)


@contextmanager
def http_port() -> Iterator[HealthPort | None]:
    """The started `[http]` port (/healthz, /metrics) if one is configured, stopped at the end."""
    http = settings().http
    if http.port is None:
        yield None
        return
    from posture.exporter import HealthPort

    port = HealthPort(http.host, http.port)
    try:
        port.start()
    except OSError as err:
        raise fail(f"http port {http.host}:{http.port}: {err.strerror or err}", code=2) from None
    try:
        yield port
    finally:
        port.stop()


def run_gateway(
    virtual: list[str] | None, *, speed: float, seconds: float | None, port: HealthPort | None
) -> None:
    """The gateway until stopped; its /healthz and /metrics on `port` if there is one."""
    import asyncio

    from posture.exporter import GatewayView
    from sensor_gateway.runner import open_publisher, open_radio, serve, wearers_of

    specs = _specs(virtual)
    config = settings()
    if not specs and not config.gateway.sensors:
        raise fail("no sensors configured ([[gateway.sensors]]) and no --virtual", code=2)

    async def main() -> None:
        async with open_radio(config, specs, speed=speed) as (radio, timebase, sensors):
            publisher = await asyncio.to_thread(open_publisher, config, wearers_of(sensors))
            view = GatewayView(publisher, stale_after_s=config.http.stale_after_s)
            if port is not None:
                port.add(view.part())
            try:
                running = await serve(
                    config,
                    sensors,
                    sink=publisher,
                    radio=radio,
                    timebase=timebase,
                    seconds=seconds,
                    publisher=publisher,
                    started=view.attach,
                )
            finally:
                depth = await asyncio.to_thread(publisher.close)
        for key, stats in running.stats.items():
            console.print(
                f"{key.wearer_id}/{key.placement.value}: {stats.samples} samples, "
                f"{stats.lost} lost, {stats.reconnects} reconnect(s)",
                highlight=False,
            )
        if depth.messages:
            kept = "kept for the next start" if config.gateway.state_dir else "lost (no state_dir)"
            console.print(
                f"outbox: {depth.messages} message(s) not yet confirmed by a recorder, {kept}",
                highlight=False,
            )

    _run_radio(main())
