"""The services and the whole product on one machine: `recorder`, `run`, `demo`, and `health`."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer

from posture.app import ConfigOption, VerboseOption, app, console, fail, settings
from posture.commands.sensors import (
    SecondsOption,
    SpeedOption,
    VirtualOption,
    http_port,
    run_gateway,
)
from transport.settings import ConfigError


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
    _config: ConfigOption = None,
    _verbose: VerboseOption = 0,
) -> None:
    """Record MQTT events, metrics and device reports into InfluxDB until Ctrl-C or SIGTERM."""
    import signal
    import ssl

    from pydantic import ValidationError

    from dashboards.influx import InfluxClient
    from dashboards.recorder import Recorder
    from dashboards.settings import RecorderSettings
    from posture.exporter import recorder_part
    from transport.mqtt import BrokerError

    s = settings()
    changes = {"client_id": client_id, "share_group": share_group}
    try:
        chosen = RecorderSettings.model_validate(
            s.recorder.model_dump() | {k: v for k, v in changes.items() if v is not None}
        )
        influx = InfluxClient(s.influx)
        service = Recorder(s.recorder_mqtt(), influx, chosen)
    except ValidationError as err:
        raise fail(f"invalid option: {err.errors()[0]['msg']}", code=2) from None
    except (ConfigError, ValueError) as err:
        raise fail(str(err), code=2) from None
    if logging.getLogger().level > logging.INFO:  # lifecycle and health lines by default
        logging.getLogger("dashboards.recorder").setLevel(logging.INFO)
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda _signum, _frame: service.stop())
    try:
        with http_port() as port:
            if port is not None:
                port.add(recorder_part(service, influx, stale_after_s=s.http.stale_after_s))
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
def run(
    virtual: VirtualOption = None,
    speed: SpeedOption = 1.0,
    seconds: SecondsOption = None,
    _config: ConfigOption = None,
    _verbose: VerboseOption = 0,
) -> None:
    """Gateway and recorder in one process: a single-machine deployment (use --config)."""
    from dashboards.influx import InfluxClient
    from dashboards.recorder import Recorder, RecorderThread
    from posture.exporter import recorder_part
    from transport.mqtt import BrokerError

    s = settings()
    if s.mqtt.username is not None and s.recorder_mqtt().username == s.mqtt.username:
        raise fail(
            f"gateway and recorder would both log in as {s.mqtt.username!r}; a broker that binds "
            "client ids to usernames (the shipped one) lets only one of them stay connected: "
            "set [recorder] username and password_file",
            code=2,
        )
    influx = InfluxClient(s.influx)
    try:
        service = Recorder(s.recorder_mqtt(), influx, s.recorder)
    except ValueError as err:
        raise fail(str(err), code=2) from None
    recorder = RecorderThread(service)
    try:
        recorder.start()
    except BrokerError as err:
        raise fail(str(err)) from None
    try:
        with http_port() as port:  # one port for both: /healthz is healthy when both are
            if port is not None:
                port.add(recorder_part(service, influx, stale_after_s=s.http.stale_after_s))
            run_gateway(virtual, speed=speed, seconds=seconds, port=port)
    finally:
        stats = recorder.stop()
        influx.close()
        console.print(
            f"recorder: {stats.written_messages} messages written, {stats.rejected} rejected",
            highlight=False,
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
    _config: ConfigOption = None,
    _verbose: VerboseOption = 0,
) -> None:
    """The whole product with no hardware: virtual sensors, gateway, recorder, InfluxDB, reports."""
    from dashboards.influx import InfluxError
    from posture.demo import run_demo
    from posture.testing.servers import ServerError
    from sensor_gateway.traces import TraceError
    from transport.mqtt import BrokerError

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
def health(
    recorder_ids: Annotated[
        list[str] | None,
        typer.Option("--recorder", help="A recorder id that must be healthy (repeatable)."),
    ] = None,
    gateway_ids: Annotated[
        list[str] | None,
        typer.Option("--gateway", help="A gateway id that must be healthy (repeatable)."),
    ] = None,
    max_age: Annotated[
        float,
        typer.Option(min=1, help="A report older than this many seconds is stale."),
    ] = 180.0,
    wait: Annotated[
        float, typer.Option(min=0.1, max=60, help="Seconds to listen for retained reports.")
    ] = 2.0,
    _config: ConfigOption = None,
    _verbose: VerboseOption = 0,
) -> None:
    """Judge every recorder and gateway by its retained reports; exit 1 if one is stale,
    offline or (asked for by name) missing."""
    import time

    from posture.health import collect, judge
    from transport.mqtt import BrokerError

    try:
        reports = collect(settings().mqtt, wait_s=wait)
    except BrokerError as err:
        raise fail(str(err)) from None
    verdicts = judge(
        reports,
        now_s=time.time(),
        max_age_s=max_age,
        expected={"recorder": recorder_ids or [], "gateway": gateway_ids or []},
    )
    if not verdicts:
        raise fail("no recorder or gateway has left a report on this broker")
    for v in verdicts:
        mark = "[green]ok[/]" if v.healthy else "[bold red]FAIL[/]"
        console.print(f"{mark} {v.kind} {v.name}: {v.reason}", highlight=False)
    if not all(v.healthy for v in verdicts):
        raise typer.Exit(1)
