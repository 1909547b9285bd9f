"""`posture demo`: the whole product on this machine, with no hardware.

Private mosquitto and influxd start in a temporary directory on free ports (unless `--external`
uses the configured ones); the recorder runs as its own process (`posture recorder`); virtual
sensors of several profiles stream a simulated office day (or the recordings given), in their
profiles' byte formats and accelerated, over Bumble's virtual link into the real gateway with
its edge analytics; the live view shows each wearer's posture, sitting bout, trunk flexion and
nudges; at the end each wearer's day is read back from InfluxDB, summarised and written as an
HTML report. Everything started is stopped again, also on errors and Ctrl-C.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from rich.console import Console, Group
from rich.live import Live
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from analytics.records import Event, Placement, Trace
from analytics.summary import DaySummary, summarise
from dashboards import (
    InfluxClient,
    InfluxSettings,
    NoData,
    duration,
    from_influx,
    wearer_records,
    write_report,
)
from sensor_gateway import (
    Gateway,
    HomeAssistantSettings,
    MqttPublisher,
    Nudge,
    PacedTimeBase,
    Radio,
    SensorAssignment,
    SensorKey,
    VirtualRadio,
    VirtualSensor,
    get_profile,
    open_publisher,
    read_trace,
    serve,
    simulate_day,
)
from transport.settings import MqttSettings

from .demo_channels import Channels
from .fidelity import SensorCount, check, offline_summaries
from .render import day_strip, summary_table
from .settings import Settings
from .testing import servers
from .testing.recorder_process import RecorderProcess

log = logging.getLogger(__name__)

# Who wears what in the simulated day: one wearer with a trunk and a thigh sensor, two trunk only.
DAY_SENSORS = (
    ("w01", Placement.TRUNK, "polar_h10"),
    ("w01", Placement.THIGH, "generic"),
    ("w02", Placement.TRUNK, "generic"),
    ("w03", Placement.TRUNK, "polar_h10"),
)
# Recordings take the profiles in turn; 1-sample-per-notification ones cost the most radio time.
RECORDING_PROFILES = ("microbit", "thingy52", "witmotion", "metamotion", "polar_h10", "generic")
NOTIFICATIONS_PER_S = 2500.0  # what the virtual radio carries comfortably on this kind of machine
STREAM_S = 75.0  # aim: the data stream in about this long
QUIET_HOURS = ("12:00", "13:00")  # one wearer asks for a quiet lunch hour on its command topic


@dataclass(frozen=True, slots=True)
class Endpoints:
    mqtt: MqttSettings
    influx: InfluxSettings


@dataclass(frozen=True, slots=True)
class DemoSensor:
    key: SensorKey
    profile: str
    trace: Trace

    @property
    def per_notification(self) -> int:
        return {"polar_h10": 39, "generic": 40}.get(self.profile, 1)

    def device(self) -> VirtualSensor:
        """The virtual sensor that streams this trace (a buffer of 2000 samples)."""
        per = self.per_notification
        return VirtualSensor(
            self.profile,
            self.trace,
            fifo_samples=2000,
            samples_per_notification=per if per > 1 else None,
        )


@contextlib.contextmanager
def private_servers(workdir: Path, settings: Settings) -> Iterator[Endpoints]:
    """mosquitto and influxd of our own in `workdir`; stopped on exit."""
    broker = servers.mosquitto(workdir / "mosquitto")
    try:
        influxd = servers.influxd(workdir / "influxdb")
        try:
            yield endpoints(settings, broker, influxd)
        finally:
            influxd.stop()
    finally:
        broker.stop()


def endpoints(settings: Settings, broker: servers.Mosquitto, influxd: servers.Influxd) -> Endpoints:
    """The settings' broker and InfluxDB sections pointed at private servers."""
    return Endpoints(
        mqtt=settings.mqtt.model_copy(
            update={"host": "127.0.0.1", "port": broker.port, "username": None, "tls": False}
        ),
        influx=settings.influx.model_copy(
            update={"url": influxd.url, "api": "v1", "token": None, "username": None}
        ),
    )


