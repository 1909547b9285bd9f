"""Messages that must not arrive late (desk commands) expire in the outbox: never sent after
their time, counted as dropped; an outbox file from before expiry existed still opens."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sensor_gateway.outbox import Outbox, Pending


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_an_expired_message_is_dropped_and_counted_never_sent() -> None:
    clock = Clock(1000.0)
    outbox = Outbox(None, clock=clock)
    outbox.append(
        [
            Pending("desk/w1/set", lambda _seq: b"OPEN", expires_s=1030.0),
            Pending("posture/v1/w1/nudge", lambda _seq: b"{}"),
        ]
    )
    (first, second) = outbox.due(10)
    assert (first.payload, first.expires_s) == (b"OPEN", 1030.0)
    assert second.expires_s is None
    clock.now = 1031.0  # the broker was away for half a minute
    assert [e.payload for e in outbox.due(10)] == [b"{}"]
    assert outbox.dropped == {"set": 1}
    assert outbox.depth().messages == 1
    assert outbox.depth().bytes == 2


def test_a_message_sent_in_time_is_not_expired_while_in_flight() -> None:
    clock = Clock(1000.0)
    outbox = Outbox(None, clock=clock)
    outbox.append([Pending("desk/w1/set", lambda _seq: b"OPEN", expires_s=1030.0)])
    (entry,) = outbox.due(10)
    outbox.mark_sent([entry.seq])
    clock.now = 1100.0
    assert outbox.due(10) == []
    assert outbox.dropped == {}
    outbox.published([entry.seq])  # the broker acknowledged it
    assert outbox.depth().messages == 0


def test_an_outbox_from_before_expiry_opens_and_keeps_its_messages(tmp_path: Path) -> None:
    path = tmp_path / "outbox.sqlite"
    db = sqlite3.connect(path)
    db.executescript(
        """
        CREATE TABLE outbox (
            seq INTEGER PRIMARY KEY, topic TEXT NOT NULL, payload BLOB NOT NULL,
            retain INTEGER NOT NULL, confirm INTEGER NOT NULL, created REAL NOT NULL,
            sent REAL, attempts INTEGER NOT NULL DEFAULT 0
        );
        CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
        INSERT INTO outbox VALUES (7, 'posture/v1/w1/event', x'7b7d', 0, 1, 5.0, NULL, 0);
        """
    )
    db.commit()
    db.close()
    outbox = Outbox(path, clock=Clock(10.0))
    (old,) = outbox.due(10)
    assert (old.seq, old.payload, old.expires_s) == (7, b"{}", None)
    outbox.append([Pending("desk/w1/set", lambda _seq: b"OPEN", expires_s=20.0)])
    assert [e.seq for e in outbox.due(10)] == [7, 8]
    outbox.close()
