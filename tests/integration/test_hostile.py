"""Hostile messages and hostile clients: one message never stops the recorder, a flood stays
within its bounds, and no user can take over another client's id on the shipped broker.

After each attack, every good message sent before and after it is in InfluxDB exactly once, and
the recorder is the process that started.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from analytics.contract import deadletter_topic, gateway_topic, recorder_topic
from dashboards.influx import InfluxClient
from dashboards.settings import RecorderSettings
from posture.testing import servers
from posture.testing.loadgen import TrafficPublisher, contract_messages
from posture.testing.recorder_process import RecorderProcess
from tests.conftest import DATASETS
from tests.hostile import hostile_messages
from tests.shipped_broker import ROOT, ShippedBroker
from transport.mqtt import connect, make_client
from transport.settings import MqttSettings

from .recording import (
    expected_points,
    stored_points,
    wait_until,
    watching,
)

pytestmark = pytest.mark.integration


def publish(settings: MqttSettings, messages: list[tuple[str, bytes]], *, qos: int = 1) -> None:
    if qos == 1:
        with TrafficPublisher(settings, f"pub-{uuid.uuid4().hex[:8]}") as publisher:
            publisher.publish(messages)
            publisher.flush(timeout_s=60)
            assert not publisher.refused
        return
    client = make_client(settings, f"pub0-{uuid.uuid4().hex[:8]}")
    client.max_queued_messages_set(0)
    connect(client, settings)
    try:
        for topic, payload in messages:
            assert client.publish(topic, payload, qos=0).rc == paho.MQTT_ERR_SUCCESS
    finally:
        client.disconnect()
        client.loop_stop()


def mosquitto_version() -> tuple[int, ...]:
    out = subprocess.run(
        [str(servers.find_binary("mosquitto")), "-h"], capture_output=True, text=True
    ).stdout
    found = re.search(r"version (\d+)\.(\d+)\.(\d+)", out)
    assert found, out[:200]
    return tuple(int(x) for x in found.groups())


def start_recorder(
    mqtt: MqttSettings, influx: InfluxClient, tmp_path: Path, client_id: str
) -> RecorderProcess:
    settings = RecorderSettings(client_id=client_id, flush_interval_s=0.2, health_interval_s=0.5)
    health = recorder_topic(mqtt.topic_root, client_id)
    with watching(mqtt, health) as watcher:
        process = RecorderProcess(
            mqtt, influx.settings, settings, log_path=tmp_path / "recorder.log"
        ).start()
        wait_until(lambda: watcher.last(health) is not None, timeout_s=30, what="the recorder")
    return process


def test_no_message_stops_the_recorder_process(
    mqtt_settings: MqttSettings, influx: InfluxClient, tmp_path: Path
) -> None:
    root = mqtt_settings.topic_root
    traffic = contract_messages(root, wearers=2, hours=1.0)
    half = len(traffic.messages) // 2
    hostile = hostile_messages(root)
    process = start_recorder(mqtt_settings, influx, tmp_path, f"rec-h-{uuid.uuid4().hex[:6]}")
    pid = process.process.pid
    with watching(mqtt_settings, deadletter_topic(root)) as letters:
        publish(mqtt_settings, list(traffic.messages[:half]))
        publish(mqtt_settings, [(topic, payload) for _n, topic, payload, _r in hostile])
        publish(mqtt_settings, list(traffic.messages[half:]))
        wait_until(
            lambda: stored_points(influx) == expected_points(traffic),
            timeout_s=60,
            what="every good message in InfluxDB",
        )
        subscribed = len(hostile) - 1  # all but the one with an extra topic level
        wait_until(
            lambda: len(letters.payloads(deadletter_topic(root))) >= subscribed,
            timeout_s=60,
            what="a dead letter for each hostile message",
        )
        reasons = [letter["reason"] for letter in letters.payloads(deadletter_topic(root))]
    assert process.process.poll() is None, process.output()[-3000:]
    assert process.process.pid == pid
    assert any("nested deeper" in r for r in reasons)
    time.sleep(0.5)
    assert stored_points(influx) == expected_points(traffic)  # exactly once, nothing more
    assert process.stop() == 0
    assert "Traceback" not in process.output()


@pytest.mark.parametrize("qos", [0, 1])
def test_a_flood_of_bad_messages_stays_within_the_receive_maximum(
    mqtt_settings: MqttSettings, influx: InfluxClient, tmp_path: Path, qos: int
) -> None:
    root = mqtt_settings.topic_root
    traffic = contract_messages(root, wearers=1, hours=0.5)
    client_id = f"rec-f-{uuid.uuid4().hex[:6]}"
    receive_maximum = 3 * RecorderSettings().batch_size
    health = recorder_topic(root, client_id)
    flood = [(f"{root}/w0000/event", b'{"v":1,"type":"event",%d' % i) for i in range(20_000)]
    process = start_recorder(mqtt_settings, influx, tmp_path, client_id)
    with watching(mqtt_settings, health) as watcher:
        publish(mqtt_settings, list(traffic.messages[:40]))
        publish(mqtt_settings, flood, qos=qos)
        publish(mqtt_settings, list(traffic.messages[40:]))
        wait_until(
            lambda: stored_points(influx) == expected_points(traffic),
            timeout_s=120,
            what="every good message in InfluxDB",
        )
        wait_until(
            lambda: (watcher.last(health) or {}).get("held") == 0,
            timeout_s=60,
            what="the recorder to settle the flood",
        )
        reports = watcher.payloads(health)
    held = [r["held"] for r in reports if "held" in r]
    if qos == 0 or mosquitto_version() >= (2, 0, 13):
        assert max(held) <= receive_maximum, held
    # else: mosquitto before 2.0.13 (Debian 12 has 2.0.11) hands a v5 client more than its
    # Receive Maximum once it acknowledges in order (mosquitto issues #2301 and #2306, fixed in
    # 2.0.13); `held` reports what the recorder really holds (docs/recorder.md)
    last = reports[-1]
    if qos == 1:  # QoS 1 is never dropped: every one is dead-lettered
        assert (last["rejected"], last["dropped"]) == (len(flood), 0)
    else:  # QoS 0 is outside the contract: the broker may drop some too
        assert last["rejected"] + last["dropped"] <= len(flood)
        assert last["dropped"] > 0
    assert process.process.poll() is None
    assert process.stop() == 0


# -- hostile clients on the shipped broker -------------------------------------------------------


class Session:
    """A client with a persistent session that counts its messages and disconnections."""

    def __init__(self, settings: MqttSettings, client_id: str, topic: str) -> None:
        self.settings, self.client_id, self.topic = settings, client_id, topic
        self.received: list[bytes] = []
        self.disconnects = 0
        self.client: paho.Client | None = None

    def open(self) -> None:
        client = paho.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=self.client_id,
            protocol=MQTTProtocolVersion.MQTTv5,
        )
        client.username_pw_set(self.settings.username, self.settings.password_value())
        client.on_message = lambda _c, _u, m: self.received.append(bytes(m.payload))
        client.on_disconnect = self._on_disconnect
        subscribed = threading.Event()
        client.on_subscribe = lambda *_a: subscribed.set()
        props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        props.SessionExpiryInterval = 3600
        client.connect(self.settings.host, self.settings.port, clean_start=False, properties=props)
        client.loop_start()
        client.subscribe(self.topic, qos=1)
        assert subscribed.wait(5)
        self.client = client

    def _on_disconnect(self, *_args: object) -> None:
        self.disconnects += 1

    def close(self) -> None:
        assert self.client is not None
        self.client.on_disconnect = None
        self.client.disconnect()
        self.client.loop_stop()


def impersonate(settings: MqttSettings, client_id: str) -> None:
    """Connect with another client's id (a clean start would wipe its session), then leave."""
    client = paho.Client(
        callback_api_version=CallbackAPIVersion.VERSION2,
        client_id=client_id,
        protocol=MQTTProtocolVersion.MQTTv5,
    )
    client.username_pw_set(settings.username, settings.password_value())
    client.connect(settings.host, settings.port, clean_start=True)
    client.loop_start()
    time.sleep(0.2)
    client.disconnect()
    client.loop_stop()