def recorder_process(at: Endpoints, settings: Settings) -> RecorderProcess:
    """`posture recorder` for the private servers, as a process of its own: a client id of its
    own and a health report twice a second (the demo follows its progress there)."""
    ours = settings.recorder.model_copy(
        update={"client_id": f"posture-demo-recorder-{os.getpid()}", "health_interval_s": 0.5}
    )
    return RecorderProcess(at.mqtt, at.influx, ours)


def day_start(zone: ZoneInfo, day: date | None = None) -> float:
    """Unix time of 08:00 on `day` (today by default) in `zone`: where the simulated day (or a
    replay) begins."""
    day = day or datetime.now(zone).date()
    return datetime(day.year, day.month, day.day, 8, 0, tzinfo=zone).timestamp()


def demo_sensors(
    trace_paths: list[Path], *, hours: float, seed: int, start_s: float, console: Console
) -> list[DemoSensor]:
    """The simulated office day of DAY_SENSORS, or each recording as a trunk-only wearer."""
    if not trace_paths:
        days = {
            wearer: simulate_day(seed=seed + i, hours=hours, start_s=start_s)
            for i, wearer in enumerate(dict.fromkeys(w for w, _, _ in DAY_SENSORS))
        }
        return [
            DemoSensor(SensorKey(w, p), profile, _whole(days[w].traces[p], profile))
            for w, p, profile in DAY_SENSORS
        ]
    sensors = []
    for i, path in enumerate(trace_paths):
        trace, notes = read_trace(path)
        for note in notes:
            console.print(f"[yellow]{escape(path.name)}: {escape(note)}")
        profile = RECORDING_PROFILES[i % len(RECORDING_PROFILES)]
        trace = _whole(trace.shifted(start_s - float(trace.t_s[0])), profile)
        sensors.append(DemoSensor(SensorKey(f"w{i + 1:02d}", Placement.TRUNK), profile, trace))
    return sensors


def _whole(trace: Trace, profile: str) -> Trace:
    """`trace` cut to whole notifications of `profile`: a sensor sends nothing less."""
    per = DemoSensor(SensorKey("w", Placement.TRUNK), profile, trace).per_notification
    n = len(trace) - len(trace) % per
    return Trace(
        t_s=trace.t_s[:n], accel_g=trace.accel_g[:n], rate_hz=trace.rate_hz, source=trace.source
    )


def choose_speed(sensors: list[DemoSensor], requested: float | None) -> float:
    """A speed-up that streams the data in about STREAM_S within the radio's capacity."""
    if requested:
        return requested
    length = max(s.trace.duration_s for s in sensors)
    notifications = sum(s.trace.rate_hz / s.per_notification for s in sensors)
    return max(1.0, min(length / STREAM_S, NOTIFICATIONS_PER_S / notifications))


def live_table(gateway: Gateway | None, wearers: list[str], zone: ZoneInfo) -> Table:
    """One row per wearer: what the edge knows right now (released data lag a little)."""
    table = Table(box=None, padding=(0, 1))
    for column in ("wearer", "time", "posture", "sitting bout", "flexion", "sat today", "nudges"):
        table.add_column(column)
    for wearer in wearers:
        live = gateway.service.live.get(wearer) if gateway is not None else None
        state = live.state if live is not None else None
        if live is None or state is None:
            table.add_row(wearer, "-", "settling", "", "", "", "")
            continue
        bout = duration(state.t_s - state.sitting_since_s) if state.sitting_since_s else "-"
        flexion = f"{live.flexion_deg:.0f}°" if live.flexion_deg is not None else "-"
        clock = datetime.fromtimestamp(state.t_s, zone).strftime("%H:%M")
        today = duration(live.sitting_today_s)
        table.add_row(wearer, clock, state.posture.value, bout, flexion, today, str(live.nudges))
    return table


