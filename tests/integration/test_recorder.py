"""The recorder against real mosquitto and influxd: hostile input, bounded memory, refused
points, oversized writes, health reports, shared subscriptions and the InfluxDB 2.x path."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import paho.mqtt.client as paho
import pytest
from paho.mqtt.client import topic_matches_sub

from analytics.contract import deadletter_topic, recorder_topic
from dashboards.influx import InfluxClient, InfluxRejected
from dashboards.recorder import Recorder, RecorderThread
from dashboards.recorder.mqttclient import LeanClient
from dashboards.settings import InfluxSettings, RecorderSettings
from posture.testing import servers
from posture.testing.loadgen import Traffic, TrafficPublisher, contract_messages
from tests.fake_influx_v2 import Request, fake_influx_v2
from tests.hostile import hostile_messages
from tests.integration.recording import (
    expected_points,
    stored_event_ids,
    stored_points,
    wait_until,
    watching,
)
from transport.settings import MqttSettings

pytestmark = pytest.mark.integration

StartRecorder = Callable[..., RecorderThread]


@pytest.fixture
def start_recorder(mqtt_settings: MqttSettings) -> Iterator[StartRecorder]:
    """Start in-process recorders on the session broker; all stopped at the end of the test."""
    started: list[RecorderThread] = []

    def start(
        influx: InfluxClient, mqtt: MqttSettings | None = None, **settings: object
    ) -> RecorderThread:
        values = {"client_id": f"rec-{uuid.uuid4().hex[:8]}", "flush_interval_s": 0.2} | settings
        recorder = RecorderThread(
            Recorder(mqtt or mqtt_settings, influx, RecorderSettings.model_validate(values))
        )
        recorder.start()
        started.append(recorder)
        return recorder

    yield start
    for recorder in started:
        recorder.stop()


def publish(
    settings: MqttSettings, messages: list[tuple[str, bytes]] | tuple, **kw: object
) -> None:
    with TrafficPublisher(settings, f"pub-{uuid.uuid4().hex[:8]}") as publisher:
        publisher.publish(messages, **kw)  # type: ignore[arg-type]
        publisher.flush(timeout_s=60)
        assert not publisher.refused


@pytest.fixture(scope="module")
def small_day() -> Callable[[str], Traffic]:
    cache: dict[str, Traffic] = {}

    def make(root: str) -> Traffic:
        if root not in cache:
            cache[root] = contract_messages(root, wearers=2, hours=2.0)
        return cache[root]

    return make


def test_hostile_input_is_dead_lettered_with_its_reason_counted_and_recording_goes_on(
    mqtt_settings: MqttSettings,
    influx: InfluxClient,
    start_recorder: StartRecorder,
    small_day: Callable[[str], Traffic],
) -> None:
    root = mqtt_settings.topic_root
    good = small_day(root)
    with watching(mqtt_settings, deadletter_topic(root)) as watcher:
        recorder = start_recorder(influx)
        every = hostile_messages(root)
        subscribed = recorder.recorder.subscriptions
        hostile = [h for h in every if any(topic_matches_sub(s, h[1]) for s in subscribed)]
        assert len(every) - len(hostile) == 1  # an extra topic level
        # hostile first, then the good day: nothing hostile may stop or poison what follows
        publish(mqtt_settings, [(topic, payload) for _name, topic, payload, _r in every])
        publish(mqtt_settings, good.messages)
        total = len(hostile) + len(good.recordable)
        assert recorder.wait_for(total, timeout_s=60)
        wait_until(
            lambda: len(watcher.payloads(deadletter_topic(root))) >= len(hostile),
            timeout_s=10,
            what="the dead letters",
        )
        letters = watcher.payloads(deadletter_topic(root))
    stats = recorder.recorder.stats
    assert stats.rejected == len(hostile)
    assert stats.written_messages == len(good.recordable)
    assert len(letters) == len(hostile)
    for (name, topic, payload, reason), letter in zip(hostile, letters, strict=True):
        assert letter["topic"] == topic, name
        assert reason in letter["reason"], (name, letter["reason"])
        assert letter["size"] == len(payload), name
        assert len(letter["payload"]) <= 2048
    assert stored_points(influx) == expected_points(good)
    tags = influx.query('SHOW TAG VALUES WITH KEY IN ("wearer", "team", "site", "gateway")')
    assert {str(r["value"]) for r in tags} <= {"w0000", "w0001", "t1", "s1", "g0000", "g0001"}
    assert {str(r["name"]) for r in influx.query("SHOW MEASUREMENTS")} == {
        "event",
        "minute",
        "device",
    }


def test_the_broker_hands_the_recorder_no_more_than_its_receive_maximum(
    mqtt_settings: MqttSettings, tmp_path: Path, start_recorder: StartRecorder
) -> None:
    """While InfluxDB is down, messages wait in the broker, not in the recorder's memory."""
    root = mqtt_settings.topic_root
    server = servers.influxd(tmp_path / "influxd")
    try:
        server.stop()
        influx = InfluxClient(InfluxSettings(url=server.url, database="bounded", timeout_s=2))
        traffic = contract_messages(root, wearers=1, hours=4.0)
        with watching(mqtt_settings, recorder_topic(root, "bounded")) as watcher:
            recorder = start_recorder(
                influx, client_id="bounded", batch_size=50, health_interval_s=0.2, retry_max_s=1
            )
            assert recorder.recorder.receive_maximum == 150
            publish(mqtt_settings, traffic.messages)
            health_topic = recorder_topic(root, "bounded")
            wait_until(
                lambda: (watcher.last(health_topic) or {}).get("held") == 150,
                timeout_s=20,
                what="the recorder to fill its window",
            )
            reports = watcher.payloads(health_topic)
            assert max(r["held"] for r in reports) == 150  # never more than the window
            assert reports[-1]["lag_s"] > 0
            assert reports[-1]["write_retries"] > 0
            assert reports[-1]["written_messages"] == 0
            server.start()  # InfluxDB back on the same port: everything arrives, once
            assert recorder.wait_for(len(traffic.recordable), timeout_s=60)
        assert stored_points(influx) == expected_points(traffic)
    finally:
        server.stop()


