"""A small fleet for the dashboard tests: real recordings as wearers of two teams, replayed through
the real pipeline (edge analytics, MQTT, recorder) into InfluxDB, with the engine's own nudges
(a short nudge policy, so that these short recordings get some), plus device reports.

The device reports are made up from a seeded generator (the fleet replays traces, not radio
links) and go through MQTT and the recorder exactly as the gateway's do.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from analytics.contract import encode_device, encode_gateway_health, gateway_topic
from analytics.delivery import encode_status
from analytics.monitor import Output
from analytics.offline import analyze
from analytics.params import AnalyticsParams, BoutRules, NudgePolicy
from analytics.records import (
    DeviceHealth,
    Event,
    EventKind,
    GatewayHealth,
    MinuteMetrics,
    Placement,
)
from dashboards.influx import InfluxClient
from dashboards.recorder import Recorder, RecorderThread
from dashboards.settings import InfluxSettings, RecorderSettings
from posture.testing import servers
from posture.testing.pipeline import run_pipeline
from sensor_gateway.service import SensorKey
from sensor_gateway.traces import read_trace
from tests.conftest import DATASETS
from transport.mqtt import connect, make_client
from transport.settings import MqttSettings

START = 1_790_000_000.0  # 2026-09-21 16:13:20 in Europe/Berlin
TZ = "Europe/Berlin"
# prolonged bouts at 5 min and nudges after 3 min of sitting (then every 2), so that these short
# recordings have some (the panels count the flags and the nudge events); half of the decision
# points are withheld, for the nudge-effect panels
PARAMS = AnalyticsParams(
    bouts=BoutRules(prolonged_s=300.0),
    nudges=NudgePolicy(
        sitting_s=180.0, repeat_s=120.0, slouch_every_s=300.0, withhold_probability=0.5
    ),
)
TEAMS = {
    ("teamA", "site1"): [
        "casale_chest/subject02.csv",
        "casale_chest/subject08.csv",
        "casale_chest/subject10.csv",
        "casale_chest/subject12.csv",
        "forth_trace_torso/participant04_torso.csv",
        "forth_trace_torso/participant11_torso.csv",
    ],
    ("teamB", "site2"): ["uci_hapt_waist/user01_exp01.csv", "uci_hapt_waist/user02_exp03.csv"],
}


@dataclass
class Wearer:
    id: str
    team: str
    site: str
    recording: str
    output: Output

    @property
    def minutes(self) -> list[MinuteMetrics]:
        return self.output.minutes

    @property
    def events(self) -> list[Event]:
        return self.output.events

    @property
    def nudges(self) -> list[Event]:
        return [e for e in self.events if e.kind in (EventKind.NUDGE, EventKind.NUDGE_OUTCOME)]

    def of(self, kind: EventKind) -> list[Event]:
        return [e for e in self.events if e.kind is kind]


@dataclass
class Fleet:
    influx: InfluxClient
    wearers: list[Wearer]
    devices: list[DeviceHealth]
    gateways: list[GatewayHealth]


def device_reports(wearers: list[Wearer], *, seed: int = 1234) -> list[DeviceHealth]:
    """One report a minute per wearer's sensor for 30 minutes, on one gateway per team."""
    rng = np.random.default_rng(seed)
    out = []
    for i, w in enumerate(wearers):
        samples = lost = reconnects = 0
        by = dict.fromkeys(("gap", "disconnected", "queue", "clock"), 0)
        for k in range(31):
            connected = not (i == 2 and 10 <= k < 15) and not (i == 5 and k == 30)
            if i == 2 and k == 15:
                reconnects += 1
            new_lost = int(rng.integers(0, 40)) if connected else 0
            samples += (3000 - new_lost) if connected else 0
            lost += new_lost
            by["gap"] += new_lost // 2
            by["queue"] += new_lost - new_lost // 2
            out.append(
                DeviceHealth(
                    gateway_id=f"gw-{w.team[-1].lower()}",
                    sensor_id=f"s{i + 1:02d}",
                    wearer_id=w.id,
                    placement=Placement.TRUNK,
                    profile="thingy52" if i % 2 else "microbit",
                    t_s=START + 60.0 * k,
                    connected=connected,
                    battery_pct=max(0, 90 - 2 * i - k // 4),
                    rssi_dbm=-55 - i - (k % 7),
                    samples=samples,
                    lost=lost,
                    reconnects=reconnects,
                    lost_by=dict(by),
                )
            )
    return out


def gateway_reports(devices: list[DeviceHealth]) -> list[GatewayHealth]:
    """One report a minute from each gateway while its sensors report."""
    out = []
    for gateway in sorted({h.gateway_id for h in devices}):
        n = sum(1 for h in devices if h.gateway_id == gateway)
        for k in range(31):
            out.append(
                GatewayHealth(
                    gateway_id=gateway,
                    t_s=START + 60.0 * k + 1.0,
                    loop_lag_ms=2.0 + (k * n) % 17 + (40.0 if k == 12 else 0.0),
                    outbox_depth=(k * 7 + n) % 23,
                    outbox_oldest_s=float((k * 3) % 11),
                    outbox_bytes=((k * 7 + n) % 23) * 310,
                    outbox_dropped=0 if k < 20 else k - 20,
                    replayed=k // 5,
                )
            )
    return out


def _record(mqtt: MqttSettings, influx: InfluxClient, publish: Iterator[None], count: int) -> None:
    """Run a recorder while `publish` publishes `count` recordable messages; wait for them."""
    settings = RecorderSettings(client_id=f"rec-{uuid.uuid4().hex[:8]}", flush_interval_s=0.2)
    recorder = RecorderThread(Recorder(mqtt, influx, settings))
    recorder.start()
    try:
        for _ in publish:
            pass
        assert recorder.wait_for(count, timeout_s=60), "recorder did not write everything"
    finally:
        stats = recorder.stop()
    assert stats.rejected == 0


def build_fleet(broker: servers.Mosquitto, influxd: servers.Influxd) -> Fleet:
    root = f"dash/{uuid.uuid4().hex[:8]}/v1"
    mqtt = MqttSettings(host="127.0.0.1", port=broker.port, topic_root=root)
    influx = InfluxClient(InfluxSettings(url=influxd.url, database=f"dash_{uuid.uuid4().hex[:8]}"))
    influx.ensure_database()
    wearers: list[Wearer] = []
    for (team, site), recordings in TEAMS.items():
        traces = {}
        for recording in recordings:
            trace, _ = read_trace(DATASETS / recording)
            trace = trace.shifted(START)
            wearer_id = f"w{len(wearers) + 1:02d}"
            offline = analyze({Placement.TRUNK: trace}, wearer_id=wearer_id, params=PARAMS).output
            wearers.append(Wearer(wearer_id, team, site, recording, offline))
            traces[SensorKey(wearer_id, Placement.TRUNK)] = trace
        settings = RecorderSettings(client_id=f"rec-{uuid.uuid4().hex[:8]}", flush_interval_s=0.2)
        run = run_pipeline(
            traces,
            mqtt=mqtt,
            influx=influx,
            recorder_settings=settings,
            gateway_id=f"gw-{team[-1].lower()}",
            team=team,
            site=site,
            params=PARAMS,
        )
        assert run.recorder.rejected == 0
    devices = device_reports(wearers)
    gateways = gateway_reports(devices)

    def publish_devices() -> Iterator[None]:
        client = make_client(mqtt, f"dev-{uuid.uuid4().hex[:8]}")
        connect(client, mqtt)
        served: dict[str, set[str]] = {}
        for h in devices:
            served.setdefault(h.gateway_id, set()).add(h.wearer_id)
        infos = [  # each gateway first announces its wearers (retained), as gateways do
            client.publish(
                gateway_topic(root, gateway), encode_status("online", wearers), qos=1, retain=True
            )
            for gateway, wearers in served.items()
        ]
        infos += [
            client.publish(gateway_topic(root, h.gateway_id, "device"), encode_device(h), qos=1)
            for h in devices
        ]
        infos += [
            client.publish(
                gateway_topic(root, h.gateway_id, "health"), encode_gateway_health(h), qos=1
            )
            for h in gateways
        ]
        for info in infos:
            info.wait_for_publish(10)
        client.disconnect()
        client.loop_stop()
        yield

    _record(mqtt, influx, publish_devices(), len(devices) + len(gateways))
    return Fleet(influx, wearers, devices, gateways)
