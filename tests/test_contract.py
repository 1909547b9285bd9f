"""The MQTT payload codec: round trips, and hostile input that is always a PayloadError."""

from __future__ import annotations

import contextlib
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from analytics.contract import (
    PayloadError,
    decode,
    encode_event,
    encode_minute,
    parse_wearer_topic,
    wearer_topic,
)
from analytics.offline import analyze
from sensor_gateway.simulator import simulate_day


@pytest.fixture(scope="module")
def output():  # type: ignore[no-untyped-def]
    return analyze(simulate_day(seed=3, hours=1.0, rate_hz=25.0).traces, wearer_id="w7").output


def test_every_event_and_minute_round_trips(output) -> None:  # type: ignore[no-untyped-def]
    for event in output.events:
        message = decode(encode_event(event, team="t1", site="s1"))
        assert message.record == event
        assert (message.team, message.site) == ("t1", "s1")
    for minute in output.minutes:
        assert decode(encode_minute(minute)).record == minute


def test_topics_round_trip_and_reject_injection() -> None:
    topic = wearer_topic("posture/v1", "w042", "event")
    assert parse_wearer_topic("posture/v1", topic) == ("w042", "event")
    for bad in (
        "posture/v1/w042/event/x",
        "posture/v1/+/event",
        "other/w042/event",
        "posture/v1/w042/oops",
    ):
        with pytest.raises(PayloadError):
            parse_wearer_topic("posture/v1", bad)
    with pytest.raises(ValueError, match="wearer id"):
        wearer_topic("posture/v1", "a/#", "event")


def _event(**changes: object) -> bytes:
    base = {
        "v": 1,
        "type": "event",
        "wearer": "w1",
        "kind": "slouch",
        "start": 10,
        "end": 20,
        "values": {},
    }
    base.update(changes)
    return json.dumps(base).encode()


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"{not json", "not JSON"),
        (b"\xff\xfe", "not JSON"),
        (b"[1, 2]", "not an object"),
        (_event(v=2), "schema version 2"),
        (_event(v=True), "schema version"),
        (_event(type="nope"), "unknown payload type"),
        (_event(kind="lunch"), "unknown event kind"),
        (_event(start="10"), "'start' must be"),
        (_event(start=True), "boolean"),
        (_event(end=5), "ends"),
        (_event(wearer="a/b"), "pseudonym"),
        (_event(values={"duration_s": "long"}), "must be float"),
        (_event(values={"Bad Key": 1}), "unknown value name"),
        (b'{"v":1,"type":"event","wearer":"w1","kind":"slouch","start":NaN,"end":1}', "non-finite"),
        (
            b'{"v":1,"type":"event","wearer":"w1","kind":"slouch","start":1e999,"end":1}',
            "out of range",
        ),
        (_event(id="0000"), "does not match"),
        (b" " * (1 << 20), "exceeds"),
        (_event(team="a b"), "'team'"),
    ],
)
def test_hostile_payloads_are_rejected_with_a_reason(payload: bytes, reason: str) -> None:
    with pytest.raises(PayloadError, match=reason):
        decode(payload)


@given(st.binary(max_size=300))
def test_arbitrary_bytes_decode_or_raise_payload_error(data: bytes) -> None:
    with contextlib.suppress(PayloadError):
        decode(data)


@given(
    st.recursive(
        st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=5),
        lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=8), c, max_size=4),
        max_leaves=12,
    )
)
def test_arbitrary_json_values_decode_or_raise_payload_error(value: object) -> None:
    for wrapped in (
        value,
        {"v": 1, "type": "event", "values": value},
        {"v": 1, "type": "minute", "posture_s": value},
    ):
        with contextlib.suppress(PayloadError):
            decode(json.dumps(wrapped).encode())
