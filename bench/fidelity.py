"""Is the live path faithful on a busy machine, and through a broker crash?

The demo's simulated office day (`posture.demo.demo_sensors`: three wearers, four sensors) streams
from virtual sensors through the real gateway (edge analytics, durable outbox) into a private
mosquitto and influxd, recorded by `posture recorder` as a process of its own, while a busy-loop
process runs on every core for the whole benchmark.

1. Speed. At increasing speed-ups the sensors stream as a real radio does: at their own pace, a
   plain `TimeBase` that waits for nobody. Each run streams `--probe-s` real seconds of the day
   (at most the whole day) and starts `CONNECT_S` real seconds before its data, for the gateway
   to connect. A sample is lost if the gateway never received it, or received it and could not
   analyse it (`posture.fidelity.SensorCount`, as the demo counts). The speeds go up until a run
   loses a sample; the highest lossless speed is the last one before.
2. Outage. The whole day at the demo's speed (or `--outage-speed`), paced as the demo paces it
   (`PacedTimeBase`: a simulated day may wait for its consumer). In the middle of the stream the
   broker is SIGKILLed and restarted `--outage-s` simulated seconds later (at the demo's speed a
   few real seconds; a lower speed makes it longer), on the same port and data directory. It
   saves its state as the shipped configuration says (deploy/mosquitto: every 60 s), so it comes
   back without what it accepted since its last save, and without the recorder's session if that
   is younger (the bench says which). Then: every sample accounted for and each wearer's day in
   InfluxDB against the offline analysis of the same samples (`posture.fidelity.check`); every
   event and minute the gateway released and every device report (a tap on its sinks) and
   gateway report it published in InfluxDB exactly once.

`max_loop_lag_ms` is the longest lag of the gateway's radio loop over the lossless runs and the
outage run; the outage run's BLE reconnects are printed (a broker outage should cause none).
The machine's load average is printed at the start and the end.

Usage: python bench/fidelity.py [--hours H] [--seed N] [--speeds 50,100,...] [--probe-s S]
                                [--outage-s S] [--outage-speed X]
Last line: RESULT max_lossless_speed=... outage_lost_samples=... outage_lost_messages=...
           outage_duplicates=... max_loop_lag_ms=... outage_max_sitting_diff_pct=...
Exit code 1 if the outage run lost or duplicated anything, or a wearer's sitting time is more
than 1 % off.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from rich.console import Console

from analytics.records import Placement, Trace
from analytics.summary import DaySummary, summarise
from dashboards.influx import InfluxClient
from dashboards.readback import wearer_records
from dashboards.schema import DEVICE, EVENT, GATEWAY, MINUTE, to_ms
from posture.demo import (
    DemoSensor,
    Endpoints,
    behind,
    choose_speed,
    day_start,
    demo_sensors,
    endpoints,
    received_all,
    recorder_process,
    sensor_count,
)
from posture.fidelity import Delivery, Fidelity, Released, check, delivery, offline_summaries
from posture.settings import Settings, load_settings
from posture.testing import servers
from sensor_gateway.gateway import Gateway, SensorAssignment
from sensor_gateway.profiles import get_profile
from sensor_gateway.publisher import MqttPublisher
from sensor_gateway.radio import Radio
from sensor_gateway.runner import open_publisher, serve
from sensor_gateway.service import SensorKey
from sensor_gateway.timebase import PacedTimeBase, TimeBase
from sensor_gateway.virtual import VirtualRadio, VirtualSensor
from transport.mqtt import BrokerError

REPO = Path(__file__).resolve().parents[1]
SHIPPED_BROKER = REPO / "deploy" / "mosquitto" / "mosquitto.conf"
SPEEDS = (10.0, 25.0, 50.0, 100.0, 200.0, 400.0, 800.0, 1600.0)
CONNECT_S = 10.0  # real seconds a speed run gives the gateway to connect before its data
GRACE_S = 30.0  # real seconds the last samples may take once the data are over
FLUSH_S = 300.0  # real seconds the recorder may take to confirm everything after a run
STOP_S = 60.0  # real seconds the gateway may take to stop (its analytics finish the day)
PROGRESS_S = 10.0  # real seconds between progress lines
QUIET = Console(quiet=True)  # demo_sensors' notes on recordings: there are none for the day


def say(text: str) -> None:
    print(text, flush=True)


def load() -> str:
    one, five, _fifteen = os.getloadavg()
    return f"load average {one:.2f} (1 min), {five:.2f} (5 min) on {os.cpu_count()} cores"


# a busy loop that ends with the benchmark, however it ends (its parent gone: it is adopted)
BUSY_LOOP = "import os\nparent = os.getppid()\nwhile os.getppid() == parent:\n    pass\n"


@contextlib.contextmanager
def busy_cores() -> Iterator[list[int]]:
    """A busy-loop process on every core until exit; yields their process ids."""
    hogs = [subprocess.Popen([sys.executable, "-c", BUSY_LOOP]) for _ in range(os.cpu_count() or 1)]
    try:
        yield [h.pid for h in hogs]
    finally:
        for hog in hogs:
            hog.kill()
            hog.wait()


def shipped_autosave_s() -> int:
    """The broker's autosave interval in the shipped configuration."""
    found = re.search(r"^autosave_interval (\d+)$", SHIPPED_BROKER.read_text(), flags=re.M)
    if found is None:
        raise SystemExit(f"no autosave_interval in {SHIPPED_BROKER}")
    return int(found.group(1))


