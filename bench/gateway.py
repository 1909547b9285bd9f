"""How many virtual 50 Hz sensors one gateway process sustains with under 0.1 % sample loss.

For N = 20, 40, 60, ... virtual sensors (the profiles in turn, each streaming a simulated office
day at 50 Hz in real time) run the real gateway (bleak backend over Bumble, clock model,
batching, edge analytics on their own thread; MQTT replaced by a null sink) for a warm-up and a
measured window.

As with a real adapter, the sensors are not in the gateway's process: they run in a second
process (their emulated controllers and GATT servers on a Bumble link, with a controller for
the gateway exposed over a local TCP socket), and the gateway's process holds a Bumble host
stack where production holds bleak's D-Bus client of BlueZ. `--one-process` runs everything
in the gateway's process instead (the sensors' emulation then costs the gateway's loop too).

Loss = 1 - samples the gateway got / samples the sensors produced in the window (N x 50 Hz x
seconds), so a sensor that is not connected counts as loss, and a run passes only if every
sensor stayed connected. CPU is the gateway process's CPU time per wall second, per sensor
(the sensors' process is reported beside it).

Samples count as produced 0.1 s after they are due, so that the ones still in the air at the
window's edges do not count as lost; the window is long (30 s) to keep edge effects small.

Usage: python bench/gateway.py [--min N] [--max N] [--step N] [--seconds S] [--one-process]
Last line: RESULT sensors_sustained=... cpu_percent_per_sensor=... max_loop_lag_ms=... (the radio
loop's longest lag at the largest sustained N) max_loop_lag_ms_at_120=...
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import numpy as np

from analytics.monitor import Output
from analytics.records import Placement, Trace, WearerState
from sensor_gateway.connection import LinkSettings
from sensor_gateway.gateway import Gateway, SensorAssignment
from sensor_gateway.profiles import get_profile
from sensor_gateway.radio import Radio
from sensor_gateway.service import EdgeService, SensorKey
from sensor_gateway.simulator import simulate_day
from sensor_gateway.timebase import TimeBase
from sensor_gateway.virtual import VirtualRadio, VirtualSensor, remote_adapter

PROFILES = ("microbit", "thingy52", "witmotion", "polar_h10", "metamotion")
CONNECT_S_PER_SENSOR = 2.0  # connections are made one at a time (service discovery included)


class NullSink:
    def publish_output(self, wearer_id: str, output: Output) -> None:
        pass

    def publish_state(
        self, state: WearerState, *, sitting_today_s: float, battery_pct: int | None
    ) -> None:
        pass


@dataclass(frozen=True)
class Run:
    sensors: int
    produced: int  # samples the sensors produced during the window
    received: int  # samples the gateway got during the window
    cpu_percent: float
    reconnects: int
    all_connected: bool
    overflowed: int  # samples the sensors could not send in time (their buffer overflowed)
    connect_s: float  # until every sensor was connected
    loop_lag_ms: float  # the radio loop's longest lag during the window
    sensors_cpu_percent: float  # the sensors' process (0 with --one-process)

    @property
    def loss(self) -> float:
        return max(0, self.produced - self.received) / max(self.produced, 1)


def office_trace() -> Trace:
    return simulate_day(seed=1234, hours=0.1, placements=(Placement.TRUNK,)).traces[Placement.TRUNK]


def virtual_sensors(n: int, trace: Trace, advertising_ms: float) -> list[VirtualSensor]:
    """`n` sensors of the profiles in turn, each streaming `trace`."""
    return [
        VirtualSensor(PROFILES[i % len(PROFILES)], trace, advertising_interval_ms=advertising_ms)
        for i in range(n)
    ]


async def sensors_process(n: int, start_s: float, advertising_ms: float) -> None:
    """The sensors' side (`--sensors-for N`): print the port and the sensors as one JSON line,
    stream until stdin closes, then print what they overflowed and their CPU time."""
    trace = office_trace()
    trace = trace.shifted(start_s - float(trace.t_s[0]))
    listening = socket.create_server(("127.0.0.1", 0))
    async with VirtualRadio(adapters=0) as radio:
        sensors = [radio.add(s) for s in virtual_sensors(n, trace, advertising_ms)]
        await radio.expose(listening)
        ready = {
            "port": listening.getsockname()[1],
            "sensors": [[s.address, s.profile.name] for s in sensors],
        }
        print(json.dumps(ready), flush=True)
        c0 = time.process_time()
        await asyncio.to_thread(sys.stdin.read)
        done = {"overflowed": sum(s.overflowed for s in sensors), "cpu_s": time.process_time() - c0}
        print(json.dumps(done), flush=True)


@dataclass
class Sensors:
    """The sensors as the gateway sees them, wherever they run."""

    radio: Radio
    assigned: list[tuple[str, str]]  # address, profile
    overflowed: int = 0
    cpu_s: float = 0.0  # of their process, if they have one


@contextlib.asynccontextmanager
async def elsewhere(n: int, trace: Trace, advertising_ms: float) -> AsyncIterator[Sensors]:
    """`n` sensors streaming `trace` from a second process."""
    child = subprocess.Popen(
        [
            sys.executable,
            __file__,
            "--sensors-for",
            str(n),
            "--trace-start",
            repr(float(trace.t_s[0])),
            "--advertising-ms",
            repr(advertising_ms),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdin is not None
    assert child.stdout is not None
    try:
        ready = json.loads(await asyncio.to_thread(child.stdout.readline))
        async with remote_adapter(f"tcp-client:127.0.0.1:{ready['port']}") as adapter:
            sensors = Sensors(Radio.virtual(adapter), [tuple(a) for a in ready["sensors"]])
            yield sensors
        child.stdin.close()
        done = json.loads(await asyncio.to_thread(child.stdout.readline))
        sensors.overflowed, sensors.cpu_s = done["overflowed"], done["cpu_s"]
    finally:
        child.kill()
        child.wait()


@contextlib.asynccontextmanager
async def here(
    n: int, trace: Trace, timebase: TimeBase, advertising_ms: float
) -> AsyncIterator[Sensors]:
    """`n` sensors streaming `trace` on this process's loop (`--one-process`)."""
    async with VirtualRadio(timebase=timebase) as radio:
        devices = [radio.add(s) for s in virtual_sensors(n, trace, advertising_ms)]
        sensors = Sensors(
            Radio.virtual(radio.adapter), [(d.address, d.profile.name) for d in devices]
        )
        yield sensors
    sensors.overflowed = sum(d.overflowed for d in devices)