def test_points_influxdb_refuses_are_dead_lettered_and_the_rest_written(
    mqtt_settings: MqttSettings,
    influx: InfluxClient,
    start_recorder: StartRecorder,
    small_day: Callable[[str], Traffic],
) -> None:
    root = mqtt_settings.topic_root
    traffic = small_day(root)
    # someone wrote `steps` as a string into this shard: InfluxDB refuses every minute point
    first = min(m.start_s for m in traffic.minutes)
    influx.write([f'minute,wearer=intruder steps="many" {round(first * 1000)}'])
    with watching(mqtt_settings, deadletter_topic(root)) as watcher:
        recorder = start_recorder(influx, batch_size=300)
        publish(mqtt_settings, traffic.messages)
        assert recorder.wait_for(len(traffic.recordable), timeout_s=60)
        wait_until(
            lambda: len(watcher.payloads(deadletter_topic(root))) >= len(traffic.minutes),
            timeout_s=10,
            what="the dead letters",
        )
        letters = watcher.payloads(deadletter_topic(root))
    assert recorder.recorder.stats.rejected == len(traffic.minutes)
    assert all("field type conflict" in letter["reason"] for letter in letters)
    assert {letter["topic"].rsplit("/", 1)[1] for letter in letters} == {"metric"}
    stored = stored_points(influx)
    assert stored["event"] == expected_points(traffic)["event"]
    assert stored["device"] == expected_points(traffic)["device"]


class CountingInflux(InfluxClient):
    """The real client, noting the HTTP status of every refused write."""

    def __init__(self, settings: InfluxSettings) -> None:
        super().__init__(settings)
        self.refusals: list[int] = []

    def write(self, lines: Sequence[str]) -> None:
        try:
            super().write(lines)
        except InfluxRejected as err:
            self.refusals.append(err.status)
            raise


def test_a_write_too_large_for_influxdb_is_split_not_lost(
    mqtt_settings: MqttSettings,
    tmp_path: Path,
    start_recorder: StartRecorder,
    small_day: Callable[[str], Traffic],
) -> None:
    root = mqtt_settings.topic_root
    server = servers.influxd(tmp_path / "influxd", max_body_size=8192)
    try:
        influx = CountingInflux(InfluxSettings(url=server.url, database="small_bodies"))
        traffic = small_day(root)
        recorder = start_recorder(influx, batch_size=500, flush_interval_s=1.0)
        publish(mqtt_settings, traffic.messages)
        assert recorder.wait_for(len(traffic.recordable), timeout_s=60)
        assert recorder.recorder.stats.rejected == 0
        assert stored_points(influx) == expected_points(traffic)
        assert 413 in influx.refusals  # the test did make InfluxDB refuse big bodies
    finally:
        server.stop()


