"""Hostile MQTT messages, each with the reason the recorder must give for refusing it."""

from __future__ import annotations

import json
import time

from analytics.contract import encode_device, encode_minute
from posture.testing.loadgen import contract_messages


def _event(**changes: object) -> bytes:
    base: dict[str, object] = {
        "v": 1,
        "type": "event",
        "wearer": "w1",
        "kind": "posture_bout",
        "start": 1_790_000_000,
        "end": 1_790_000_060,
        "values": {"posture": "sitting", "duration_s": 60},
    }
    base.update(changes)
    return json.dumps(base).encode()


def _event_without(key: str) -> bytes:
    data = json.loads(_event())
    del data[key]
    return json.dumps(data).encode()


# Refused by the recorder's own reading of the gateways' statuses, not by `to_line`.
RECORDER_ONLY = frozenset({"device-on-status", "unserved-wearer"})


def hostile_messages(root: str) -> list[tuple[str, str, bytes, str]]:
    """(name, topic, payload, reason) of messages that must go to the dead-letter topic."""
    traffic = contract_messages(root, wearers=1, hours=0.5)
    event_topic = f"{root}/w1/event"
    minute = encode_minute(traffic.minutes[0]).replace(b'"w0000"', b'"w1"')
    device = encode_device(traffic.devices[0])
    foreign = device.replace(b'"w0000"', b'"w0043"')  # g0000 serves w0000 only
    now = time.time()
    deep = b'{"v":1,"type":"event","x":' + b"[" * 2000 + b"]" * 2000 + b"}"

    def calibration(placement: str) -> bytes:
        return _event(kind="calibration", values={"source": "walk", "placement": placement})

    return [
        ("invalid-json", event_topic, b'{"v":1,"type":"event",', "not JSON"),
        ("invalid-utf8", event_topic, b"\xff\xfe\x00{", "not JSON"),
        ("not-an-object", event_topic, b"[1,2,3]", "not an object"),
        ("wrong-type", event_topic, _event(start="soon"), "'start' must be"),
        ("bool-for-number", event_topic, _event(end=True), "boolean"),
        ("missing-field", event_topic, _event_without("kind"), "missing field 'kind'"),
        ("nan", event_topic, _event().replace(b"1790000060", b"NaN"), "non-finite"),
        ("infinity-in-values", event_topic, _event().replace(b"60}", b"Infinity}"), "non-finite"),
        ("overflow", event_topic, _event().replace(b"1790000060", b"1e999"), "out of range"),
        ("one-megabyte", event_topic, b" " * (1 << 20), "exceeds"),
        ("schema-v2", event_topic, _event(v=2), "unsupported schema version 2"),
        ("no-version", event_topic, _event(v=None), "unsupported schema version"),
        ("unknown-type", event_topic, _event(type="lunch"), "unknown payload type"),
        ("unknown-value", event_topic, _event(values={"evil": 1}), "unknown value name"),
        ("newline-in-value", event_topic, _event(values={"posture": "x\nevil v=1"}), "control"),
        ("topic-extra-level", f"{root}/w1/event/x", _event(), "is not <root>/<wearer>/<channel>"),
        ("topic-space-injection", f"{root}/w1 evil=1/event", _event(), "is not <root>/<wearer>"),
        ("topic-comma-injection", f"{root}/w1,team=x/event", _event(), "is not <root>/<wearer>"),
        ("topic-reserved-wearer", f"{root}/recorder/event", _event(wearer="recorder"), "is not"),
        ("wearer-mismatch", f"{root}/w2/event", _event(), "payload for wearer 'w1' on wearer 'w2'"),
        ("payload-tag-injection", event_topic, _event(wearer="w1,team=x"), "pseudonym"),
        ("team-injection", event_topic, _event(team="t1 evil=1"), "'team'"),
        ("event-on-metric", f"{root}/w1/metric", _event(), "payload on a metric topic"),
        ("minute-on-event", event_topic, minute, "payload on a event topic"),
        ("id-mismatch", event_topic, _event(id="0123456789abcdef"), "does not match"),
        ("other-gateway", f"{root}/gateway/g9/device", device, "on gateway 'g9'"),
        ("device-on-status", f"{root}/gateway/g0000/status", device, "expected 'status'"),
        ("placement-injection", event_topic, calibration("trunk\\"), "is not one of"),
        ("placement-unknown", event_topic, calibration("ankle"), "is not one of"),
        ("year-1970", event_topic, _event(start=0, end=0), "outside the window"),
        ("year-2261", event_topic, _event(start=9.2e9, end=9.2e9), "outside the window"),
        ("beyond-influxdb", event_topic, _event(start=1e11, end=1e11), "out of range"),
        ("next-week", event_topic, _event(start=now + 7 * 86400, end=now + 7 * 86400), "after now"),
        ("negative-duration", event_topic, _event(values={"duration_s": -5}), "negative"),
        ("negative-interruptions", event_topic, _event(values={"interruptions": -1}), "negative"),
        ("nested-2000-deep", event_topic, deep, "nested deeper"),
        # last: refused once its gateway's status (published with the good traffic) arrives
        ("unserved-wearer", f"{root}/gateway/g0000/device", foreign, "which it does not serve"),
    ]