async def measure(
    n: int,
    trace: Trace,
    *,
    warmup_s: float,
    seconds: float,
    one_process: bool,
    advertising_ms: float,
) -> Run:
    timebase = TimeBase()
    shifted = trace.shifted(timebase.now() + 1.5 - float(trace.t_s[0]))
    sensors_at = (
        here(n, shifted, timebase, advertising_ms)
        if one_process
        else elsewhere(n, shifted, advertising_ms)
    )
    async with sensors_at as sensors:
        keys = [SensorKey(f"w{i:03d}", Placement.TRUNK) for i in range(n)]
        service = EdgeService({k.wearer_id: [k.placement] for k in keys}, NullSink())
        gateway = Gateway(
            [
                SensorAssignment(address, get_profile(profile), k)
                for (address, profile), k in zip(sensors.assigned, keys, strict=True)
            ],
            service,
            gateway_id="bench",
            radio=sensors.radio,
            timebase=timebase,
            link_settings=LinkSettings(watchdog_s=5.0),
        )

        def produced() -> int:
            # samples due 0.1 s ago: whatever the link delivers on time has arrived by now
            due = int(np.searchsorted(shifted.t_s, timebase.now() - 0.1, side="right"))
            return n * due

        def received() -> int:
            return sum(st.samples for st in gateway.stats.values())

        async with asyncio.TaskGroup() as group:
            group.create_task(gateway.run())
            started = time.monotonic()
            while not all(link.connected for link in gateway.links.values()):
                if time.monotonic() - started > CONNECT_S_PER_SENSOR * max(n, 60):
                    break
                await asyncio.sleep(0.2)
            connect_s = time.monotonic() - started
            await asyncio.sleep(warmup_s)
            connected = all(link.connected for link in gateway.links.values())
            p0, r0, c0, w0 = produced(), received(), time.process_time(), time.monotonic()
            gateway.max_loop_lag_ms = 0.0
            await asyncio.sleep(seconds)
            lag_ms = gateway.max_loop_lag_ms
            p1, r1, c1, w1 = produced(), received(), time.process_time(), time.monotonic()
            connected = connected and all(link.connected for link in gateway.links.values())
            gateway.stop()
        connects = sum(link.connects for link in gateway.links.values())
    return Run(
        sensors=n,
        produced=p1 - p0,
        received=r1 - r0,
        cpu_percent=100.0 * (c1 - c0) / (w1 - w0),
        reconnects=connects - n,
        all_connected=connected,
        overflowed=sensors.overflowed,
        connect_s=connect_s,
        loop_lag_ms=lag_ms,
        sensors_cpu_percent=100.0 * sensors.cpu_s / (time.monotonic() - started),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--min", type=int, help="the first N (default: --step)")
    parser.add_argument("--max", type=int, default=200)
    parser.add_argument("--step", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument(
        "--one-process", action="store_true", help="the sensors on the gateway's own loop"
    )
    parser.add_argument(
        "--advertising-ms",
        type=float,
        default=100.0,
        help="how often a sensor not connected advertises (default 100; BLE allows 20-10240)",
    )
    parser.add_argument("--sensors-for", type=int, help=argparse.SUPPRESS)  # the second process
    parser.add_argument("--trace-start", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    if args.sensors_for is not None:
        asyncio.run(sensors_process(args.sensors_for, args.trace_start, args.advertising_ms))
        return
    trace = office_trace()
    sustained, per_sensor, lag_ms = 0, float("nan"), float("nan")
    lag_at: dict[int, float] = {}
    for n in range(args.min or args.step, args.max + 1, args.step):
        run = asyncio.run(
            measure(
                n,
                trace,
                warmup_s=args.warmup,
                seconds=args.seconds,
                one_process=args.one_process,
                advertising_ms=args.advertising_ms,
            )
        )
        ok = run.loss < 0.001 and run.reconnects == 0 and run.all_connected
        print(
            f"sensors={n:3d} produced={run.produced:7d} received={run.received:7d} "
            f"loss={run.loss:.4%} cpu={run.cpu_percent:5.1f}% "
            f"cpu_per_sensor={run.cpu_percent / n:.2f}% sensors_cpu={run.sensors_cpu_percent:.0f}% "
            f"reconnects={run.reconnects} "
            f"overflowed={run.overflowed} all_connected_after={run.connect_s:.1f}s "
            f"loop_lag={run.loop_lag_ms:.0f}ms "
            f"{'ok' if ok else 'FAIL'}",
            flush=True,
        )
        lag_at[n] = run.loop_lag_ms
        if not ok:
            break
        sustained, per_sensor, lag_ms = n, run.cpu_percent / n, run.loop_lag_ms
    at_120 = lag_at.get(120, float("nan"))
    print(
        f"RESULT sensors_sustained={sustained} cpu_percent_per_sensor={per_sensor:.2f} "
        f"max_loop_lag_ms={lag_ms:.0f} max_loop_lag_ms_at_120={at_120:.0f}"
    )


if __name__ == "__main__":
    main()