def test_health_is_published_retained_with_the_counters(
    mqtt_settings: MqttSettings,
    influx: InfluxClient,
    start_recorder: StartRecorder,
    small_day: Callable[[str], Traffic],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level("INFO", logger="dashboards.recorder")
    root = mqtt_settings.topic_root
    traffic = small_day(root)
    topic = recorder_topic(root, "healthy")
    recorder = start_recorder(influx, client_id="healthy", health_interval_s=0.3)
    publish(mqtt_settings, traffic.messages)
    publish(mqtt_settings, [(f"{root}/w1/event", b"nonsense")])
    assert recorder.wait_for(len(traffic.recordable) + 1, timeout_s=60)
    with watching(mqtt_settings, topic) as watcher:  # subscribed late: the report is retained
        wait_until(
            lambda: (watcher.last(topic) or {}).get("written_messages") == len(traffic.recordable),
            timeout_s=10,
            what="a health report with every message written",
        )
        report = watcher.last(topic)
    assert report is not None
    assert report["type"] == "recorder_health"
    assert report["status"] == "online"
    assert report["received"] == len(traffic.recordable) + 1
    assert report["rejected"] == 1
    assert report["held"] == 0
    assert any("health received=" in r.getMessage() for r in caplog.records)
    recorder.stop()
    with watching(mqtt_settings, topic) as watcher:
        wait_until(lambda: watcher.last(topic) is not None, timeout_s=5, what="the last report")
        assert (watcher.last(topic) or {})["status"] == "offline"


def test_two_recorders_share_one_subscription(
    mqtt_settings: MqttSettings,
    influx: InfluxClient,
    start_recorder: StartRecorder,
    small_day: Callable[[str], Traffic],
) -> None:
    traffic = small_day(mqtt_settings.topic_root)
    a = start_recorder(influx, share_group="recorders", batch_size=100)
    b = start_recorder(influx, share_group="recorders", batch_size=100)
    publish(mqtt_settings, traffic.messages)
    wait_until(
        lambda: (
            a.recorder.stats.written_messages + b.recorder.stats.written_messages
            >= len(traffic.recordable)
        ),
        timeout_s=60,
        what="both recorders to write everything",
    )
    a_written, b_written = a.recorder.stats.written_messages, b.recorder.stats.written_messages
    assert a_written + b_written == len(traffic.recordable)  # each message went to one of them
    assert a_written > 0
    assert b_written > 0
    assert stored_points(influx) == expected_points(traffic)
    assert len(stored_event_ids(influx)) == expected_points(traffic)["event"]


def test_influxdb_2_path_records_end_to_end_into_a_fake_api_v2_write(
    mqtt_settings: MqttSettings,
    start_recorder: StartRecorder,
    small_day: Callable[[str], Traffic],
) -> None:
    """InfluxDB 2.x/3.x is not installed here: influxdb-client writes to a fake /api/v2/write."""
    traffic = small_day(mqtt_settings.topic_root)
    seen: set[bytes] = set()

    def answer(request: Request) -> int:  # every full batch is refused once: retried, not lost
        if len(request.lines) == 37 and request.body not in seen:
            seen.add(request.body)
            return 503
        return 204

    with fake_influx_v2(answer) as fake:
        influx = InfluxClient(
            InfluxSettings(url=fake.url, api="v2", org="ergo", database="posture", token="t0k")
        )
        recorder = start_recorder(influx, batch_size=37, retry_max_s=0.5)
        publish(mqtt_settings, traffic.messages)
        assert recorder.wait_for(len(traffic.recordable), timeout_s=60)
    probe = Recorder(mqtt_settings, influx, RecorderSettings())
    expected = {probe.line(topic, payload) for topic, payload in traffic.recordable}
    assert set(fake.written) == expected
    assert recorder.recorder.stats.write_retries > 0  # every full batch was refused once (503)
    assert all(r.headers["authorization"] == "Token t0k" for r in fake.requests)


@pytest.mark.parametrize("client_class", [LeanClient, paho.Client], ids=["lean", "paho"])
def test_acknowledged_messages_are_not_delivered_again(
    mqtt_settings: MqttSettings,
    influx: InfluxClient,
    small_day: Callable[[str], Traffic],
    client_class: type[paho.Client],
) -> None:
    traffic = small_day(mqtt_settings.topic_root)
    settings = RecorderSettings(
        client_id=f"rec-acks-{uuid.uuid4().hex[:6]}", batch_size=100, flush_interval_s=0.2
    )
    first = RecorderThread(Recorder(mqtt_settings, influx, settings, client_class=client_class))
    first.start()
    publish(mqtt_settings, traffic.messages)
    assert first.wait_for(len(traffic.recordable), timeout_s=60)
    time.sleep(0.3)  # the last PUBACKs leave
    first.stop()
    again = RecorderThread(Recorder(mqtt_settings, influx, settings, client_class=client_class))
    again.start()  # same session: only what was never acknowledged would come again
    time.sleep(1.5)
    assert again.stop().received == 0
    assert first.recorder.stats.received == len(traffic.recordable)
