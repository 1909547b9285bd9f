"""`posture demo`: the whole pipeline on this machine, with no hardware.

Private mosquitto and influxd start in a temporary directory on free ports; a simulated office
day (or the recordings given) streams through the edge analytics, MQTT and the recorder into
InfluxDB; the summary printed at the end is read back from InfluxDB.
"""

from __future__ import annotations

import contextlib
import logging
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, time
from pathlib import Path

from rich.console import Console, Group
from rich.live import Live
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from analytics.records import Placement, Trace, WearerState
from analytics.summary import summarise
from dashboards.influx import InfluxClient
from dashboards.readback import wearer_records
from sensor_gateway.service import SensorKey
from sensor_gateway.simulator import simulate_day
from sensor_gateway.traces import read_trace

from . import servers
from .pipeline import run_pipeline
from .render import day_strip, duration, summary_table
from .settings import InfluxSettings, MqttSettings, Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Endpoints:
    mqtt: MqttSettings
    influx: InfluxSettings


@contextlib.contextmanager
def private_servers(workdir: Path, settings: Settings) -> Iterator[Endpoints]:
    """mosquitto and influxd of our own in `workdir`; stopped on exit."""
    broker = servers.mosquitto(workdir / "mosquitto")
    try:
        influxd = servers.influxd(workdir / "influxdb")
        try:
            yield Endpoints(
                mqtt=settings.mqtt.model_copy(
                    update={
                        "host": "127.0.0.1",
                        "port": broker.port,
                        "username": None,
                        "tls": False,
                    }
                ),
                influx=settings.influx.model_copy(
                    update={"url": influxd.url, "api": "v1", "token": None, "username": None}
                ),
            )
        finally:
            influxd.stop()
    finally:
        broker.stop()


def anchor(day: datetime | None = None, *, at: time = time(8, 0)) -> float:
    """Unix time of `at` (local) on `day` (today by default): where a replay starts."""
    day = day or datetime.now().astimezone()
    return datetime.combine(day.date(), at, tzinfo=day.tzinfo).timestamp()


def demo_traces(
    trace_paths: list[Path], *, hours: float, seed: int, console: Console
) -> dict[SensorKey, Trace]:
    """The simulated day (trunk and thigh of wearer `w01`), or each recording as a wearer."""
    start = anchor()
    if not trace_paths:
        day = simulate_day(seed=seed, hours=hours, start_s=start)
        return {SensorKey("w01", p): t for p, t in day.traces.items()}
    traces = {}
    for i, path in enumerate(trace_paths, start=1):
        trace, notes = read_trace(path)
        for note in notes:
            console.print(f"[yellow]{path.name}: {note}")
        traces[SensorKey(f"w{i:02d}", Placement.TRUNK)] = trace.shifted(start - float(trace.t_s[0]))
    return traces


def _live_table(states: Mapping[str, WearerState | None]) -> Table:
    table = Table(box=None, padding=(0, 2))
    for column in ("wearer", "time", "posture", "sitting bout", "calibrated"):
        table.add_column(column)
    for wearer, state in sorted(states.items()):
        if state is None:
            table.add_row(wearer, "-", "waiting for data", "", "")
            continue
        bout = (
            duration(state.t_s - state.sitting_since_s)
            if state.sitting_since_s is not None
            else "-"
        )
        clock = datetime.fromtimestamp(state.t_s).strftime("%H:%M")
        table.add_row(
            wearer, clock, state.posture.value, bout, "yes" if state.calibrated else "not yet"
        )
    return table


def run_demo(
    settings: Settings,
    *,
    trace_paths: list[Path],
    hours: float,
    seed: int,
    speed: float,
    external: bool,
    console: Console,
) -> int:
    """Run the demo; returns the process exit code."""
    traces = demo_traces(trace_paths, hours=hours, seed=seed, console=console)
    total_s = max(t.duration_s for t in traces.values())
    console.print(
        f"[bold]posture demo[/]: {len(traces)} sensor stream(s), {duration(total_s)} of data "
        f"from {'the simulated office day' if not trace_paths else 'the recordings'}"
    )
    with contextlib.ExitStack() as stack:
        if external:
            endpoints = Endpoints(mqtt=settings.mqtt, influx=settings.influx)
        else:
            workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="posture-demo-")))
            with console.status("starting private mosquitto and influxd"):
                endpoints = stack.enter_context(private_servers(workdir, settings))
            console.print(
                f"private servers: mosquitto on port {endpoints.mqtt.port}, "
                f"influxd on {endpoints.influx.url}"
            )
        influx = InfluxClient(endpoints.influx)
        stack.callback(influx.close)
        progress = Progress(
            TextColumn("streaming"),
            BarColumn(),
            TextColumn("{task.percentage:>3.0f}%"),
            TimeElapsedColumn(),
        )
        task = progress.add_task("stream", total=1.0)
        states: dict[str, WearerState | None] = {}
        with Live(
            Group(progress, _live_table(states)), console=console, refresh_per_second=8
        ) as live:

            def update(fraction: float, now: Mapping[str, WearerState | None]) -> None:
                progress.update(task, completed=fraction)
                live.update(Group(progress, _live_table(now)))

            run = run_pipeline(
                traces,
                mqtt=endpoints.mqtt,
                influx=influx,
                recorder_settings=settings.recorder,
                gateway_id=settings.gateway.id,
                team=settings.gateway.team,
                site=settings.gateway.site,
                params=settings.analytics,
                speed=speed,
                progress=update,
            )
        console.print(
            f"gateway published {run.published} messages; recorder wrote "
            f"{run.recorder.written_points} points, rejected {run.recorder.rejected}"
        )
        wearers = sorted({k.wearer_id for k in traces})
        start = min(float(t.t_s[0]) for t in traces.values()) - 60.0
        end = max(float(t.t_s[-1]) for t in traces.values()) + 60.0
        for wearer in wearers:
            events, minutes = wearer_records(influx, wearer, start_s=start, end_s=end)
            summary = summarise(events, minutes)
            console.print()
            console.print(summary_table(summary, title=f"Wearer {wearer}, read back from InfluxDB"))
            console.print(day_strip(minutes))
    return 0
