"""`posture health`: recorders and gateways judged by their retained reports."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from analytics.contract import gateway_topic, recorder_topic
from posture.health import Report, judge
from transport.mqtt import connect, make_client
from transport.settings import MqttSettings

NOW = 1_000_000.0


def recorder(name: str, *, status: str = "online", age_s: float = 10.0) -> Report:
    payload = {"v": 1, "type": "recorder_health", "recorder": name, "status": status}
    payload["t"] = NOW - age_s
    return Report("recorder", name, "health", json.dumps(payload).encode())


def gateway(name: str, status: str = "online", channel: str = "status") -> Report:
    payload = json.dumps({"v": 1, "type": "status", "status": status}).encode()
    return Report("gateway", name, channel, payload)


@pytest.mark.parametrize(
    ("reports", "expected", "verdicts"),
    [
        ([recorder("r1")], {}, [("r1", True, "online, last report 10 s ago")]),
        ([recorder("r1", age_s=400)], {}, [("r1", False, "stale: last report 400 s ago")]),
        ([recorder("r1", status="offline")], {}, [("r1", False, "offline (health)")]),
        ([gateway("gw1")], {}, [("gw1", True, "online (its reports carry no time)")]),
        ([gateway("gw1", "offline")], {}, [("gw1", False, "offline (status)")]),
        ([], {"gateway": ["gw9"]}, [("gw9", False, "missing: no retained report")]),
        (
            [Report("recorder", "r1", "health", b"{not json")],
            {},
            [("r1", False, "unreadable health report")],
        ),
        (
            [gateway("gw1"), Report("gateway", "gw1", "health", b'{"t": 999000.0}')],
            {},
            [("gw1", False, "stale: last report 1000 s ago")],
        ),
    ],
)
def test_verdicts(
    reports: list[Report], expected: dict[str, list[str]], verdicts: list[tuple[str, bool, str]]
) -> None:
    got = judge(reports, now_s=NOW, max_age_s=180, expected=expected)
    assert [(v.name, v.healthy, v.reason) for v in got] == verdicts


def health(settings: MqttSettings, *args: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("POSTURE_")}
    env = clean | {
        "POSTURE_MQTT__HOST": settings.host,
        "POSTURE_MQTT__PORT": str(settings.port),
        "POSTURE_MQTT__TOPIC_ROOT": settings.topic_root,
    }
    return subprocess.run(
        [sys.executable, "-m", "posture.cli", "health", "--wait", "1", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )


@pytest.mark.integration
def test_exit_code_follows_the_retained_reports(mqtt_settings: MqttSettings) -> None:
    root = mqtt_settings.topic_root
    client = make_client(mqtt_settings, "health-test")
    connect(client, mqtt_settings)

    def retain(topic: str, payload: dict[str, object]) -> None:
        client.publish(topic, json.dumps(payload).encode(), qos=1, retain=True).wait_for_publish(5)

    try:
        retain(recorder_topic(root, "rec-a"), {"status": "online", "t": time.time()})
        retain(gateway_topic(root, "gw1"), {"v": 1, "type": "status", "status": "online"})
        healthy = health(mqtt_settings, "--gateway", "gw1")
        missing = health(mqtt_settings, "--gateway", "gw2")
        retain(recorder_topic(root, "rec-a"), {"status": "online", "t": time.time() - 600})
        stale = health(mqtt_settings)
    finally:
        client.disconnect()
        client.loop_stop()
    assert healthy.returncode == 0, healthy.stdout + healthy.stderr
    assert "ok recorder rec-a: online" in healthy.stdout
    assert "ok gateway gw1" in healthy.stdout
    assert missing.returncode == 1
    assert "FAIL gateway gw2: missing" in missing.stdout
    assert stale.returncode == 1
    assert "FAIL recorder rec-a: stale: last report 6" in stale.stdout  # 600 s and the wait
