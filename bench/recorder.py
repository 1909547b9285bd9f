"""End-to-end throughput of the recorder, and its two ceilings, measured in one run.

Private mosquitto and influxd start on free ports. The same contract-shaped messages (events,
minutes and device reports of a simulated office day, analysed by the real engine, one copy per
wearer) are queued in a persistent session and drained by:

1. the MQTT ceiling: a bare paho subscriber (stock `paho.mqtt.client.Client`, MQTT v5, QoS 1,
   automatic acknowledgement, no processing);
2. the recorder itself, end to end: decode and validate, build line protocol, write batches to
   InfluxDB, acknowledge; timed until every message is written and acknowledged;

and the InfluxDB ceiling is the recorder's own line protocol for those messages posted straight
to /write by one writer in batches of 5,000. The machine is shared (and the clock is wall time),
so the MQTT phases alternate for `--rounds` rounds and each rate is the best of its rounds.
CPU time per message (this process: the subscriber's or recorder's threads) is printed too.

ratio = recorder messages/s over the lower ceiling (one point per message).
Last line: RESULT recorder_msgs_per_s=... mqtt_ceiling_msgs_per_s=...
influx_ceiling_points_per_s=... ratio=...
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from pathlib import Path

import paho.mqtt.client as paho

from dashboards.influx import InfluxClient
from dashboards.recorder import Recorder, RecorderThread
from dashboards.recorder.mqttclient import LeanClient
from dashboards.settings import InfluxSettings, RecorderSettings
from posture.testing import servers
from posture.testing.loadgen import Traffic, TrafficPublisher, contract_messages
from transport.mqtt import connect, make_client
from transport.settings import MqttSettings

ROOT = "bench/v1"
SUBSCRIPTIONS = [f"{ROOT}/+/event", f"{ROOT}/+/metric", f"{ROOT}/gateway/+/device"]
MEASUREMENTS = {"event": "end_s", "minute": "slouch_s", "device": "connected"}


def check(condition: bool, message: str) -> None:
    if not condition:
        raise RuntimeError(message)


def preload(mqtt: MqttSettings, client_id: str, traffic: Traffic) -> None:
    """Create `client_id`'s persistent session and queue every message in it."""
    client = make_client(mqtt, client_id)
    subscribed = threading.Event()
    client.on_subscribe = lambda *_args: subscribed.set()
    connect(client, mqtt, session_expiry_s=3600)
    result, _mid = client.subscribe([(t, 1) for t in SUBSCRIPTIONS])
    check(result == paho.MQTT_ERR_SUCCESS and subscribed.wait(10), "subscription failed")
    client.disconnect()
    client.loop_stop()
    with TrafficPublisher(mqtt, f"{client_id}-pub", max_inflight=2000) as publisher:
        publisher.publish(traffic.messages)
        publisher.flush()
        check(not publisher.refused, f"broker refused messages: {publisher.refused[:3]}")


def bare_drain(mqtt: MqttSettings, traffic: Traffic, client_id: str) -> tuple[float, float]:
    """Messages/s and CPU us/message of a bare paho subscriber draining its session."""
    preload(mqtt, client_id, traffic)
    n = len(traffic.recordable)
    done = threading.Event()
    count = 0

    def on_message(_c: object, _u: object, _m: object) -> None:
        nonlocal count
        count += 1
        if count == n:
            done.set()

    client = make_client(mqtt, client_id)
    client.on_message = on_message
    t0, c0 = time.perf_counter(), time.process_time()
    connect(client, mqtt, session_expiry_s=3600)
    check(done.wait(600), f"bare subscriber got {count} of {n}")
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
    client.disconnect()
    client.loop_stop()
    return n / elapsed, cpu / n * 1e6


def influx_ceiling(url: str, lines: list[str], batch: int, database: str) -> float:
    """Points per second InfluxDB ingests from one writer posting `batch` lines at a time."""
    influx = InfluxClient(InfluxSettings(url=url, database=database))
    influx.ensure_database()
    t0 = time.perf_counter()
    for i in range(0, len(lines), batch):
        influx.write(lines[i : i + batch])
    elapsed = time.perf_counter() - t0
    influx.close()
    return len(lines) / elapsed