GRACE_S = 30.0  # real seconds the last notifications may take once the day is over
PACE_BATCHES = 200  # sample batches waiting for the analytics before the day's time waits
PACE_SAMPLES = 400  # ... or samples a virtual sensor could not send yet (its buffer: 2000)


def behind(gateway: Gateway, devices: dict[SensorKey, VirtualSensor], t_s: float) -> bool:
    """Is the consumer not ready for time `t_s`: the gateway still connecting, a sensor unable
    to send what would be due by then, or the analytics behind?"""
    return (
        not all(stats.connected for stats in gateway.stats.values())
        or any(device.unsent(t_s) > PACE_SAMPLES for device in devices.values())
        or gateway.analysis.backlog > PACE_BATCHES
    )


def received_all(gateway: Gateway, devices: dict[SensorKey, VirtualSensor]) -> bool:
    return all(gateway.stats[key].samples >= len(device.trace) for key, device in devices.items())


async def stream(
    settings: Settings,
    sensors: list[DemoSensor],
    publisher: MqttPublisher,
    *,
    timebase: PacedTimeBase,
    zone: ZoneInfo,
    channels: Channels,
    console: Console,
) -> tuple[Gateway, dict[SensorKey, VirtualSensor]]:
    """Virtual sensors -> real gateway -> MQTT, with a live view, until the data are through.

    The simulated day's time waits while the gateway connects its sensors and whenever its
    analytics fall behind (`PacedTimeBase`): a busy machine slows the demo down, it does not
    lose samples. Returns the gateway (with its counters) and the virtual sensors.
    """
    end_s = max(float(s.trace.t_s[-1]) for s in sensors)
    start_s = min(float(s.trace.t_s[0]) for s in sensors)
    holder: list[Gateway] = []
    devices: dict[SensorKey, VirtualSensor] = {}
    wearers = list(dict.fromkeys(s.key.wearer_id for s in sensors))
    progress = Progress(
        TextColumn("streaming"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
    )
    task = progress.add_task("stream", total=1.0)
    timebase.hold_while(lambda t_s: not holder or behind(holder[0], devices, t_s))
    await channels.start()
    async with VirtualRadio(timebase=timebase) as radio:
        assigned = []
        for s in sensors:
            virtual = radio.add(s.device())
            assigned.append(SensorAssignment(virtual.address, get_profile(s.profile), s.key))
            devices[s.key] = virtual
        running = asyncio.create_task(
            serve(
                settings,
                assigned,
                sink=publisher,
                radio=Radio.virtual(radio.adapter),
                timebase=timebase,
                publisher=publisher,
                started=holder.append,
            )
        )
        with Live(console=console, refresh_per_second=4, transient=False) as live:
            commanded = False
            through = None  # real time the data were through (plus a grace for stragglers)
            while not running.done() and not (through and time.monotonic() > through):
                if through is None and timebase.now() > end_s + 2.0:
                    through = time.monotonic() + GRACE_S
                if through and holder and received_all(holder[0], devices):
                    break
                if not commanded and holder and any(s.samples for s in holder[0].stats.values()):
                    await channels.send_quiet_hours()  # once data flow: commands apply from now
                    commanded = True
                done = (timebase.now() - start_s) / (end_s - start_s)
                progress.update(task, completed=min(max(done, 0.0), 1.0))
                live.update(
                    Group(progress, live_table(holder[0] if holder else None, wearers, zone))
                )
                await asyncio.sleep(0.25)
            if holder:
                holder[0].stop()
            gateway = await running  # finishes the analytics: everything held is released
            progress.update(task, completed=1.0)
            live.update(Group(progress, live_table(gateway, wearers, zone)))
        console.print()
    await channels.stop()
    return gateway, devices


def run_demo(
    settings: Settings,
    *,
    trace_paths: list[Path],
    hours: float,
    seed: int,
    speed: float | None,
    external: bool,
    out_dir: Path,
    console: Console,
) -> int:
    """Run the demo; returns the process exit code. Raises the pipeline's one-line errors."""
    zone = ZoneInfo(settings.analytics.nudges.timezone)
    if not external:  # the private broker: show Home Assistant discovery too
        settings = settings.model_copy(
            update={"home_assistant": HomeAssistantSettings(enabled=True)}
        )
    started_at = time.monotonic()
    sensors = demo_sensors(
        trace_paths, hours=hours, seed=seed, start_s=day_start(zone), console=console
    )
    chosen = choose_speed(sensors, speed)
    total_s = max(s.trace.duration_s for s in sensors)
    origin = "a simulated office day" if not trace_paths else f"{len(trace_paths)} recording(s)"
    profiles = sorted({s.profile for s in sensors})
    console.print(
        f"[bold]posture demo[/]: {origin}, {duration(total_s)} of data from {len(sensors)} "
        f"virtual sensors ({', '.join(profiles)}), streamed {chosen:.0f}x faster than real time"
    )
    for s in sensors:
        console.print(
            f"  {s.key.wearer_id} {s.key.placement.value:5s} {s.profile}", highlight=False
        )
    with contextlib.ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="posture-demo-")))
        if settings.gateway.state_dir is None:  # the gateway's outbox, on disk
            durable = settings.gateway.model_copy(update={"state_dir": workdir / "gateway"})
            settings = settings.model_copy(update={"gateway": durable})
        if external:
            endpoints = Endpoints(mqtt=settings.mqtt, influx=settings.influx)
        else:
            with console.status("starting private mosquitto and influxd"):
                endpoints = stack.enter_context(private_servers(workdir, settings))
            console.print(
                f"private servers: mosquitto on port {endpoints.mqtt.port}, influxd on "
                f"{endpoints.influx.url}"
            )
        recorder = stack.enter_context(recorder_process(endpoints, settings))
        console.print(f"recorder running as process {recorder.pid}")
        wearers = list(dict.fromkeys(s.key.wearer_id for s in sensors))
        publisher = open_publisher(
            settings.model_copy(update={"mqtt": endpoints.mqtt}), wearers, require_broker=True
        )
        stack.callback(publisher.close)
        timebase = PacedTimeBase(
            origin_s=min(float(s.trace.t_s[0]) for s in sensors) - 2.0, speed=chosen
        )
        channels = Channels(
            endpoints.mqtt,
            notify_wearer=wearers[0],
            quiet_wearer=wearers[-1],
            quiet_hours=QUIET_HOURS,
            discovery_prefix=settings.home_assistant.prefix
            if settings.home_assistant.enabled
            else None,
        )
        gateway, devices = asyncio.run(
            stream(
                settings,
                sensors,
                publisher,
                timebase=timebase,
                zone=zone,
                channels=channels,
                console=console,
            )
        )
        with console.status("waiting for the recorder to confirm every message"):
            publisher.flush(timeout_s=180.0)  # each one in InfluxDB, as the recorder confirmed
        recordable = sum(publisher.sent[c] for c in ("event", "metric", "device", "health"))
        stats = recorder.wait_until_written(recordable, timeout_s=60.0)
        counts = [sensor_count(gateway, key, device) for key, device in devices.items()]
        received = sum(c.received for c in counts)
        console.print(
            f"gateway: {received} samples received, {sum(c.lost for c in counts)} lost; "
            f"published {publisher.published} messages; recorder wrote "
            f"{stats.written_messages}, rejected {stats.rejected}; longest radio-loop lag "
            f"{gateway.max_loop_lag_ms:.0f} ms"
        )
        shown = [
            f"{key.wearer_id} {key.placement.value} {len(device.nudges)}"
            for key, device in devices.items()
            if device.profile.nudge_writes(Nudge.SITTING)
        ]
        if shown:
            console.print(f"nudges shown on the devices that can: {', '.join(shown)}")
        influx = InfluxClient(endpoints.influx)
        stack.callback(influx.close)
        written, events, readback = report_wearers(
            influx, sensors, zone=zone, out_dir=out_dir, console=console
        )
        console.print()
        for line in channels.report(events, zone):
            console.print(line, highlight=False)
    took = time.monotonic() - started_at
    console.print(
        f"wrote {len(written)} HTML report(s) to {out_dir}/ in {took:.0f} s; "
        "every process the demo started has stopped"
    )
    return self_check(sensors, counts, readback, settings=settings, console=console)


