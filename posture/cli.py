"""The `posture` command line: a thin shell that loads settings and wires the packages together.

Exit codes: 0 success, 1 a failure at run time (bad trace, unreachable server), 2 a usage or
configuration error (reported before anything connects).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

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
    placement: Annotated[
        Placement, typer.Option(help="Where the sensor was worn.")
    ] = Placement.TRUNK,
) -> None:
    """Analyse a recorded trace offline (no servers) and print the summary."""
    from analytics.offline import analyze as run_analysis
    from sensor_gateway.traces import TraceError, read_trace

    from .render import day_strip, summary_table

    try:
        loaded, notes = read_trace(trace)
    except TraceError as err:
        raise fail(str(err)) from None
    except OSError as err:
        raise fail(f"{trace}: {err.strerror}") from None
    for note in notes:
        err_console.print(f"[yellow]note:[/] {note}")
    analysis = run_analysis({placement: loaded}, params=settings().analytics)
    console.print(summary_table(analysis.summary, title=f"{trace.name} ({placement.value})"))
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


if __name__ == "__main__":
    app()