def recorder_drain(
    mqtt: MqttSettings,
    url: str,
    traffic: Traffic,
    settings: RecorderSettings,
    *,
    client_class: type[paho.Client] = LeanClient,
) -> tuple[float, float, int]:
    """Messages/s and CPU us/message of the recorder end to end, and the points stored."""
    preload(mqtt, settings.client_id, traffic)
    influx = InfluxClient(InfluxSettings(url=url, database=settings.client_id.replace("-", "_")))
    influx.ensure_database()
    recorder = RecorderThread(Recorder(mqtt, influx, settings, client_class=client_class))
    n = len(traffic.recordable)
    t0, c0 = time.perf_counter(), time.process_time()
    recorder.start()
    check(recorder.wait_for(n, timeout_s=600), f"recorder stalled: {recorder.recorder.stats}")
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
    stats = recorder.stop()
    check(stats.rejected == 0, f"recorder rejected messages: {stats}")
    stored = 0
    for measurement, field in MEASUREMENTS.items():
        rows = influx.query(f'SELECT count("{field}") FROM "{measurement}"')  # noqa: S608
        stored += sum(int(r["count"]) for r in rows)
    influx.close()
    return n / elapsed, cpu / n * 1e6, stored


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--wearers", type=int, default=120, help="copies of the day (640 msgs)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=RecorderSettings().batch_size)
    parser.add_argument("--flush-interval", type=float, default=0.2)
    parser.add_argument(
        "--stock-paho",
        action="store_true",
        help="also measure the recorder on stock paho (without dashboards.recorder.mqttclient)",
    )
    args = parser.parse_args()

    traffic = contract_messages(ROOT, wearers=args.wearers)
    n = len(traffic.messages)
    distinct = len({e.event_id for e in traffic.events})  # the same id overwrites the same point
    expected = distinct + len(traffic.minutes) + len(traffic.devices)
    print(
        f"messages: {n} ({len(traffic.events)} events, {len(traffic.minutes)} minutes, "
        f"{len(traffic.devices)} device reports); distinct points {expected}"
    )
    # the line protocol exactly as the recorder builds it
    probe = Recorder(
        MqttSettings(topic_root=ROOT), InfluxClient(InfluxSettings()), RecorderSettings()
    )
    lines = [probe.line(topic, payload) for topic, payload in traffic.recordable]

    bare: list[float] = []
    recorded: list[float] = []
    influx_points: list[float] = []
    with tempfile.TemporaryDirectory(prefix="bench-recorder-") as tmp:
        broker = servers.mosquitto(Path(tmp) / "mosquitto")
        influxd = servers.influxd(Path(tmp) / "influxd")
        try:
            mqtt = MqttSettings(host="127.0.0.1", port=broker.port, topic_root=ROOT)
            for r in range(args.rounds):
                rate, cpu = bare_drain(mqtt, traffic, f"bench-bare-{r}")
                bare.append(rate)
                print(f"round {r}: bare paho subscriber {rate:,.0f} msgs/s, cpu {cpu:.0f} us/msg")
                settings = RecorderSettings(
                    client_id=f"bench-recorder-{r}",
                    batch_size=args.batch_size,
                    flush_interval_s=args.flush_interval,
                )
                rate, cpu, stored = recorder_drain(mqtt, influxd.url, traffic, settings)
                recorded.append(rate)
                print(
                    f"round {r}: recorder {rate:,.0f} msgs/s, cpu {cpu:.0f} us/msg "
                    f"(batch {settings.batch_size}); points stored {stored} of {expected}"
                )
                check(stored == expected, "the recorder lost or doubled points")
                if args.stock_paho:
                    stock = settings.model_copy(update={"client_id": f"bench-stock-{r}"})
                    rate, cpu, stored = recorder_drain(
                        mqtt, influxd.url, traffic, stock, client_class=paho.Client
                    )
                    print(
                        f"round {r}: recorder on stock paho {rate:,.0f} msgs/s, "
                        f"cpu {cpu:.0f} us/msg"
                    )
                    check(stored == expected, "the recorder lost or doubled points")
                rate = influx_ceiling(influxd.url, lines, 5000, f"bench_ceiling_{r}")
                influx_points.append(rate)
                print(f"round {r}: influx one writer, batches of 5000: {rate:,.0f} points/s")
        finally:
            influxd.stop()
            broker.stop()
    print(
        f"median of {args.rounds} rounds: recorder {statistics.median(recorded):,.0f} msgs/s, "
        f"bare paho {statistics.median(bare):,.0f} msgs/s, "
        f"influx {statistics.median(influx_points):,.0f} points/s"
    )
    mqtt_ceiling, recorder_rate, influx_rate = max(bare), max(recorded), max(influx_points)
    lower = min(mqtt_ceiling, influx_rate)
    print(
        f"RESULT recorder_msgs_per_s={recorder_rate:.0f} "
        f"mqtt_ceiling_msgs_per_s={mqtt_ceiling:.0f} "
        f"influx_ceiling_points_per_s={influx_rate:.0f} ratio={recorder_rate / lower:.2f}"
    )


if __name__ == "__main__":
    main()
