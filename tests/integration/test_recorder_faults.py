"""Faults while data flows, against real servers: the broker killed and restarted, InfluxDB
stopped for a minute, the recorder SIGKILLed mid-batch, a shared-subscription member killed.
After each, InfluxDB holds every record exactly once."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from analytics.contract import recorder_topic
from analytics.offline import analyze
from analytics.records import Placement
from dashboards.influx import InfluxClient
from dashboards.readback import wearer_records
from dashboards.recorder import Recorder, RecorderThread
from dashboards.settings import InfluxSettings, RecorderSettings
from posture.testing import servers
from posture.testing.loadgen import Traffic, TrafficPublisher, contract_messages
from posture.testing.pipeline import stream
from posture.testing.recorder_process import RecorderProcess
from sensor_gateway.outbox import Outbox
from sensor_gateway.publisher import MqttPublisher
from sensor_gateway.service import EdgeService, SensorKey
from sensor_gateway.traces import read_trace
from tests.conftest import DATASETS
from tests.hostile import hostile_messages
from tests.integration.recording import (
    Watcher,
    expected_points,
    stored_event_ids,
    stored_points,
    wait_until,
    watching,
)
from tests.shipped_broker import ROOT, shipped_broker
from transport.settings import MqttSettings

pytestmark = pytest.mark.integration

START = 1_790_000_000.0


def publish(
    settings: MqttSettings, messages: tuple[tuple[str, bytes], ...] | list, **kw: float
) -> None:
    with TrafficPublisher(settings, f"pub-{uuid.uuid4().hex[:8]}") as publisher:
        publisher.publish(messages, **kw)
        publisher.flush(timeout_s=120)
        assert not publisher.refused


def test_broker_killed_and_restarted_while_a_trace_replays_loses_and_doubles_nothing(
    tmp_path: Path, influx: InfluxClient
) -> None:
    """The shipped broker configuration as it is (credentials, ACL, persistence, its 60 s
    autosave), SIGKILLed mid-replay: the recorder's session is younger than the last save, so
    the broker comes back without it, and the gateway's outbox replays what it never
    confirmed."""
    broker = shipped_broker(tmp_path / "mosquitto")
    trace, _ = read_trace(DATASETS / "casale_chest/subject08.csv")
    trace = trace.shifted(START)
    offline = analyze({Placement.TRUNK: trace}, wearer_id="w042").output
    recorder = RecorderThread(
        Recorder(
            broker.settings("recorder"),
            influx,
            RecorderSettings(client_id="rec-kill-broker", flush_interval_s=0.2),
        )
    )
    recorder.start()
    publisher = MqttPublisher(
        broker.settings("gw1"), "gw1", Outbox(None), wearers=["w042"], team="t1", site="s1"
    )
    publisher.start()
    service = EdgeService({"w042": [Placement.TRUNK]}, publisher)
    killed_at: list[int] = []
    restarter: list[threading.Thread] = []

    def progress(fraction: float, _states: object) -> None:
        if fraction >= 0.3 and publisher.published and not killed_at:
            killed_at.append(publisher.published)
            broker.server.kill()  # SIGKILL: no chance to save anything
            restart = threading.Thread(target=lambda: (time.sleep(2.0), broker.server.start()))
            restart.start()
            restarter.append(restart)

    try:
        asyncio.run(
            stream(
                {SensorKey("w042", Placement.TRUNK): trace}, service, speed=900.0, progress=progress
            )
        )
        restarter[0].join()
        publisher.flush(timeout_s=120)  # every record confirmed by the recorder
        publisher.close()
        assert killed_at, "the broker was never killed"
        assert 0 < killed_at[0] < publisher.published  # killed mid-stream
        records = len(offline.events) + len(offline.minutes)
        assert recorder.wait_for(records, timeout_s=60)
    finally:
        stats = recorder.stop()
        broker.stop()
    assert stats.reconnects >= 1
    assert stats.sessions_lost >= 1  # the path this test is about: the broker lost the session
    assert stats.rejected == 0
    events, minutes = wearer_records(influx, "w042")
    assert sorted(minutes, key=lambda m: m.start_s) == offline.minutes
    assert events == sorted(offline.events, key=lambda e: (e.end_s, e.start_s, e.kind.value))


@pytest.mark.slow
def test_influxdb_stopped_for_60_s_mid_stream_loses_and_doubles_nothing(
    mqtt_settings: MqttSettings, tmp_path: Path
) -> None:
    server = servers.influxd(tmp_path / "influxd")
    influx = InfluxClient(InfluxSettings(url=server.url, database="outage"))
    traffic = contract_messages(mqtt_settings.topic_root, wearers=3, hours=3.0)
    third = len(traffic.messages) // 3
    recorder = RecorderThread(
        Recorder(
            mqtt_settings,
            influx,
            RecorderSettings(
                client_id=f"rec-outage-{uuid.uuid4().hex[:6]}",
                batch_size=100,
                flush_interval_s=0.2,
                retry_max_s=2.0,
            ),
        )
    )
    recorder.start()
    try:
        publish(mqtt_settings, traffic.messages[:third])
        assert recorder.wait_for(third - traffic.statuses, timeout_s=30)
        server.stop()
        down_at = time.monotonic()
        # the stream goes on while InfluxDB is down: the broker keeps what the recorder cannot take
        publish(mqtt_settings, traffic.messages[third : 2 * third], pause=0.005)
        stats = recorder.recorder.stats
        written_before = stats.written_messages
        time.sleep(max(0.0, 60.0 - (time.monotonic() - down_at)))
        assert stats.written_messages == written_before == third - traffic.statuses
        assert stats.write_retries >= 10
        server.start()  # same port, same data
        publish(mqtt_settings, traffic.messages[2 * third :])
        assert recorder.wait_for(len(traffic.recordable), timeout_s=120)
    finally:
        stats = recorder.stop()
        server.stop()
    server.start()
    try:
        assert stats.rejected == 0
        assert stats.written_messages == len(traffic.recordable)
        assert stored_points(influx) == expected_points(traffic)
    finally:
        server.stop()


def _recorder_process(
    mqtt: MqttSettings, influx: InfluxClient, tmp_path: Path, client_id: str, **settings: object
) -> RecorderProcess:
    values = {"client_id": client_id, "health_interval_s": 0.2} | settings
    return RecorderProcess(
        mqtt,
        influx.settings,
        RecorderSettings.model_validate(values),
        log_path=tmp_path / f"{client_id}.log",
    ).start()


def _health(watcher: Watcher, root: str, client_id: str) -> dict[str, Any]:
    return watcher.last(recorder_topic(root, client_id)) or {}


def _publish_in_background(
    settings: MqttSettings, traffic: Traffic, pause: float
) -> threading.Thread:
    thread = threading.Thread(
        target=publish, args=(settings, traffic.messages), kwargs={"pause": pause}
    )
    thread.start()
    return thread


def test_recorder_sigkilled_mid_batch_and_restarted_loses_and_doubles_nothing(
    mqtt_settings: MqttSettings, influx: InfluxClient, tmp_path: Path
) -> None:
    root = mqtt_settings.topic_root
    client_id = f"rec-sigkill-{uuid.uuid4().hex[:6]}"
    traffic = contract_messages(root, wearers=3, hours=3.0)
    total = len(traffic.messages)
    with watching(mqtt_settings, recorder_topic(root, client_id)) as watcher:
        first = _recorder_process(
            mqtt_settings, influx, tmp_path, client_id, batch_size=150, flush_interval_s=3.0
        )
        wait_until(
            lambda: bool(_health(watcher, root, client_id)), timeout_s=30, what="the recorder"
        )
        sender = _publish_in_background(mqtt_settings, traffic, pause=0.002)

        at_kill: dict[str, object] = {}

        def mid_batch() -> bool:
            at_kill.update(_health(watcher, root, client_id))
            return (
                int(at_kill.get("written_messages", 0)) >= 300 and int(at_kill.get("held", 0)) > 0
            )

        wait_until(mid_batch, timeout_s=60, what="the recorder to hold a batch it has not written")
        first.kill()  # SIGKILL, with a batch taken and not written
        held = int(at_kill["held"])  # type: ignore[call-overload]
        assert first.process.returncode == -9
        sender.join()  # the stream went on while no recorder ran: the broker kept it
        second = _recorder_process(
            mqtt_settings, influx, tmp_path, client_id, batch_size=150, flush_interval_s=0.2
        )
        try:
            wait_until(
                lambda: stored_points(influx) == expected_points(traffic),
                timeout_s=60,
                what="every record in InfluxDB",
            )
            wait_until(
                lambda: _health(watcher, root, client_id).get("held") == 0,
                timeout_s=10,
                what="the second recorder to settle",
            )
        finally:
            assert second.stop() == 0
        report = _health(watcher, root, client_id)
    assert held > 0
    # the second run got the messages the first had taken but not acknowledged, again
    written_first = total - int(report["written_messages"])
    assert int(report["received"]) >= total - written_first
    assert int(report["rejected"]) == 0
    assert stored_points(influx) == expected_points(traffic)
    assert len(stored_event_ids(influx)) == len(set(stored_event_ids(influx)))


def test_a_shared_subscription_member_sigkilled_and_restarted_loses_and_doubles_nothing(
    mqtt_settings: MqttSettings, influx: InfluxClient, tmp_path: Path
) -> None:
    """mosquitto issue 2662: in-flight messages to a member that drops must not be lost."""
    root = mqtt_settings.topic_root
    traffic = contract_messages(root, wearers=3, hours=3.0)
    ids = [f"rec-share-{n}-{uuid.uuid4().hex[:6]}" for n in range(2)]
    with watching(mqtt_settings, *(recorder_topic(root, i) for i in ids)) as watcher:
        a, b = (
            _recorder_process(
                mqtt_settings,
                influx,
                tmp_path,
                i,
                share_group="recorders",
                batch_size=100,
                flush_interval_s=2.0,
            )
            for i in ids
        )
        wait_until(lambda: all(_health(watcher, root, i) for i in ids), timeout_s=30, what="both")
        sender = _publish_in_background(mqtt_settings, traffic, pause=0.002)
        wait_until(
            lambda: (
                int(_health(watcher, root, ids[1]).get("held", 0)) > 0
                and int(_health(watcher, root, ids[1]).get("written_messages", 0)) > 0
            ),
            timeout_s=60,
            what="member b to hold unwritten messages",
        )
        b.kill()
        sender.join()
        b = _recorder_process(
            mqtt_settings,
            influx,
            tmp_path,
            ids[1],
            share_group="recorders",
            batch_size=100,
            flush_interval_s=0.2,
        )
        try:
            wait_until(
                lambda: stored_points(influx) == expected_points(traffic),
                timeout_s=60,
                what="every record in InfluxDB",
            )
        finally:
            assert a.stop() == 0
            assert b.stop() == 0
        reports = [_health(watcher, root, i) for i in ids]
    assert all(int(r["written_messages"]) > 0 for r in reports)
    assert stored_points(influx) == expected_points(traffic)


def test_dead_letters_published_while_the_broker_is_down_wait_for_it(tmp_path: Path) -> None:
    """paho queues a QoS 1 publish made while disconnected; the recorder must neither crash
    on it (MQTTMessageInfo.is_published() raises for such a message) nor lose it."""
    broker = servers.mosquitto(tmp_path / "mosquitto")
    influxd = servers.influxd(tmp_path / "influxd")
    influxd.stop()  # down: the recorder fills its window and stops taking messages
    root = "dl/v1"
    mqtt = MqttSettings(host="127.0.0.1", port=broker.port, topic_root=root, keepalive_s=5)
    influx = InfluxClient(InfluxSettings(url=influxd.url, database="dl", timeout_s=2))
    settings = RecorderSettings(
        client_id="dl", batch_size=5, flush_interval_s=0.2, retry_max_s=0.3, health_interval_s=0.2
    )
    recorder = RecorderThread(Recorder(mqtt, influx, settings))
    recorder.start()
    good = [(t, p) for t, p in contract_messages(root, hours=0.5).messages if "metric" in t][:10]
    hostile = [(t, p) for _n, t, p, _r in hostile_messages(root) if t.startswith(f"{root}/w1/")][:5]
    try:
        with watching(mqtt, recorder_topic(root, "dl")) as watcher:
            publish(mqtt, [*good, *hostile])
            wait_until(  # two batches taken (the writer retrying), the hostile five queued
                lambda: _health(watcher, root, "dl").get("held") == 15,
                timeout_s=20,
                what="the recorder to hold its whole window",
            )
        broker.kill()
        influxd.start()  # the batches are written; then the hostile five are dead-lettered
        stats = recorder.recorder.stats
        wait_until(lambda: stats.rejected >= 5, timeout_s=30, what="the dead letters")
        assert recorder.wait_for(15, timeout_s=5)  # alive and well, not crashed
        broker.start()  # same port: paho reconnects and sends the dead letters it kept
        wait_until(  # held counts the dead letters the broker has not acknowledged
            lambda: getattr(recorder.recorder.last_health, "held", None) == 0,
            timeout_s=30,
            what="the broker to take them",
        )
        assert stats.deadletter_refused == 0
        assert stats.written_messages >= 10
        assert stored_points(influx) == {"event": 0, "minute": 10, "device": 0}
    finally:
        recorder.stop()
        broker.stop()
        influxd.stop()


def test_the_shipped_broker_keeps_every_message_for_a_recorder_that_is_away(
    tmp_path: Path, influx: InfluxClient
) -> None:
    """mosquitto's default (max_queued_messages 1000) dropped 4,000 of 5,000 such messages."""
    broker = shipped_broker(tmp_path / "mosquitto")
    traffic = contract_messages(ROOT, fleet=[("w042", "gw1"), ("w043", "gw2")], days=4)
    assert len(traffic.messages) > 5000
    settings = RecorderSettings(client_id="rec-away", flush_interval_s=0.2)
    try:
        away = RecorderThread(Recorder(broker.settings("recorder"), influx, settings))
        away.start()  # subscribes: from now on the broker keeps messages for this session
        away.stop()
        for gateway in ("gw1", "gw2"):
            mine = [(t, p) for t, p in traffic.messages if gateway_of(t) == gateway]
            with TrafficPublisher(broker.settings(gateway), f"pub-{gateway}") as publisher:
                publisher.publish(mine)
                publisher.flush(timeout_s=60)
                assert not publisher.refused
        back = RecorderThread(Recorder(broker.settings("recorder"), influx, settings))
        back.start()
        try:
            assert back.wait_for(len(traffic.recordable), timeout_s=60)
        finally:
            back.stop()
    finally:
        broker.stop()
    assert stored_points(influx) == expected_points(traffic)


def gateway_of(topic: str) -> str:
    """Which gateway of the shipped ACL may publish on `topic`."""
    return "gw1" if "/w042/" in topic or "/gateway/gw1/" in topic else "gw2"
