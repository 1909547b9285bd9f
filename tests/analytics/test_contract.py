"""The MQTT payload codec: round trips, and hostile input that is always a PayloadError."""

from __future__ import annotations

import contextlib
import dataclasses
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from analytics.contract import (
    NON_NEGATIVE,
    VALUE_CHOICES,
    VALUE_TYPES,
    deadletter_topic,
    decode,
    decode_state,
    encode_device,
    encode_event,
    encode_minute,
    encode_state,
    gateway_topic,
    parse_gateway_topic,
    parse_wearer_topic,
    recorder_topic,
    wearer_topic,
)
from analytics.delivery import decode_status, encode_status
from analytics.offline import analyze
from analytics.records import (
    DeviceHealth,
    Event,
    EventKind,
    MinuteMetrics,
    Placement,
    Posture,
    WearerState,
)
from analytics.wire import RESERVED_IDS, PayloadError
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


# -- the whole contract: every payload type round-trips, topics and reserved ids ---------------

IDS = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,15}", fullmatch=True).filter(
    lambda s: s not in RESERVED_IDS
)
TIMES = st.floats(min_value=1e9, max_value=2e9).map(lambda t: round(t, 3))
PRINTABLE = st.text(st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), max_size=30)


def _value(name: str, kind: type) -> st.SearchStrategy[object]:
    if name in VALUE_CHOICES:
        return st.sampled_from(sorted(VALUE_CHOICES[name]))
    if kind is float:
        low = 0.0 if name in NON_NEGATIVE else -1e9
        return st.floats(min_value=low, max_value=1e9, allow_nan=False)
    if kind is int:
        return st.integers(0, 10**6)
    if kind is bool:
        return st.booleans()
    return PRINTABLE.filter(str.isprintable)


EVENTS = st.builds(
    lambda wearer, kind, start, length, values: Event(
        wearer, kind, start, round(start + length, 3), values
    ),
    IDS,
    st.sampled_from(EventKind),
    TIMES,
    st.floats(min_value=0, max_value=86400).map(lambda s: round(s, 3)),
    st.fixed_dictionaries({}, optional={k: _value(k, t) for k, t in VALUE_TYPES.items()}),
)


@given(EVENTS, st.sampled_from(["", "t1"]), st.sampled_from(["", "hq.2"]))
def test_any_event_round_trips(event: Event, team: str, site: str) -> None:
    message = decode(encode_event(event, team=team, site=site))
    assert message.record == event
    assert (message.team, message.site) == (team, site)


@given(
    st.lists(st.integers(0, 60), min_size=6, max_size=6).filter(lambda xs: sum(xs) == 60)
    | st.permutations([60, 0, 0, 0, 0, 0]),
    st.none() | st.floats(-90, 90),
    st.integers(0, 60),
)
def test_any_minute_round_trips(seconds: list[int], flexion: float | None, slouch: int) -> None:
    minute = MinuteMetrics(
        wearer_id="w1",
        start_s=1_790_000_040.0,
        posture_s=dict(zip(Posture, seconds, strict=True)),
        slouch_s=slouch,
        flexion_mean_deg=flexion,
        flexion_max_deg=flexion,
        band_s=(60, 0, 0),
        enmo_mg=12.5,
        steps=3,
    )
    assert decode(encode_minute(minute)).record == minute


@given(
    st.builds(
        DeviceHealth,
        gateway_id=IDS,
        sensor_id=IDS,
        wearer_id=IDS,
        placement=st.sampled_from(Placement),
        profile=st.sampled_from(["microbit", "thingy52", "polar_h10"]),
        t_s=TIMES,
        connected=st.booleans(),
        battery_pct=st.none() | st.integers(0, 100),
        rssi_dbm=st.none() | st.integers(-120, 0),
        samples=st.integers(0, 2**40),
        lost=st.integers(0, 2**20),
        reconnects=st.integers(0, 1000),
    )
)
def test_any_device_report_round_trips(health: DeviceHealth) -> None:
    assert decode(encode_device(health)).record == health


@given(
    st.builds(
        WearerState,
        wearer_id=IDS,
        t_s=TIMES,
        posture=st.sampled_from(Posture),
        posture_since_s=TIMES,
        sitting_since_s=st.none() | TIMES,
        calibrated=st.booleans(),
    )
)
def test_any_state_round_trips(state: WearerState) -> None:
    assert decode_state(encode_state(state, team="t1")) == state


def test_gateway_status_names_the_wearers_it_serves() -> None:
    status = decode_status(encode_status("online", ["w2", "w1", "w2"]))
    assert status.wearers == {"w1", "w2"}
    assert json.loads(encode_status("offline", ["w1"]))["wearers"] == ["w1"]
    with pytest.raises(PayloadError, match="not a valid pseudonym"):
        decode_status(b'{"v":1,"type":"status","status":"online","wearers":["w1 x"]}')