def events(n: int, tag: str) -> list[tuple[str, bytes]]:
    return [(f"{ROOT}/w042/event", json.dumps({"n": i, "tag": tag}).encode()) for i in range(n)]


def test_no_user_can_take_over_another_clients_session(shipped: ShippedBroker) -> None:
    recorder = Session(shipped.settings("recorder"), "rec1", f"{ROOT}/w042/event")
    recorder.open()
    recorder.close()  # away: the broker queues its events in its persistent session
    publish(shipped.settings("gw1"), events(20, "queued"))
    for stolen in ("rec1", "recorder"):  # the id it asked for, and the one the broker gave it
        impersonate(shipped.settings("gw1"), stolen)
    recorder.open()
    wait_until(lambda: len(recorder.received) >= 20, timeout_s=10, what="the queued events")
    # while it is connected, gw1 keeps coming back under its id: it is never knocked off
    for _ in range(5):
        impersonate(shipped.settings("gw1"), "rec1")
        impersonate(shipped.settings("gw1"), "recorder")
    publish(shipped.settings("gw1"), events(50, "live"))
    wait_until(lambda: len(recorder.received) >= 70, timeout_s=10, what="the live events")
    time.sleep(0.3)
    recorder.close()
    assert recorder.disconnects == 0
    tags = [json.loads(p)["tag"] for p in recorder.received]
    assert tags == ["queued"] * 20 + ["live"] * 50


