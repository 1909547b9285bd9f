"""The gateway's outbox: order, what is forgotten when, what survives a restart, and what
happens (and is counted) when it or its disk is full."""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from sensor_gateway.outbox import Outbox, Pending


class Clock:
    def __init__(self) -> None:
        self.t = 1_800_000_000.0

    def __call__(self) -> float:
        return self.t


def pending(
    n: int, *, confirm: bool = True, channel: str = "event", size: int = 10
) -> list[Pending]:
    topic = f"posture/v1/w1/{channel}"
    return [
        Pending(topic, lambda seq, i=i: f"{i}:{seq}:".encode().ljust(size, b"x"), confirm=confirm)  # type: ignore[misc]
        for i in range(n)
    ]


def test_messages_get_increasing_sequence_numbers_and_leave_in_order(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "o.sqlite")
    assert outbox.append(pending(3)) == 3
    assert outbox.append(pending(2, confirm=False, channel="state")) == 2
    due = outbox.due(10)
    assert [e.seq for e in due] == [1, 2, 3, 4, 5]
    assert [e.payload.split(b":")[1] for e in due] == [b"1", b"2", b"3", b"4", b"5"]  # seq inside
    assert [e.confirm for e in due] == [True, True, True, False, False]
    outbox.mark_sent([1, 2])
    assert [e.seq for e in outbox.due(10)] == [3, 4, 5]


def test_the_broker_acknowledgement_forgets_only_what_nobody_confirms() -> None:
    outbox = Outbox(None)
    outbox.append(pending(2) + pending(2, confirm=False, channel="state"))
    outbox.mark_sent([1, 2, 3, 4])
    outbox.published([1, 2, 3, 4])
    assert outbox.depth().messages == 2  # the recorded ones wait for a recorder
    assert outbox.confirm([(1, 2)]) == 2
    depth = outbox.depth()
    assert (depth.messages, depth.bytes) == (0, 0)


def test_a_confirmation_names_ranges_and_ignores_unknown_numbers() -> None:
    outbox = Outbox(None)
    outbox.append(pending(10))
    assert outbox.confirm([(2, 4), (7, 7), (50, 60)]) == 4
    assert [e.seq for e in outbox.due(20)] == [1, 5, 6, 8, 9, 10]


def test_after_a_restart_everything_unconfirmed_goes_out_again_and_numbers_are_never_reused(
    tmp_path: Path,
) -> None:
    path = tmp_path / "o.sqlite"
    first = Outbox(path)
    first.append(pending(4))
    first.mark_sent([1, 2, 3, 4])
    first.confirm([(1, 2)])
    first.close()
    second = Outbox(path)
    assert [e.seq for e in second.due(10)] == [3, 4]
    second.confirm([(3, 4)])
    second.close()
    third = Outbox(path)  # empty now: a late confirmation of 1-4 must not hit new messages
    third.append(pending(1))
    assert [e.seq for e in third.due(10)] == [5]


def test_what_stays_unconfirmed_is_sent_again_later_and_later() -> None:
    clock = Clock()
    outbox = Outbox(None, replay_after_s=60.0, clock=clock)
    outbox.append(pending(1))
    outbox.mark_sent([1])
    clock.t += 59
    assert outbox.replay_stale() == 0
    clock.t += 2
    assert outbox.replay_stale() == 1
    outbox.mark_sent([1])  # the second attempt waits twice as long
    clock.t += 119
    assert outbox.replay_stale() == 0
    clock.t += 2
    assert outbox.replay_stale() == 1
    assert outbox.replayed == 2


def test_a_recorder_that_lost_its_session_gets_everything_sent_and_unconfirmed() -> None:
    outbox = Outbox(None)
    outbox.append(pending(3) + pending(1, confirm=False, channel="nudge"))
    outbox.mark_sent([1, 2, 4])
    assert outbox.replay_all() == 2  # 1 and 2; 3 was never sent, 4 is nobody's to confirm
    assert [e.seq for e in outbox.due(10)] == [1, 2, 3]


def test_a_full_outbox_keeps_what_it_has_and_counts_what_it_cannot_take() -> None:
    outbox = Outbox(None, max_bytes=100)
    assert outbox.append(pending(8, size=10)) == 8
    assert outbox.append(pending(4, size=10, channel="metric")) == 2  # 20 bytes left
    assert dict(outbox.dropped) == {"metric": 2}
    assert outbox.depth().messages == 10
    outbox.confirm([(1, 5)])
    assert outbox.append(pending(3, size=10)) == 3  # room again
    assert dict(outbox.dropped) == {"metric": 2}


@contextlib.contextmanager
def tiny_disk(path: Path, size: str) -> Iterator[Path]:
    """A real filesystem of `size` (tmpfs), mounted for the test; needs root."""
    path.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)])
    if mounted.returncode != 0:
        pytest.skip("cannot mount a small tmpfs here (needs root): the disk-full test needs one")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=True)


def test_a_full_disk_costs_the_new_messages_counted_never_the_stored_ones(tmp_path: Path) -> None:
    with tiny_disk(tmp_path / "disk", "512k") as disk:
        outbox = Outbox(disk / "outbox.sqlite")
        stored = 0
        for _ in range(400):  # about 1 MB offered to a 512 KiB disk
            stored += outbox.append(pending(1, size=2500))
        dropped = sum(outbox.dropped.values())
        assert dropped > 0, "the disk never filled up"
        assert stored + dropped == 400  # every message is either stored or counted
        kept = outbox.due(1000)
        assert len(kept) == stored  # and everything stored is still there, in order
        assert [e.seq for e in kept] == list(range(1, stored + 1))
        outbox.close()