@dataclass
class Servers:
    broker: servers.Mosquitto
    influxd: servers.Influxd
    at: Endpoints

    def stop(self) -> None:
        self.influxd.stop()
        self.broker.stop()


@contextlib.contextmanager
def private_servers(workdir: Path, settings: Settings) -> Iterator[Servers]:
    """mosquitto (saving its state as shipped) and influxd of our own; stopped on exit."""
    broker = servers.mosquitto(
        workdir / "mosquitto", extra_conf=f"autosave_interval {shipped_autosave_s()}\n"
    )
    try:
        influxd = servers.influxd(workdir / "influxdb")
    except BaseException:
        broker.stop()
        raise
    running = Servers(broker, influxd, endpoints(settings, broker, influxd))
    try:
        yield running
    finally:
        running.stop()


def gateway_settings(
    settings: Settings, at: Endpoints, *, gateway_id: str, state: Path
) -> Settings:
    """`settings` with the private servers and a gateway of its own with a durable outbox."""
    gateway = settings.gateway.model_copy(update={"id": gateway_id, "state_dir": state})
    return settings.model_copy(update={"mqtt": at.mqtt, "influx": at.influx, "gateway": gateway})


During = Callable[[float], Awaitable[None]]  # called with the stream time, about 4 times a second


async def stream(
    settings: Settings,
    sensors: list[DemoSensor],
    publisher: MqttPublisher,
    timebase: TimeBase,
    *,
    during: During | None = None,
) -> tuple[Gateway, dict[SensorKey, VirtualSensor], Released]:
    """Virtual sensors -> real gateway -> `publisher` until the data are through (as the demo
    does, without its live view); a `PacedTimeBase` waits for the gateway as the demo's does."""
    start_s = min(float(s.trace.t_s[0]) for s in sensors)
    end_s = max(float(s.trace.t_s[-1]) for s in sensors)
    holder: list[Gateway] = []
    devices: dict[SensorKey, VirtualSensor] = {}
    if isinstance(timebase, PacedTimeBase):
        timebase.hold_while(lambda t_s: not holder or behind(holder[0], devices, t_s))
    tap = Released(publisher, health=publisher)

    def started(gateway: Gateway) -> None:
        gateway.health = tap  # device reports through the tap too (before the first one)
        holder.append(gateway)

    async with VirtualRadio(timebase=timebase) as radio:
        for s in sensors:
            devices[s.key] = radio.add(s.device())
        assigned = [
            SensorAssignment(d.address, get_profile(s.profile), s.key)
            for s, d in zip(sensors, devices.values(), strict=True)
        ]
        running = asyncio.create_task(
            serve(
                settings,
                assigned,
                sink=tap,
                radio=Radio.virtual(radio.adapter),
                timebase=timebase,
                publisher=publisher,
                started=started,
            )
        )
        began, shown, through = time.monotonic(), time.monotonic(), None
        connected_at: float | None = None
        while not running.done() and not (through and time.monotonic() > through):
            now = timebase.now()
            gateway = holder[0] if holder else None
            if (
                connected_at is None
                and gateway
                and all(s.connected for s in gateway.stats.values())
            ):
                connected_at = now
                paced = isinstance(timebase, PacedTimeBase)  # it waited for them
                late = "" if paced or now < start_s else f", {now - start_s:.0f} s into the data"
                say(f"  sensors connected after {time.monotonic() - began:.1f} s{late}")
            if during is not None:
                await during(now)
            if through is None and now > end_s + 2.0:
                through = time.monotonic() + GRACE_S
            if through and gateway and received_all(gateway, devices):
                break
            if gateway and time.monotonic() - shown > PROGRESS_S:
                shown = time.monotonic()
                done = min(max((now - start_s) / (end_s - start_s), 0.0), 1.0)
                got = sum(s.samples for s in gateway.stats.values())
                say(
                    f"  {done:4.0%} of the data, {got:,} samples received, radio-loop lag up "
                    f"to {gateway.max_loop_lag_ms:.0f} ms, outbox {publisher.depth().messages}"
                )
            await asyncio.sleep(0.25)
        gateway = await stopped(running, holder[0]) if holder else await running
    return gateway, devices, tap


