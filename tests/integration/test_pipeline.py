"""The first end-to-end slice, real at every hop: trace -> analytics -> mosquitto -> recorder ->
influxd -> InfluxQL, compared with the offline analysis of the same trace."""

from __future__ import annotations

import pytest

from analytics.offline import analyze
from analytics.records import EventKind, Placement, Posture
from analytics.summary import summarise
from dashboards.influx import InfluxClient
from dashboards.readback import wearer_records, wearers
from dashboards.settings import RecorderSettings
from posture.testing.pipeline import run_pipeline
from sensor_gateway.service import SensorKey
from sensor_gateway.traces import read_trace
from tests.conftest import DATASETS
from transport.settings import MqttSettings

pytestmark = pytest.mark.integration

START = 1_790_000_000.0  # an anchor in unix time, as a live gateway would stamp the samples


@pytest.mark.parametrize(
    "recording",
    ["casale_chest/subject02.csv", "uci_hapt_waist/user01_exp01.csv"],
)
def test_influxdb_holds_exactly_what_the_analytics_produce_offline(
    mqtt_settings: MqttSettings, influx: InfluxClient, recording: str
) -> None:
    trace, _ = read_trace(DATASETS / recording)
    trace = trace.shifted(START)
    offline = analyze({Placement.TRUNK: trace}, wearer_id="w01").output

    run = run_pipeline(
        {SensorKey("w01", Placement.TRUNK): trace},
        mqtt=mqtt_settings,
        influx=influx,
        recorder_settings=RecorderSettings(
            client_id=f"rec-{mqtt_settings.topic_root}", flush_interval_s=0.2
        ),
        gateway_id="itest",
    )
    assert run.recorder.rejected == 0
    assert run.recorded == len(offline.events) + len(offline.minutes)

    events, minutes = wearer_records(influx, "w01")
    assert wearers(influx) == ["w01"]
    assert sorted(minutes, key=lambda m: m.start_s) == offline.minutes
    assert events == sorted(offline.events, key=lambda e: (e.end_s, e.start_s, e.kind.value))
    stored, expected = summarise(events, minutes), summarise(offline.events, offline.minutes)
    assert stored == expected
    assert stored.posture_s[Posture.SITTING] == sum(
        m.posture_s[Posture.SITTING] for m in offline.minutes
    )
    assert any(e.kind is EventKind.POSTURE_BOUT for e in events)


def test_replaying_twice_overwrites_and_never_doubles(
    mqtt_settings: MqttSettings, influx: InfluxClient
) -> None:
    trace, _ = read_trace(DATASETS / "uci_hapt_waist/user02_exp03.csv")
    traces = {SensorKey("w02", Placement.TRUNK): trace.shifted(START)}
    recorder = RecorderSettings(client_id=f"rec2-{mqtt_settings.topic_root}", flush_interval_s=0.2)
    first = run_pipeline(traces, mqtt=mqtt_settings, influx=influx, recorder_settings=recorder)
    second = run_pipeline(traces, mqtt=mqtt_settings, influx=influx, recorder_settings=recorder)
    assert first.recorded == second.recorded
    events, minutes = wearer_records(influx, "w02")
    assert len(events) + len(minutes) == first.recorded
