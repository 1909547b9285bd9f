"""Messages to and from the wearer: nudge and command payloads round-trip; bad ones are refused."""

from __future__ import annotations

import contextlib
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from analytics.messages import (
    Command,
    busy_state,
    decode_command,
    decode_context,
    decode_nudge,
    desk_height_cm,
    encode_command,
    encode_nudge,
)
from analytics.records import Event, EventKind
from analytics.wire import PayloadError


@pytest.mark.parametrize(
    "command",
    [
        Command("w1", "snooze", minutes=30),
        Command("w1", "dnd", on=True),
        Command("w1", "dnd", on=False),
        Command("w1", "calibrate"),
        Command("w1", "quiet_hours", spans=(("12:00", "13:00"), ("22:00", "07:00"))),
        Command("w1", "quiet_hours"),
        Command("w1", "snooze", until_s=1_790_000_000.0),
        Command("w1", "dnd", on=True, until_s=1_790_000_000.0),
        Command("w1", "desk", position="stand"),
        Command("w1", "desk", position="sit"),
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
        (_cmd(cmd="desk"), "missing field 'position'"),
        (_cmd(cmd="desk", position="up"), "must be one of stand, sit"),
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


@pytest.mark.parametrize(
    "command",
    [
        Command("w1", "snooze", until_s=1_790_003_600.0),
        Command("w1", "dnd", on=True, until_s=1_790_003_600.0),
    ],
)
def test_commands_with_an_end_time_round_trip(command: Command) -> None:
    assert decode_command(encode_command(command)) == command


def test_a_command_that_takes_no_end_time_refuses_one() -> None:
    with pytest.raises(ValueError, match="no end time"):
        Command("w1", "calibrate", until_s=1.0)
    off = decode_command(_cmd(cmd="dnd", on=False, until=1_790_003_600))
    assert off.until_s is None  # switching off ends now


@pytest.mark.parametrize(
    ("payload", "busy", "until", "source"),
    [
        (
            b'{"busy": true, "until": 1790003600, "source": "calendar"}',
            True,
            1_790_003_600.0,
            "calendar",
        ),
        (b'{"busy": false}', False, None, "context"),
        (
            b'{"v": 1, "busy": true, "until": "2026-09-21T16:00:00+02:00"}',
            True,
            1_790_000_000.0 - 800,
            "context",
        ),
    ],
)
def test_context_payloads_say_busy_until_when_and_who(
    payload: bytes, busy: bool, until: float | None, source: str
) -> None:
    state = decode_context(payload)
    assert (state.busy, state.until_s, state.source) == (busy, until, source)


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b'{"until": 5}', "missing field 'busy'"),
        (b'{"busy": "yes"}', "must be bool"),
        (b'{"busy": true, "until": "tomorrow"}', "not an ISO 8601 time"),
        (b'{"busy": true, "until": "2026-09-21T16:00"}', "needs a time zone"),
        (b'{"busy": true, "until": NaN}', "non-finite"),
        (b'{"busy": true, "source": "my calendar"}', "'source'"),
        (b'{"v": 2, "busy": true}', "schema version"),
        (b"[true]", "not an object"),
        (b"on", "not JSON"),
        (b"x" * 5000, "at most 4096"),
    ],
)
def test_bad_context_payloads_are_refused_with_a_reason(payload: bytes, reason: str) -> None:
    with pytest.raises(PayloadError, match=reason):
        decode_context(payload)


@pytest.mark.parametrize(
    ("payload", "busy"),
    [(b"on", True), (b'"Busy"', True), (b" ON\n", True), (b"off", False), (b"available", False)],
)
def test_state_payloads_are_busy_when_they_say_a_busy_value(payload: bytes, busy: bool) -> None:
    assert busy_state(payload, ("on", "busy", "InACall")) is busy


def test_a_state_payload_that_is_not_short_text_is_refused() -> None:
    with pytest.raises(PayloadError, match="UTF-8"):
        busy_state(b"\xff\xfe", ("on",))
    with pytest.raises(PayloadError, match="at most 256"):
        busy_state(b"o" * 300, ("on",))


def test_a_command_with_a_position_is_a_desk_command() -> None:
    with pytest.raises(ValueError, match="desk command takes a position"):
        Command("w1", "desk")
    with pytest.raises(ValueError, match="desk command takes a position"):
        Command("w1", "snooze", minutes=5, position="stand")


def test_a_nudge_may_offer_to_move_the_desk() -> None:
    event = Event("w1", EventKind.NUDGE, 1000.0, 1000.0, {"reason": "sitting", "bout_s": 1800.0})
    assert decode_nudge(encode_nudge(event)).desk is None
    assert decode_nudge(encode_nudge(event, desk="stand")).desk == "stand"
    with pytest.raises(ValueError, match="desk position"):
        encode_nudge(event, desk="up")
    payload = json.loads(encode_nudge(event)) | {"desk": "up"}
    with pytest.raises(PayloadError, match="'desk'"):
        decode_nudge(json.dumps(payload).encode())


@pytest.mark.parametrize(
    ("payload", "options", "cm"),
    [
        (b"72", {}, 72.0),
        (b" 110.5\n", {}, 110.5),
        (b'"98"', {}, 98.0),  # a JSON string
        (b"720", {"scale": 0.1}, 72.0),  # mm
        (b"25", {"scale": 0.5, "offset_cm": 62.0}, 74.5),  # percent of the travel
        (b'{"height": 1100}', {"key": "height", "scale": 0.1}, 110.0),
        (b'{"desk": {"cm": "101"}}', {"key": "desk.cm"}, 101.0),
    ],
)
def test_desk_heights_in_the_formats_desks_publish(
    payload: bytes, options: dict[str, object], cm: float
) -> None:
    assert desk_height_cm(payload, **options) == pytest.approx(cm)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("payload", "options", "reason"),
    [
        (b"", {}, "not a number"),
        (b"tall", {}, "not a number"),
        (b"nan", {}, "outside 30-200 cm"),
        (b"1e400", {}, "outside 30-200 cm"),
        (b"720", {}, "outside 30-200 cm"),  # mm without a scale: no desk is 7 m high
        (b"72", {"key": "height"}, "has no 'height'"),
        (b'{"height": true}', {"key": "height"}, "not a number"),
        (b'{"height": [72]}', {"key": "height"}, "not a number"),
        (b'{"height": 72', {"key": "height"}, "not JSON"),
        (b"7" * 300, {}, "at most 256"),
        (b"\xff", {}, "not UTF-8"),
    ],
)
def test_what_is_not_a_desk_height_is_refused_with_a_reason(
    payload: bytes, options: dict[str, object], reason: str
) -> None:
    with pytest.raises(PayloadError, match=reason):
        desk_height_cm(payload, **options)  # type: ignore[arg-type]