async def stopped(running: asyncio.Task[Gateway], gateway: Gateway) -> Gateway:
    """Stop the gateway and wait for `running` (its `serve`); a gateway that has not stopped
    `STOP_S` later is a defect, reported with the stacks of the sensor tasks still alive."""
    gateway.stop()
    done, _ = await asyncio.wait({running}, timeout=STOP_S)
    if not done:
        for task in asyncio.all_tasks():
            if task.get_name().startswith("sensor "):
                task.print_stack(file=sys.stdout)
        raise SystemExit(f"FAILED: the gateway had not stopped {STOP_S:g} s after it was asked")
    return running.result()


@dataclass(frozen=True, slots=True)
class SpeedRun:
    speed: float
    data_s: float
    lost: int
    produced: int
    overflowed: int
    max_loop_lag_ms: float


def speed_run(
    settings: Settings, at: Endpoints, *, speed: float, hours: float, seed: int, zone: ZoneInfo
) -> SpeedRun:
    """`--probe-s` of the day at `speed`, unpaced; what was lost."""
    with tempfile.TemporaryDirectory(prefix="fidelity-gateway-") as state:
        ours = gateway_settings(settings, at, gateway_id=f"speed{speed:.0f}", state=Path(state))
        sensors = demo_sensors([], hours=hours, seed=seed, start_s=day_start(zone), console=QUIET)
        start_s = min(float(s.trace.t_s[0]) for s in sensors)
        data_s = max(s.trace.duration_s for s in sensors)
        say(f"speed {speed:.0f}x, unpaced: {data_s / 60:.0f} min of the day")
        publisher = open_publisher(ours, sorted({s.key.wearer_id for s in sensors}))
        try:
            timebase = TimeBase(origin_s=start_s - CONNECT_S * speed, speed=speed)
            gateway, devices, _tap = asyncio.run(stream(ours, sensors, publisher, timebase))
            try:
                publisher.flush(timeout_s=FLUSH_S)
            except BrokerError as err:
                say(f"  the recorder did not confirm everything: {err}")
        finally:
            publisher.close()
    counts = [sensor_count(gateway, key, device) for key, device in devices.items()]
    return SpeedRun(
        speed=speed,
        data_s=data_s,
        lost=sum(c.lost for c in counts),
        produced=sum(c.produced for c in counts),
        overflowed=sum(d.overflowed for d in devices.values()),
        max_loop_lag_ms=gateway.max_loop_lag_ms,
    )


