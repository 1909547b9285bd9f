"""The one acknowledgement window every MQTT publisher of the project uses (transport.acks)."""

from __future__ import annotations

import threading
import time

import pytest
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.reasoncodes import ReasonCode

from transport.acks import Acks

OK = ReasonCode(PacketTypes.PUBACK, identifier=0)
REFUSED = ReasonCode(PacketTypes.PUBACK, identifier=135)  # Not authorized


def test_messages_settle_in_publishing_order_whatever_order_the_answers_come_in() -> None:
    acks: Acks[str] = Acks()
    for mid, item in ((7, "a"), (8, "b"), (9, "c")):
        acks.add(mid, item)
    acks.acknowledged(9, OK)
    acks.acknowledged(8, REFUSED)
    assert list(acks.settled()) == []
    acks.acknowledged(7, OK)
    assert [(item, reason.is_failure) for item, reason in acks.settled()] == [
        ("a", False),
        ("b", True),
        ("c", False),
    ]
    assert len(acks) == 0


def test_answers_for_untracked_messages_are_forgotten() -> None:
    acks: Acks[str] = Acks()
    acks.add(1, "tracked")
    for mid in range(100, 200):  # QoS 0 health reports, fire-and-forget confirmations
        acks.acknowledged(mid, OK)
    assert list(acks.settled()) == []
    assert len(acks._acked) <= len(acks)
    assert acks.pending() == ["tracked"]


def test_waiting_returns_once_the_broker_answered_enough() -> None:
    acks: Acks[int] = Acks()
    for mid in range(1, 6):
        acks.add(mid, mid)

    def broker() -> None:
        for mid in range(1, 6):
            time.sleep(0.01)
            acks.acknowledged(mid, OK)

    threading.Thread(target=broker).start()
    settled = acks.wait(at_most=1, timeout_s=5)
    assert [item for item, _ in settled] == [1, 2, 3, 4]
    assert len(acks) <= 1


def test_waiting_for_a_broker_that_does_not_answer_times_out() -> None:
    acks: Acks[int] = Acks()
    acks.add(1, 1)
    with pytest.raises(TimeoutError, match="1 message"):
        acks.wait(at_most=0, timeout_s=0.05)
