"""How many virtual 50 Hz sensors one gateway process sustains with under 0.1 % sample loss.

For N = 5, 10, 15, ... virtual sensors (the profiles in turn, each streaming a simulated office
day at 50 Hz in real time) run the real gateway (bleak backend over Bumble, clock model,
batching, edge analytics on their own thread; MQTT replaced by a null sink) for a warm-up and a
measured window.
Loss = 1 - samples the gateway got / samples the sensors produced in the window (N x 50 Hz x
seconds), so a sensor that is not connected counts as loss, and a run passes only if every
sensor stayed connected. CPU is this
process's CPU time per wall second, per sensor; it includes the emulated sensors and both
Bumble stacks, so it overstates what a gateway with a real adapter spends.

Samples count as produced 0.1 s after they are due, so that the ones still in the air at the
window's edges do not count as lost; the window is long (30 s) to keep edge effects small.

Usage: python bench/gateway.py [--max N] [--step N] [--seconds S]
Last line: RESULT sensors_sustained=... cpu_percent_per_sensor=... max_loop_lag_ms=... (the radio
loop's longest lag at the largest sustained N) max_loop_lag_ms_at_120=...
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import time
from dataclasses import dataclass

import numpy as np

from analytics.monitor import Output
from analytics.records import Placement, Trace, WearerState
from sensor_gateway.connection import LinkSettings
from sensor_gateway.gateway import Gateway, SensorAssignment
from sensor_gateway.radio import Radio
from sensor_gateway.service import EdgeService, SensorKey
from sensor_gateway.simulator import simulate_day
from sensor_gateway.timebase import TimeBase
from sensor_gateway.virtual import VirtualRadio, VirtualSensor

PROFILES = ("microbit", "thingy52", "witmotion", "polar_h10", "metamotion")


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

    @property
    def loss(self) -> float:
        return max(0, self.produced - self.received) / max(self.produced, 1)


async def measure(n: int, trace: Trace, *, warmup_s: float, seconds: float) -> Run:
    timebase = TimeBase()
    shifted = trace.shifted(timebase.now() + 0.5 - float(trace.t_s[0]))
    async with VirtualRadio(timebase=timebase) as radio:
        sensors = [radio.add(VirtualSensor(PROFILES[i % len(PROFILES)], shifted)) for i in range(n)]
        keys = [SensorKey(f"w{i:03d}", Placement.TRUNK) for i in range(n)]
        service = EdgeService({k.wearer_id: [k.placement] for k in keys}, NullSink())
        gateway = Gateway(
            [SensorAssignment(s.address, s.profile, k) for s, k in zip(sensors, keys, strict=True)],
            service,
            gateway_id="bench",
            radio=Radio.virtual(radio.adapter),
            timebase=timebase,
            link_settings=LinkSettings(watchdog_s=5.0),
        )

        def produced() -> int:
            # samples due 0.1 s ago: whatever the link delivers on time has arrived by now
            now = timebase.now() - 0.1
            return sum(int(np.searchsorted(s.trace.t_s, now, side="right")) for s in sensors)

        def received() -> int:
            return sum(st.samples for st in gateway.stats.values())

        async with asyncio.TaskGroup() as group:
            group.create_task(gateway.run())
            started = time.monotonic()
            while not all(link.connected for link in gateway.links.values()):
                if time.monotonic() - started > 120:
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
        overflowed=sum(s.overflowed for s in sensors),
        connect_s=connect_s,
        loop_lag_ms=lag_ms,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max", type=int, default=200)
    parser.add_argument("--step", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    trace = simulate_day(seed=1234, hours=0.1, placements=(Placement.TRUNK,)).traces[
        Placement.TRUNK
    ]
    sustained, per_sensor, lag_ms = 0, float("nan"), float("nan")
    lag_at: dict[int, float] = {}
    for n in range(args.step, args.max + 1, args.step):
        run = asyncio.run(measure(n, trace, warmup_s=args.warmup, seconds=args.seconds))
        ok = run.loss < 0.001 and run.reconnects == 0 and run.all_connected
        print(
            f"sensors={n:3d} produced={run.produced:7d} received={run.received:7d} "
            f"loss={run.loss:.4%} cpu={run.cpu_percent:5.1f}% "
            f"cpu_per_sensor={run.cpu_percent / n:.2f}% reconnects={run.reconnects} "
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
