"""The recorder's line protocol is byte for byte what influxdb-client's `Point` writes."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from analytics.records import Event, EventKind
from dashboards import lineprotocol, schema
from posture.testing.loadgen import Traffic, contract_messages


@pytest.fixture(scope="module")
def traffic() -> Traffic:
    return contract_messages("t/v1", wearers=2, hours=3.0)


@pytest.mark.parametrize(("team", "site"), [("t1", "s1"), ("", ""), ("team.a", "")])
def test_every_record_of_a_day_matches_point(traffic: Traffic, team: str, site: str) -> None:
    for e in traffic.events:
        expected = schema.event_point(e, team=team, site=site).to_line_protocol()
        assert lineprotocol.event_line(e, team=team, site=site) == expected
    for m in traffic.minutes:
        expected = schema.minute_point(m, team=team, site=site).to_line_protocol()
        assert lineprotocol.minute_line(m, team=team, site=site) == expected
    for d in traffic.devices:
        assert lineprotocol.device_line(d) == schema.device_point(d).to_line_protocol()


def test_optional_fields_are_left_out_as_point_does(traffic: Traffic) -> None:
    minute = dataclasses.replace(traffic.minutes[0], flexion_mean_deg=None, flexion_max_deg=None)
    device = dataclasses.replace(traffic.devices[0], battery_pct=None, rssi_dbm=None)
    assert "flexion" not in lineprotocol.minute_line(minute)
    assert lineprotocol.minute_line(minute) == schema.minute_point(minute).to_line_protocol()
    assert lineprotocol.device_line(device) == schema.device_point(device).to_line_protocol()


@given(
    text=st.text(max_size=40),
    number=st.floats(allow_nan=False, allow_infinity=False, min_value=-1e12, max_value=1e12),
)
def test_string_and_float_values_are_escaped_as_point_does(text: str, number: float) -> None:
    event = Event(
        "w1",
        EventKind.POSTURE_BOUT,
        1_790_000_000.0,
        1_790_000_060.0,
        {"posture": text, "duration_s": number, "prolonged": True, "interruptions": 3},
    )
    assert lineprotocol.event_line(event) == schema.event_point(event).to_line_protocol()


@pytest.mark.parametrize(
    ("value", "escaped"),
    [("a b", r"a\ b"), ("a,b", r"a\,b"), ("a=b", r"a\=b"), ("a\\", "a\\ "), ("a\nb", r"a\nb")],
)
def test_tag_values_are_escaped(value: str, escaped: str) -> None:
    assert lineprotocol.tag(value) == escaped