@dataclass(frozen=True, slots=True)
class OutageRun:
    fidelity: Fidelity
    deliveries: tuple[Delivery, ...]
    max_loop_lag_ms: float
    reconnects: dict[str, int]  # BLE reconnects per sensor ("w01 trunk")

    @property
    def lost_messages(self) -> int:
        return sum(d.missing for d in self.deliveries)

    @property
    def duplicates(self) -> int:
        return sum(d.duplicates for d in self.deliveries)


def device_points(influx: InfluxClient) -> list[tuple[str, str, int]]:
    """(gateway, sensor, milliseconds) of every device report in InfluxDB."""
    rows = influx.query('SELECT "connected" FROM "device" GROUP BY "gateway", "sensor"')
    return [(r["gateway"], r["sensor"], round(r["time"] * 1000.0)) for r in rows]


def gateway_points(influx: InfluxClient) -> int:
    rows = influx.query('SELECT count("loop_lag_ms") FROM "gateway"')
    return sum(int(r["count"]) for r in rows)


def counted(kind: str, sent: int, stored: int) -> Delivery:
    """The gateway's own reports, by count (a handful, minutes apart)."""
    return Delivery(kind, sent, max(0, sent - stored), 0, max(0, stored - sent))


def read_back(
    influx: InfluxClient, wearer_ids: list[str], tap: Released, *, health_sent: int
) -> tuple[dict[str, DaySummary], tuple[Delivery, ...]]:
    """Each wearer's day as InfluxDB holds it, and what became of each kind of record."""
    readback: dict[str, DaySummary] = {}
    stored_events, stored_minutes = [], []
    for wearer in wearer_ids:
        events, minutes = wearer_records(influx, wearer)
        readback[wearer] = summarise(events, minutes)
        stored_events += [e.event_id for e in events]
        stored_minutes += [(m.wearer_id, m.start_s) for m in minutes]
    return readback, (
        delivery(EVENT, (e.event_id for e in tap.events), stored_events),
        delivery(MINUTE, ((m.wearer_id, m.start_s) for m in tap.minutes), stored_minutes),
        # one point per sensor and millisecond: a report at the same time as the one before
        # (the paced clock stands still while a sensor reconnects) is that point again
        delivery(
            DEVICE,
            ((h.gateway_id, h.sensor_id, to_ms(h.t_s)) for h in tap.devices),
            device_points(influx),
        ),
        counted(GATEWAY, health_sent, gateway_points(influx)),
    )


