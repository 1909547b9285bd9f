"""How much of a gateway's output its outbox holds: a simulated day through the real engine and
the real publisher's encoding into an outbox on disk, with nothing confirming it (the broker
or every recorder away the whole time).

Per wearer (trunk and thigh sensors): events, minutes, retained states and nudges as the engine
releases them, a device report per sensor and a gateway report every `health_interval_s`.
Prints the bytes per sensor-hour (payloads, and the SQLite file) and how many hours a
120-sensor gateway's outbox holds within its default limit.

    python bench/outbox.py [--hours 24] [--sensors 120]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from analytics.offline import interleave
from analytics.records import DeviceHealth, Placement
from sensor_gateway.outbox import Outbox
from sensor_gateway.publisher import MqttPublisher
from sensor_gateway.service import EdgeService, SensorKey
from sensor_gateway.settings import GatewaySettings
from sensor_gateway.simulator import simulate_day
from transport.settings import MqttSettings


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--hours", type=float, default=24.0)
    parser.add_argument("--sensors", type=int, default=120, help="the gateway to size for")
    parser.add_argument("--health-interval-s", type=float, default=60.0)
    args = parser.parse_args()

    day = simulate_day(seed=11, hours=args.hours, start_s=time.time() - args.hours * 3600)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "outbox.sqlite"
        outbox = Outbox(path)
        publisher = MqttPublisher(
            MqttSettings(), "gw1", outbox, wearers=["w01"], team="design", site="hq"
        )
        service = EdgeService({"w01": list(day.traces)}, publisher)
        next_report = min(float(t.t_s[0]) for t in day.traces.values())
        for placement, batch in interleave(day.traces, chunk_s=1.0):
            service.on_batch(SensorKey("w01", placement), batch)
            if batch.t0 >= next_report:
                next_report += args.health_interval_s
                for p in day.traces:
                    publisher.publish_device(device(p, batch.t0))
                publisher.publish_gateway_health(t_s=batch.t0, loop_lag_ms=3.0)
        service.finish()
        depth = outbox.depth()
        outbox.close()
        file_bytes = sum(f.stat().st_size for f in Path(tmp).iterdir())
    sensor_hours = len(day.traces) * args.hours
    payload_per_sh = depth.bytes / sensor_hours
    file_per_sh = file_bytes / sensor_hours
    limit = GatewaySettings().outbox_max_mb * 1024 * 1024
    hours_at_limit = limit / (payload_per_sh * args.sensors)
    channels = ", ".join(f"{n} {c}" for c, n in sorted(publisher.sent.items()))
    print(f"{args.hours:g} h of one wearer ({len(day.traces)} sensors): {depth.messages} messages")
    print(f"  ({channels})")
    print(f"  payloads {depth.bytes / 1e6:.2f} MB, SQLite file {file_bytes / 1e6:.2f} MB")
    print(
        f"{args.sensors} sensors: {payload_per_sh * args.sensors * 24 / 1e6:.0f} MB of payloads a "
        f"day; the default limit ({limit / 2**30:g} GiB of payloads) holds {hours_at_limit:.0f} h"
    )
    print(
        f"RESULT bytes_per_sensor_hour={payload_per_sh:.0f} file_bytes_per_sensor_hour="
        f"{file_per_sh:.0f} hours_at_limit_{args.sensors}_sensors={hours_at_limit:.0f}"
    )


def device(placement: Placement, t_s: float) -> DeviceHealth:
    return DeviceHealth(
        gateway_id="gw1",
        sensor_id=f"s-{placement.value}",
        wearer_id="w01",
        placement=placement,
        profile="polar_h10",
        t_s=t_s,
        connected=True,
        battery_pct=80,
        rssi_dbm=-61,
        samples=123456,
        lost=0,
        reconnects=0,
        lost_by={},
    )


if __name__ == "__main__":
    main()