@pytest.mark.parametrize("status", ["online", "offline"])
def test_gateway_status_round_trips(status: str) -> None:
    assert decode_status(encode_status(status)).status == status
    # the foundation's publisher wrote it with spaces; that is the same payload
    assert decode_status(json.dumps({"v": 1, "type": "status", "status": status}).encode())


@pytest.mark.parametrize(
    ("decoder", "payload", "reason"),
    [
        (decode_state, encode_status("online"), "expected 'state'"),
        (decode_state, b'{"v":1,"type":"state","posture":"dancing"}', "unknown posture"),
        (decode_status, b'{"v":1,"type":"status","status":"asleep"}', "unknown gateway status"),
        (decode_status, b'{"v":2,"type":"status","status":"online"}', "schema version"),
    ],
)
def test_state_and_status_payloads_are_checked(decoder, payload: bytes, reason: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(PayloadError, match=reason):
        decoder(payload)


def test_topics_of_the_contract() -> None:
    root = "posture/v1"
    assert gateway_topic(root, "gw1", "device") == "posture/v1/gateway/gw1/device"
    assert parse_gateway_topic(root, "posture/v1/gateway/gw1/status") == ("gw1", "status")
    assert deadletter_topic(root) == "posture/v1/deadletter"
    assert recorder_topic(root, "posture-recorder") == "posture/v1/recorder/posture-recorder/health"
    assert recorder_topic(root, "rec/1 #") == "posture/v1/recorder/rec_1__/health"
    for reserved in sorted(RESERVED_IDS):
        with pytest.raises(ValueError, match="reserved"):
            wearer_topic(root, reserved, "event")
        with pytest.raises(PayloadError):
            parse_wearer_topic(root, f"{root}/{reserved}/event")


@pytest.mark.parametrize("text", ["line\nbreak", "tab\there", "\x00", "\ud800"])
def test_event_strings_must_be_printable(text: str) -> None:
    with pytest.raises(PayloadError, match="control or unprintable"):
        decode(_event(values={"posture": text}))


def _event_payload(**values: object) -> bytes:
    return json.dumps(
        {
            "v": 1,
            "type": "event",
            "wearer": "w1",
            "kind": "calibration",
            "start": 1.8e9,
            "end": 1.8e9,
            "values": values,
        }
    ).encode()


@pytest.mark.parametrize(
    ("values", "reason"),
    [
        ({"placement": "trunk\\"}, "is not one of"),
        ({"placement": "ankle"}, "is not one of"),
        ({"posture": "dancing"}, "is not one of"),
        ({"duration_s": -1}, "negative"),
        ({"interruptions": -3}, "negative"),
        ({"steps": -1}, "negative"),
        ({"duration_s": 10**13}, "out of range"),
    ],
)
def test_event_values_name_known_things_and_counts_are_not_negative(
    values: dict[str, object], reason: str
) -> None:
    with pytest.raises(PayloadError, match=reason):
        decode(_event_payload(**values))


def test_every_choice_and_non_negative_value_is_a_known_value() -> None:
    assert set(VALUE_CHOICES) <= set(VALUE_TYPES)
    assert set(NON_NEGATIVE) <= set(VALUE_TYPES)


@pytest.mark.parametrize("start", [-1.0, 9.3e9, 1e12])
def test_times_beyond_influxdbs_range_are_refused(start: float) -> None:
    payload = json.loads(_event_payload())
    payload |= {"start": start, "end": start}
    with pytest.raises(PayloadError, match="out of range"):
        decode(json.dumps(payload).encode())


def test_a_minute_says_why_seconds_had_no_data() -> None:
    minute = analyze_minute()
    with_gaps = dataclasses.replace(minute, nodata_s={"disconnected": 20, "unreported": 5})
    assert decode(encode_minute(with_gaps)).record == with_gaps
    payload = json.loads(encode_minute(with_gaps))
    for bad, reason in (({"cosmic": 1}, "unknown reason"), ({"gap": 61}, "out of range")):
        payload["nodata_s"] = bad
        with pytest.raises(PayloadError, match=reason):
            decode(json.dumps(payload).encode())


def analyze_minute() -> MinuteMetrics:
    from analytics.minutes import MinuteAggregator
    from tests.synthetic import timeline as seconds

    aggregator = MinuteAggregator("w1")
    return (aggregator.push(seconds(1_800_000_000.0, (Posture.SITTING, 1))) + aggregator.flush())[0]
