"""Helpers for the recorder's integration tests: watch topics, count what InfluxDB holds
(`posture.testing.recorder_process` runs `posture recorder` as a real process)."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import paho.mqtt.client as paho

from dashboards.influx import InfluxClient, InfluxRejected
from posture.testing.loadgen import Traffic
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