def sensor_count(gateway: Gateway, key: SensorKey, device: VirtualSensor) -> SensorCount:
    stats = gateway.stats[key]
    refused = stats.stream.lost["queue"] + gateway.service.late_samples(key)
    return SensorCount(key.wearer_id, key.placement, len(device.trace), stats.samples, refused)


def self_check(
    sensors: list[DemoSensor],
    counts: list[SensorCount],
    readback: dict[str, DaySummary],
    *,
    settings: Settings,
    console: Console,
) -> int:
    """Compare each wearer's day in InfluxDB with the offline analysis of the same samples;
    print the differences and the RESULT line. Returns the exit code: 1 if anything was lost
    or a wearer's sitting time is more than 1 % off."""
    traces: dict[str, dict[Placement, Trace]] = {}
    for s in sensors:
        traces.setdefault(s.key.wearer_id, {})[s.key.placement] = s.trace
    with console.status("analysing the same samples offline"):
        offline = offline_summaries(traces, settings.analytics)
    result = check(counts, offline, readback)
    console.print()
    console.print("[bold]InfluxDB against the offline analysis of the same samples[/]")
    for line in result.lines():
        console.print(f"  {line}", highlight=False, markup=False)
    if not result.ok:
        console.print(
            f"[red]not faithful: {result.samples_lost} sample(s) lost, sitting time up to "
            f"{result.max_sitting_diff_pct:.2f} % off (allowed: 0 lost, "
            f"{result.tolerance_pct:g} %)"
        )
    console.print(result.result_line(), highlight=False, markup=False)
    return 0 if result.ok else 1


