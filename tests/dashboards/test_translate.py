"""Messages into line protocol: the contract's records pass, hostile messages give a reason."""

from __future__ import annotations

import time

import pytest

from analytics.wire import PayloadError
from dashboards.recorder.admission import TimeWindow
from dashboards.recorder.translate import to_line, translate
from posture.testing.loadgen import Traffic, contract_messages
from tests.hostile import RECORDER_ONLY, hostile_messages

ROOT = "posture/v1"


@pytest.fixture(scope="module")
def traffic() -> Traffic:
    return contract_messages(ROOT, wearers=1, hours=1.0)


def test_every_message_of_the_contract_becomes_one_line(traffic: Traffic) -> None:
    lines = [to_line(ROOT, topic, payload) for topic, payload in traffic.recordable]
    assert len(lines) == len(traffic.recordable)
    assert all("\n" not in line for line in lines)
    measurements = {line.split(",", 1)[0] for line in lines}
    assert measurements == {"event", "minute", "device"}


@pytest.mark.parametrize(
    ("topic", "payload", "reason"),
    [
        pytest.param(t, p, r, id=name)
        for name, t, p, r in hostile_messages(ROOT)
        if name not in RECORDER_ONLY
    ],
)
def test_hostile_messages_raise_payload_error_with_the_reason(
    topic: str, payload: bytes, reason: str
) -> None:
    with pytest.raises(PayloadError) as caught:  # the contract, then the recorder's window
        TimeWindow().check(translate(ROOT, topic, payload).record, time.time())
    assert reason in str(caught.value)


def test_an_excerpt_of_an_oversized_payload_is_judged_by_its_size_on_the_wire() -> None:
    with pytest.raises(PayloadError, match="payload of 1048576 bytes exceeds"):
        to_line(ROOT, f"{ROOT}/w1/event", b"{}", size=1 << 20)