def outage_run(
    settings: Settings,
    workdir: Path,
    *,
    hours: float,
    seed: int,
    speed: float,
    outage_s: float,
    zone: ZoneInfo,
) -> OutageRun:
    """The whole day at `speed`, paced, through a broker killed mid-stream; checked against
    InfluxDB."""
    sensors = demo_sensors([], hours=hours, seed=seed, start_s=day_start(zone), console=QUIET)
    start_s = min(float(s.trace.t_s[0]) for s in sensors)
    span_s = max(float(s.trace.t_s[-1]) for s in sensors) - start_s
    if outage_s >= span_s:
        raise SystemExit(f"--outage-s {outage_s:g} is not shorter than the day ({span_s:.0f} s)")
    kill_s = start_s + (span_s - outage_s) / 2.0
    say(
        f"outage: the whole day ({span_s / 3600:.1f} h) at {speed:.0f}x, paced; "
        f"the broker killed {(kill_s - start_s) / 60:.0f} min into the data for {outage_s:g} s "
        f"(about {outage_s / speed:.1f} s real at full speed)"
    )
    wearer_ids = sorted({s.key.wearer_id for s in sensors})
    with contextlib.ExitStack() as stack:
        private = stack.enter_context(private_servers(workdir / "outage", settings))
        at = private.at
        recorder = stack.enter_context(recorder_process(at, settings))
        ours = gateway_settings(settings, at, gateway_id="outage", state=workdir / "outage-gw")
        publisher = open_publisher(ours, wearer_ids, require_broker=True)
        stack.callback(publisher.close)
        killed_at: list[float] = []

        async def outage(now: float) -> None:
            if not killed_at and now >= kill_s:
                await asyncio.to_thread(private.broker.kill)
                killed_at.append(time.monotonic())
                say(f"  broker killed (SIGKILL) at {(now - start_s) / 60:.0f} min into the data")
            elif len(killed_at) == 1 and now >= kill_s + outage_s:
                await asyncio.to_thread(private.broker.start)
                killed_at.append(time.monotonic())
                say(
                    f"  broker restarted on port {private.broker.port} after "
                    f"{killed_at[1] - killed_at[0]:.1f} s real ({outage_s:g} s of the day)"
                )

        timebase = PacedTimeBase(origin_s=start_s - 2.0, speed=speed)
        gateway, devices, tap = asyncio.run(
            stream(ours, sensors, publisher, timebase, during=outage)
        )
        if len(killed_at) < 2:
            raise SystemExit("the stream ended before the outage did: use a shorter --outage-s")
        say("waiting for the recorder to confirm every message")
        publisher.flush(timeout_s=FLUSH_S)
        recordable = sum(publisher.sent[c] for c in ("event", "metric", "device", "health"))
        stats = recorder.wait_until_written(recordable, timeout_s=60.0)
        say(
            f"gateway published {publisher.published}, replayed "
            f"{publisher.outbox.replayed}; recorder wrote {stats.written_messages} messages, "
            f"rejected {stats.rejected}"
        )
        log = recorder.output()
        say(
            f"the recorder reconnected {log.count('WITHOUT its session')} time(s) without its "
            f"broker session, {log.count('with its session')} time(s) with it"
        )
        influx = InfluxClient(at.influx)
        stack.callback(influx.close)
        readback, deliveries = read_back(
            influx, wearer_ids, tap, health_sent=publisher.sent["health"]
        )
    counts = [sensor_count(gateway, key, device) for key, device in devices.items()]
    traces: dict[str, dict[Placement, Trace]] = {}
    for s in sensors:
        traces.setdefault(s.key.wearer_id, {})[s.key.placement] = s.trace
    offline = offline_summaries(traces, settings.analytics)
    reconnects = {
        f"{key.wearer_id} {key.placement.value}": link.reconnects
        for key, link in gateway.stats.items()
    }
    return OutageRun(
        check(counts, offline, readback), deliveries, gateway.max_loop_lag_ms, reconnects
    )