def report_wearers(
    influx: InfluxClient,
    sensors: list[DemoSensor],
    *,
    zone: ZoneInfo,
    out_dir: Path,
    console: Console,
) -> tuple[list[Path], dict[str, list[Event]], dict[str, DaySummary]]:
    """Summaries read back from InfluxDB, printed; one HTML report per wearer and day.

    Returns the reports written, each wearer's events as read back, and their summaries.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    start = min(float(s.trace.t_s[0]) for s in sensors) - 60.0
    end = max(float(s.trace.t_s[-1]) for s in sensors) + 60.0
    written = []
    by_wearer: dict[str, list[Event]] = {}
    summaries: dict[str, DaySummary] = {}
    for wearer in dict.fromkeys(s.key.wearer_id for s in sensors):
        events, minutes = wearer_records(influx, wearer, start_s=start, end_s=end)
        by_wearer[wearer] = events
        summaries[wearer] = summarise(events, minutes)
        console.print()
        console.print(
            summary_table(summaries[wearer], title=f"Wearer {wearer}, read back from InfluxDB")
        )
        console.print(day_strip(minutes, zone=zone))
        day = datetime.fromtimestamp(start + 60.0, zone).date()
        try:
            report = from_influx(influx, wearer, day, tz=zone)
        except NoData as err:
            console.print(f"[yellow]no report for {wearer}: {escape(str(err))}")
            continue
        path = out_dir / f"{wearer}-{day.isoformat()}.html"
        write_report(report, path)
        written.append(path)
    return written, by_wearer, summaries
