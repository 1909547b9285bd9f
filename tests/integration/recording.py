"""Helpers for the recorder's integration tests: watch topics, count what InfluxDB holds,
run `posture recorder` as a real process."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import paho.mqtt.client as paho

from dashboards.influx import InfluxClient, InfluxRejected
from dashboards.settings import InfluxSettings, RecorderSettings
from posture.loadgen import Traffic
from transport.mqtt import connect, make_client
from transport.settings import MqttSettings

MEASURED = {"event": "end_s", "minute": "slouch_s", "device": "connected"}


def wait_until(condition: Callable[[], bool], *, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s:g} s waiting for {what}")
        time.sleep(0.05)


def expected_points(traffic: Traffic) -> dict[str, int]:
    """Points the traffic must leave in InfluxDB: one per distinct record key."""
    return {
        "event": len({e.event_id for e in traffic.events}),  # one point per event id
        "minute": len({(m.wearer_id, m.start_s) for m in traffic.minutes}),
        "device": len({(d.gateway_id, d.sensor_id, d.t_s) for d in traffic.devices}),
    }


def stored_points(influx: InfluxClient) -> dict[str, int]:
    """Points per measurement in InfluxDB (0 for a measurement, or a database, with none)."""
    counts = {}
    for measurement, field_name in MEASURED.items():
        try:
            rows = influx.query(f'SELECT count("{field_name}") FROM "{measurement}"')
        except InfluxRejected as err:
            if "database not found" not in str(err):
                raise
            rows = []
        counts[measurement] = sum(int(r["count"]) for r in rows)
    return counts


def stored_event_ids(influx: InfluxClient) -> list[str]:
    return sorted(str(r["event_id"]) for r in influx.query('SELECT "event_id" FROM "event"'))


@dataclass
class Watcher:
    """An MQTT client that collects every message on some topics (QoS 1)."""

    messages: list[tuple[str, bytes]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def payloads(self, topic: str) -> list[dict[str, Any]]:
        with self.lock:
            return [json.loads(p) for t, p in self.messages if t == topic and p]

    def last(self, topic: str) -> dict[str, Any] | None:
        found = self.payloads(topic)
        return found[-1] if found else None


@contextmanager
def watching(settings: MqttSettings, *topics: str, client_id: str = "") -> Iterator[Watcher]:
    watcher = Watcher()
    client = make_client(settings, client_id or f"watch-{os.getpid()}-{time.monotonic_ns()}")
    subscribed = threading.Event()

    def on_message(_c: object, _u: object, msg: paho.MQTTMessage) -> None:
        with watcher.lock:
            watcher.messages.append((msg.topic, bytes(msg.payload)))

    client.on_message = on_message
    client.on_subscribe = lambda *_args: subscribed.set()
    connect(client, settings)
    client.subscribe([(t, 1) for t in topics])
    assert subscribed.wait(5), "watcher not subscribed"
    try:
        yield watcher
    finally:
        client.disconnect()
        client.loop_stop()


def recorder_env(
    mqtt: MqttSettings, influx: InfluxSettings, recorder: RecorderSettings
) -> dict[str, str]:
    """`POSTURE_*` variables that configure `posture recorder` like these settings."""
    env: dict[str, str] = {}
    sections: Mapping[str, Any] = {
        "MQTT": mqtt.model_dump(exclude_none=True),
        "INFLUX": influx.model_dump(exclude_none=True),
        "RECORDER": recorder.model_dump(exclude_none=True),
    }
    for section, values in sections.items():
        for key, value in values.items():
            text = value.get_secret_value() if hasattr(value, "get_secret_value") else value
            env[f"POSTURE_{section}__{key.upper()}"] = (
                str(text).lower() if isinstance(text, bool) else str(text)
            )
    return env


class RecorderProcess:
    """`posture recorder` as a real process, as an operator runs it.

    Every one started is in `started`; the integration tests' conftest stops those still
    running after each test, also when the test failed before it could stop them.
    """

    started: ClassVar[list[RecorderProcess]] = []

    def __init__(
        self, env: Mapping[str, str], *, log_path: Path, args: tuple[str, ...] = ()
    ) -> None:
        self.log_path = log_path
        command = [sys.executable, "-m", "posture.cli", *args, "recorder"]
        self._log = log_path.open("ab")
        clean = {k: v for k, v in os.environ.items() if not k.startswith("POSTURE_")}
        self.process = subprocess.Popen(
            command, stdout=self._log, stderr=subprocess.STDOUT, env={**clean, **env}
        )
        RecorderProcess.started.append(self)

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)
        self._log.close()

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()
        return self.process.returncode

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")