def speeds_up(
    settings: Settings,
    workdir: Path,
    speeds: list[float],
    *,
    hours: float,
    probe_s: float,
    seed: int,
    zone: ZoneInfo,
) -> list[SpeedRun]:
    """Runs at each speed in turn, up to the first that loses a sample."""
    runs = []
    with contextlib.ExitStack() as stack:
        at = stack.enter_context(private_servers(workdir / "speeds", settings)).at
        recorder = stack.enter_context(recorder_process(at, settings))
        say(f"private servers and the recorder (process {recorder.pid}) running")
        for speed in speeds:
            part = min(hours, speed * probe_s / 3600.0)
            run = speed_run(settings, at, speed=speed, hours=part, seed=seed, zone=zone)
            say(
                f"speed {speed:.0f}x: {run.lost:,} of {run.produced:,} samples lost "
                f"({run.overflowed:,} overflowed the sensors' buffers), radio-loop lag up to "
                f"{run.max_loop_lag_ms:.0f} ms; {load()}"
            )
            runs.append(run)
            if run.lost:
                break
    return runs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=8.5, help="length of the simulated day")
    parser.add_argument("--seed", type=int, default=1234, help="seed of the simulated day")
    parser.add_argument(
        "--speeds",
        default=",".join(f"{s:g}" for s in SPEEDS),
        help="speed-ups to try (the demo's own is added)",
    )
    parser.add_argument(
        "--probe-s", type=float, default=30.0, help="real seconds of data per speed"
    )
    parser.add_argument(
        "--outage-s", type=float, default=600.0, help="broker outage, in simulated seconds"
    )
    parser.add_argument(
        "--outage-speed",
        type=float,
        default=0.0,
        help="speed-up of the outage run (0: the demo's; lower: a longer outage in real time)",
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="  %(levelname)s %(name)s: %(message)s")
    logging.getLogger("bumble").setLevel(logging.ERROR)  # packets in flight at shutdown
    # SIGTERM unwinds like Ctrl-C: the servers, the recorder and the busy loops are stopped
    signal.signal(signal.SIGTERM, lambda _signum, _frame: sys.exit(143))
    settings = load_settings(None)
    zone = ZoneInfo(settings.analytics.nudges.timezone)
    day = demo_sensors([], hours=args.hours, seed=args.seed, start_s=0.0, console=QUIET)
    demo_speed = choose_speed(day, None)
    speeds = sorted({float(s) for s in args.speeds.split(",")} | {demo_speed})
    started = time.monotonic()
    say(f"{load()} before the benchmark; the demo's speed for this day: {demo_speed:.0f}x")
    with busy_cores() as hogs, tempfile.TemporaryDirectory(prefix="fidelity-") as tmp:
        say(f"busy-loop processes {hogs}, one per core, until the end")
        runs = speeds_up(
            settings,
            Path(tmp),
            speeds,
            hours=args.hours,
            probe_s=args.probe_s,
            seed=args.seed,
            zone=zone,
        )
        outage = outage_run(
            settings,
            Path(tmp),
            hours=args.hours,
            seed=args.seed,
            speed=args.outage_speed or demo_speed,
            outage_s=args.outage_s,
            zone=zone,
        )
    lossless = [r for r in runs if not r.lost]
    say("InfluxDB against the offline analysis of the same samples:")
    for line in outage.fidelity.lines():
        say(f"  {line}")
    for found in outage.deliveries:
        say(f"  {found.line()}")
    say(f"  BLE reconnects: {', '.join(f'{k} {n}' for k, n in outage.reconnects.items())}")
    faithful = outage.fidelity.ok and not (outage.lost_messages or outage.duplicates)
    if not faithful:
        say(
            f"NOT FAITHFUL: {outage.fidelity.samples_lost} sample(s) and "
            f"{outage.lost_messages} message(s) lost, {outage.duplicates} duplicate(s), sitting "
            f"time up to {outage.fidelity.max_sitting_diff_pct:.2f} % off (allowed: none, none, "
            f"none, {outage.fidelity.tolerance_pct:g} %)"
        )
    say(f"{load()} at the end; took {(time.monotonic() - started) / 60:.1f} min")
    lag = max([r.max_loop_lag_ms for r in lossless] + [outage.max_loop_lag_ms])
    say(
        f"RESULT max_lossless_speed={lossless[-1].speed if lossless else 0:.0f} "
        f"outage_lost_samples={outage.fidelity.samples_lost} "
        f"outage_lost_messages={outage.lost_messages} outage_duplicates={outage.duplicates} "
        f"max_loop_lag_ms={lag:.0f} "
        f"outage_max_sitting_diff_pct={outage.fidelity.max_sitting_diff_pct:.2f}"
    )
    return 0 if faithful else 1


if __name__ == "__main__":
    sys.exit(main())
