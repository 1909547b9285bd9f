"""`posture gateway` as a user runs it: virtual sensors streaming recordings (accelerated), the
edge analytics, and a real mosquitto receiving the retained status with its last will, wearer
state, events and metrics, and device health reports that follow the contract."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from analytics.contract import decode
from analytics.records import DeviceHealth
from tests.conftest import DATASETS
from transport.settings import MqttSettings

pytestmark = pytest.mark.integration


class Listener:
    """Collects every message under a topic root (a real subscriber on the real broker)."""

    def __init__(self, settings: MqttSettings) -> None:
        self.messages: list[tuple[str, bytes, bool]] = []
        self._lock = threading.Lock()
        self.client = paho.Client(callback_api_version=CallbackAPIVersion.VERSION2)
        self.client.on_message = self._on_message
        self.client.connect(settings.host, settings.port)
        self.client.subscribe(f"{settings.topic_root}/#", qos=1)
        self.client.loop_start()

    def _on_message(self, _c: object, _u: object, message: paho.MQTTMessage) -> None:
        with self._lock:
            self.messages.append((message.topic, message.payload, bool(message.retain)))

    def on(self, suffix: str) -> list[bytes]:
        with self._lock:
            return [p for t, p, _ in self.messages if t.endswith(suffix)]

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def test_gateway_command_publishes_status_state_and_device_health(
    mqtt_settings: MqttSettings,
) -> None:
    listener = Listener(mqtt_settings)
    env = {
        **os.environ,
        "POSTURE_MQTT__HOST": mqtt_settings.host,
        "POSTURE_MQTT__PORT": str(mqtt_settings.port),
        "POSTURE_MQTT__TOPIC_ROOT": mqtt_settings.topic_root,
        "POSTURE_GATEWAY__ID": "gw-it",
        "POSTURE_GATEWAY__HEALTH_INTERVAL_S": "1",
    }
    recordings = [
        f"microbit={DATASETS / 'uci_hapt_waist/user01_exp01.csv'}",
        f"metamotion={DATASETS / 'forth_trace_torso/participant04_torso.csv'}",
    ]
    args = [a for r in recordings for a in ("--virtual", r)]
    result = subprocess.run(
        [sys.executable, "-m", "posture.cli", "gateway", *args, "--speed", "5", "--seconds", "8"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    listener.close()
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    statuses = [json.loads(p)["status"] for p in listener.on("/gateway/gw-it/status")]
    assert statuses[0] == "online"
    assert statuses[-1] == "offline"
    health = [decode(p).record for p in listener.on("/gateway/gw-it/device")]
    assert all(isinstance(h, DeviceHealth) for h in health)
    assert {h.profile for h in health} == {"microbit", "metamotion"}  # type: ignore[union-attr]
    final = {h.sensor_id: h for h in health}  # type: ignore[union-attr]
    assert all(h.samples > 1000 for h in final.values())  # 8 s at 5 x 50 Hz, minus start-up
    assert all(h.battery_pct == 87 for h in final.values())
    states = listener.on("/state")
    assert states, "wearer state is published"
    assert {json.loads(s)["wearer"] for s in states} == {"v01", "v02"}
    assert listener.on("/metric"), "per-minute metrics are published"
