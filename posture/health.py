"""`posture health`: are the recorders and gateways alive, judged by their retained reports.

Each recorder leaves a retained health report on `<root>/recorder/<id>/health` every
`health_interval_s` (and a retained `offline` one, also as its last will); each gateway a
retained `online`/`offline` status on `<root>/gateway/<id>/status`, and where it has them
retained reports with a time (`"t"`) on `<root>/gateway/<id>/<channel>`. A component is healthy
when its latest report says online and is younger than `max_age_s`; one that was asked for by
name and left no report at all is missing. The judging (`judge`) is a pure function; `collect`
reads the retained reports from the broker.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import paho.mqtt.client as paho

from transport.mqtt import connect, make_client
from transport.settings import MqttSettings


@dataclass(frozen=True, slots=True)
class Report:
    """One retained report: who left it, on which channel, what it says."""

    kind: str  # "recorder" or "gateway"
    name: str  # recorder or gateway id
    channel: str  # "health", "status", ...
    payload: bytes


@dataclass(frozen=True, slots=True)
class Verdict:
    kind: str
    name: str
    healthy: bool
    reason: str  # "online, report 12 s old", "stale: last report 400 s ago", ...


def _read(payload: bytes) -> tuple[str | None, float | None]:
    """(status, t) of a report; raises ValueError if it is not a JSON object."""
    data = json.loads(payload)
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    status, t = data.get("status"), data.get("t")
    if not isinstance(t, int | float) or isinstance(t, bool) or not math.isfinite(t):
        t = None
    return (status if isinstance(status, str) else None), (None if t is None else float(t))


def judge(
    reports: Iterable[Report],
    *,
    now_s: float,
    max_age_s: float,
    expected: Mapping[str, Iterable[str]] | None = None,
) -> list[Verdict]:
    """A verdict per recorder and gateway that left reports or was expected (kind -> names)."""
    seen: dict[tuple[str, str], list[Report]] = {}
    for report in reports:
        seen.setdefault((report.kind, report.name), []).append(report)
    for kind, names in (expected or {}).items():
        for name in names:
            seen.setdefault((kind, name), [])
    return [
        _verdict(kind, name, got, now_s, max_age_s) for (kind, name), got in sorted(seen.items())
    ]


def _verdict(kind: str, name: str, got: list[Report], now_s: float, max_age_s: float) -> Verdict:
    if not got:
        return Verdict(kind, name, healthy=False, reason="missing: no retained report")
    newest: float | None = None
    for report in got:
        try:
            status, t = _read(report.payload)
        except ValueError:
            return Verdict(kind, name, False, f"unreadable {report.channel} report")
        if status is not None and status != "online":
            return Verdict(kind, name, False, f"{status} ({report.channel})")
        if t is not None:
            newest = t if newest is None else max(newest, t)
    if newest is None:
        return Verdict(kind, name, True, "online (its reports carry no time)")
    age = now_s - newest
    if age > max_age_s:
        return Verdict(kind, name, False, f"stale: last report {age:.0f} s ago")
    return Verdict(kind, name, True, f"online, last report {max(age, 0):.0f} s ago")


def _report_of(topic: str, root: str, payload: bytes) -> Report | None:
    parts = topic[len(root) + 1 :].split("/") if topic.startswith(root + "/") else []
    if len(parts) != 3 or parts[0] not in ("recorder", "gateway") or not payload:
        return None  # an empty retained payload clears a report: nothing to judge
    if parts[0] == "gateway" and parts[2] not in ("status", "health"):
        return None  # device reports are per sensor, not the gateway's own
    return Report(kind=parts[0], name=parts[1], channel=parts[2], payload=payload)


def collect(settings: MqttSettings, *, wait_s: float = 2.0) -> list[Report]:
    """The retained reports of every recorder and gateway; raises `BrokerError`.

    Retained messages come right after the subscription; `wait_s` is how long to listen for them.
    """
    root = settings.topic_root
    reports: list[Report] = []
    lock = threading.Lock()
    client = make_client(settings, f"posture-health-{int(time.time())}")

    def on_message(_c: object, _u: object, msg: paho.MQTTMessage) -> None:
        if msg.retain and (report := _report_of(msg.topic, root, bytes(msg.payload))):
            with lock:
                reports.append(report)

    client.on_message = on_message
    client.on_connect = lambda c, *_: c.subscribe(
        [(f"{root}/recorder/+/+", 0), (f"{root}/gateway/+/+", 0)]
    )
    connect(client, settings)
    try:
        time.sleep(wait_s)
    finally:
        client.disconnect()
        client.loop_stop()
    with lock:
        return list(reports)