def test_no_gateway_can_knock_another_off_and_fire_its_last_will(shipped: ShippedBroker) -> None:
    status = gateway_topic(ROOT, "gw2")
    gw2 = make_client(shipped.settings("gw2"), "posture-gateway-gw2", will=(status, b"offline"))
    disconnects: list[object] = []
    gw2.on_disconnect = lambda *args: disconnects.append(args)
    with watching(shipped.settings("monitor"), status) as monitor:
        connect(gw2, shipped.settings("gw2"))
        for stolen in ("posture-gateway-gw2", "gw2"):
            impersonate(shipped.settings("gw1"), stolen)
        time.sleep(0.5)
        assert gw2.is_connected()
        assert disconnects == []
        assert monitor.messages == []  # no last will
        gw2.on_disconnect = None
        gw2.disconnect()
        gw2.loop_stop()


def gateway_cli(
    shipped: ShippedBroker, tmp_path: Path, *, wearer: str
) -> tuple[subprocess.CompletedProcess[str], Path]:
    """`posture gateway` as gw1 on the shipped broker, with Home Assistant discovery on, one
    virtual micro:bit configured for `wearer`."""
    config = tmp_path / "posture.toml"
    config.write_text(
        f"""
[gateway]
id = "gw1"
[[gateway.sensors]]
address = "D0:5E:00:00:0F:01"
profile = "microbit"
wearer = "{wearer}"
[home_assistant]
enabled = true
"""
    )
    mqtt = shipped.settings("gw1")
    env = {
        "POSTURE_MQTT__HOST": mqtt.host,
        "POSTURE_MQTT__PORT": str(mqtt.port),
        "POSTURE_MQTT__USERNAME": "gw1",
        "POSTURE_MQTT__PASSWORD": shipped.passwords["gw1"],
    }
    clean = {k: v for k, v in os.environ.items() if not k.startswith("POSTURE_")}
    recording = DATASETS / "uci_hapt_waist/user01_exp01.csv"
    result = subprocess.run(
        [
            *(sys.executable, "-m", "posture.cli", "gateway", "-c", str(config)),
            *("--virtual", f"microbit={recording}", "--speed", "20", "--seconds", "6"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={**clean, **env, "COLUMNS": "200"},
    )
    return result, config


def test_home_assistant_discovery_passes_the_shipped_acl(
    shipped: ShippedBroker, tmp_path: Path
) -> None:
    with watching(shipped.settings("homeassistant"), "homeassistant/#") as home_assistant:
        result, _config = gateway_cli(shipped, tmp_path, wearer="w042")
        wait_until(lambda: len(home_assistant.messages) >= 4, timeout_s=10, what="discovery")
    assert result.returncode == 0, result.stderr[-2000:]
    assert all("/posture_w042/" in topic for topic, _ in home_assistant.messages)


def test_a_message_the_broker_refuses_stops_the_gateway_with_one_line(
    shipped: ShippedBroker, tmp_path: Path
) -> None:
    result, _config = gateway_cli(shipped, tmp_path, wearer="w099")  # not gw1's in the ACL
    assert result.returncode == 1
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.stderr[-2000:]
    assert "refused the message to" in errors[0]
    assert "Not authorized" in errors[0]
