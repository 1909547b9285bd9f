"""Messages to and from the wearer: nudge and command payloads round-trip; bad ones are refused."""

from __future__ import annotations

import contextlib
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from analytics.contract import PayloadError
from analytics.messages import Command, decode_command, decode_nudge, encode_command, encode_nudge
from analytics.records import Event, EventKind


@pytest.mark.parametrize(
    "command",
    [
        Command("w1", "snooze", minutes=30),
        Command("w1", "dnd", on=True),
        Command("w1", "dnd", on=False),
        Command("w1", "calibrate"),
        Command("w1", "quiet_hours", spans=(("12:00", "13:00"), ("22:00", "07:00"))),
        Command("w1", "quiet_hours"),
    ],
)
def test_commands_round_trip(command: Command) -> None:
    assert decode_command(encode_command(command)) == command


def _cmd(**fields: object) -> bytes:
    return json.dumps({"v": 1, "type": "cmd", "wearer": "w1"} | fields).encode()


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (_cmd(cmd="reboot"), "unknown command"),
        (_cmd(cmd="snooze", minutes=0), "out of range"),
        (_cmd(cmd="snooze", minutes="ten"), "must be"),
        (_cmd(cmd="dnd", on="yes"), "must be bool"),
        (_cmd(cmd="quiet_hours", spans=[["25:00", "01:00"]]), "out of range"),
        (_cmd(cmd="quiet_hours", spans=[["12:00"]]), "pairs"),
        (_cmd(cmd="quiet_hours", spans=[["12:00", "13:00"]] * 9), "at most 8"),
        (json.dumps({"v": 1, "type": "nudge", "wearer": "w1"}).encode(), "expected 'cmd'"),
        (b"\xff", "not JSON"),
    ],
)
def test_bad_commands_are_refused_with_a_reason(payload: bytes, reason: str) -> None:
    with pytest.raises(PayloadError, match=reason):
        decode_command(payload)


def test_a_nudge_round_trips_with_words_for_the_wearer() -> None:
    event = Event("w1", EventKind.NUDGE, 1000.0, 1000.0, {"reason": "sitting", "sitting_s": 2700.0})
    nudge = decode_nudge(encode_nudge(event))
    assert (nudge.wearer_id, nudge.t_s, nudge.reason, nudge.nudge_id) == (
        "w1",
        1000.0,
        "sitting",
        event.event_id,
    )
    assert "45 min" in nudge.message
    with pytest.raises(ValueError, match="not a nudge"):
        encode_nudge(Event("w1", EventKind.SLOUCH, 1.0, 2.0))


@given(st.binary(max_size=200))
def test_arbitrary_bytes_are_a_command_or_a_payload_error(data: bytes) -> None:
    with contextlib.suppress(PayloadError):
        decode_command(data)
    with contextlib.suppress(PayloadError):
        decode_nudge(data)
