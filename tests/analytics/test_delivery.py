"""The payloads between gateways and recorders round-trip and refuse what is not theirs."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from analytics.delivery import (
    MAX_ACK_RANGES,
    RecorderHealth,
    dead_letter,
    decode_ack,
    decode_deadletter,
    decode_recorder_health,
    encode_acks,
    encode_deadletter,
    encode_recorder_health,
    seq_ranges,
)
from analytics.wire import PayloadError


@given(st.sets(st.integers(1, 10_000), max_size=500))
def test_confirmed_numbers_round_trip_as_ranges(seqs: set[int]) -> None:
    decoded = [decode_ack(p) for p in encode_acks("rec1", seqs)]
    assert {s for ack in decoded for lo, hi in ack.ranges for s in range(lo, hi + 1)} == seqs
    assert all(len(ack.ranges) <= MAX_ACK_RANGES for ack in decoded)
    assert sum(ack.seqs() for ack in decoded) == len(seqs)


def test_ranges_are_as_few_as_the_numbers_allow() -> None:
    assert seq_ranges([5, 1, 2, 3, 9, 10]) == [(1, 3), (5, 5), (9, 10)]


@pytest.mark.parametrize(
    "seqs", [[[3, 1]], [[0, 1]], [[1, 2**53 + 1]], [[1]], [[1.5, 2]], [[True, 2]]]
)
def test_an_ack_with_impossible_numbers_is_refused(seqs: object) -> None:
    payload = json.dumps({"v": 1, "type": "ack", "recorder": "r", "seqs": seqs}).encode()
    with pytest.raises(PayloadError, match="seqs"):
        decode_ack(payload)


@pytest.mark.parametrize(
    "health",
    [
        RecorderHealth("rec1", "offline", 1.8e9),
        RecorderHealth(
            "rec1",
            "online",
            1.8e9,
            session="new",
            connected_at_s=1.79e9,
            held=12,
            lag_s=0.25,
            counters={"received": 10, "written_messages": 9, "rejected": 1},
        ),
    ],
)
def test_a_recorders_health_round_trips(health: RecorderHealth) -> None:
    assert decode_recorder_health(encode_recorder_health(health)) == health


def test_a_recorders_health_with_an_unknown_session_is_refused() -> None:
    payload = encode_recorder_health(RecorderHealth("rec1", "online", 1.8e9)).replace(
        b'"resumed"', b'"lost"'
    )
    with pytest.raises(PayloadError, match="session"):
        decode_recorder_health(payload)


def test_a_dead_letter_keeps_an_excerpt_and_round_trips() -> None:
    letter = dead_letter("t/w1/event", "not JSON", b"\xff" + b"x" * 5000, size=5001, at_s=1.8e9)
    assert len(letter.payload) == 2048
    assert letter.payload[0] == "\ufffd"  # what was not UTF-8, shown as such
    assert decode_deadletter(encode_deadletter(letter)) == letter
