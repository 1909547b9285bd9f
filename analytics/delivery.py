"""Delivery between gateways and recorders: who serves whom, what is safely stored, who lost
its session, and what could not be recorded.

- `status` (retained, and a gateway's last will): online or offline, and the wearers it serves;
- `ack`: a recorder confirms the sequence numbers of a gateway's messages it wrote (or
  dead-lettered), so that the gateway can forget them (docs/live-path.md);
- `recorder_health` (retained): a recorder's counters, and whether its broker session is new;
- `deadletter`: what a recorder could not record, with the reason.

Pure functions: `decode_*` raise `PayloadError` with the reason and nothing else.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from .wire import (
    ID_PATTERN,
    MAX_SEQ,
    SCHEMA_VERSION,
    TIME_MAX_S,
    PayloadError,
    check_id,
    count,
    load_object,
    number,
    to_json,
)
from .wire import field as read

GATEWAY_STATUSES: Final = ("online", "offline")


@dataclass(frozen=True, slots=True)
class GatewayStatus:
    """A gateway's retained status: online or offline, and the wearers whose sensors it serves."""

    status: str  # one of GATEWAY_STATUSES
    wearers: frozenset[str] = frozenset()


MAX_WEARERS_PER_GATEWAY: Final = 2000


@dataclass(frozen=True, slots=True)
class Ack:
    """A recorder's confirmation that messages of one gateway are in InfluxDB (or were
    dead-lettered): their sequence numbers, as inclusive ranges."""

    recorder: str
    ranges: tuple[tuple[int, int], ...]

    def seqs(self) -> int:
        return sum(hi - lo + 1 for lo, hi in self.ranges)


MAX_ACK_RANGES: Final = 2000  # per payload: about 40 KiB at worst


def seq_ranges(seqs: Iterable[int]) -> list[tuple[int, int]]:
    """Sorted sequence numbers as inclusive ranges: [1, 2, 3, 7] -> [(1, 3), (7, 7)]."""
    ranges: list[tuple[int, int]] = []
    for seq in sorted(set(seqs)):
        if ranges and seq == ranges[-1][1] + 1:
            ranges[-1] = (ranges[-1][0], seq)
        else:
            ranges.append((seq, seq))
    return ranges


def encode_acks(recorder: str, seqs: Iterable[int]) -> list[bytes]:
    """The `ack` payloads confirming `seqs`: one per MAX_ACK_RANGES ranges."""
    ranges = seq_ranges(seqs)
    return [
        to_json(
            {
                "v": SCHEMA_VERSION,
                "type": "ack",
                "recorder": recorder,
                "seqs": [list(r) for r in ranges[i : i + MAX_ACK_RANGES]],
            }
        )
        for i in range(0, len(ranges), MAX_ACK_RANGES)
    ]


def decode_ack(payload: bytes) -> Ack:
    """A recorder's `ack`; raises `PayloadError`."""
    data = load_object(payload, expected_type="ack")
    recorder = read(data, "recorder", str)[:64]
    raw = read(data, "seqs", list)
    if len(raw) > MAX_ACK_RANGES:
        raise PayloadError(f"{len(raw)} ranges (at most {MAX_ACK_RANGES})")
    ranges = []
    for pair in raw:
        if (
            not isinstance(pair, list)
            or len(pair) != 2
            or not all(type(x) is int and 1 <= x <= MAX_SEQ for x in pair)
            or pair[0] > pair[1]
        ):
            raise PayloadError("field 'seqs' must hold [first, last] pairs of sequence numbers")
        ranges.append((pair[0], pair[1]))
    return Ack(recorder=recorder, ranges=tuple(ranges))


RECORDER_SESSIONS: Final = ("new", "resumed")


@dataclass(frozen=True, slots=True)
class RecorderHealth:
    """A recorder's retained health report: online or offline, whether the broker still had its
    session at its last connection (`new`: gateways send again what no recorder confirmed),
    and its counters (none in the `offline` report it leaves, or its last will)."""

    recorder: str
    status: str  # one of GATEWAY_STATUSES
    t_s: float
    session: str = "resumed"  # one of RECORDER_SESSIONS
    connected_at_s: float = 0.0  # unix seconds of the connection that began this session
    held: int = 0  # messages received and not yet settled
    lag_s: float = 0.0  # how long the oldest of them has waited
    counters: Mapping[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.status not in GATEWAY_STATUSES or self.session not in RECORDER_SESSIONS:
            raise ValueError(f"recorder status {self.status!r}, session {self.session!r}")


def encode_recorder_health(h: RecorderHealth) -> bytes:
    base: dict[str, Any] = {
        "v": SCHEMA_VERSION,
        "type": "recorder_health",
        "recorder": h.recorder,
        "status": h.status,
        "t": round(h.t_s, 3),
    }
    if h.status == "offline" and not h.counters:
        return to_json(base)
    return to_json(
        base
        | {
            "session": h.session,
            "connected_at": round(h.connected_at_s, 3),
            "held": h.held,
            "lag_s": round(h.lag_s, 3),
        }
        | dict(h.counters)
    )


_HEALTH_FIELDS: Final = frozenset(
    {"v", "type", "recorder", "status", "t", "session", "connected_at", "held", "lag_s"}
)
MAX_COUNTERS: Final = 64


def decode_recorder_health(payload: bytes) -> RecorderHealth:
    """A recorder's health report; raises `PayloadError`."""
    data = load_object(payload, expected_type="recorder_health")
    status = read(data, "status", str)
    session = data.get("session", "resumed")
    if status not in GATEWAY_STATUSES or session not in RECORDER_SESSIONS:
        raise PayloadError(f"unknown recorder status {status[:20]!r} or session {session!r}")
    counters = {k: v for k, v in data.items() if k not in _HEALTH_FIELDS}
    if len(counters) > MAX_COUNTERS:
        raise PayloadError(f"{len(counters)} counters (at most {MAX_COUNTERS})")
    return RecorderHealth(
        recorder=read(data, "recorder", str)[:64],
        status=status,
        t_s=number(data, "t", lo=0.0, hi=TIME_MAX_S),
        session=session,
        connected_at_s=number(data, "connected_at", lo=0.0, hi=TIME_MAX_S)
        if "connected_at" in data
        else 0.0,
        held=count(data, "held", hi=2**31) if "held" in data else 0,
        lag_s=number(data, "lag_s", lo=0.0, hi=1e9) if "lag_s" in data else 0.0,
        counters={str(k)[:64]: count(counters, k, hi=2**53) for k in counters},
    )


EXCERPT_BYTES: Final = 2048  # of a payload, kept in its dead letter


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """What a recorder could not record, with the reason (on `<root>/deadletter`)."""

    topic: str
    reason: str
    size: int  # bytes on the wire
    payload: str  # the first EXCERPT_BYTES, decoded as UTF-8 with replacement characters
    at_s: float  # when the recorder gave up on it


def dead_letter(topic: str, reason: str, payload: bytes, *, size: int, at_s: float) -> DeadLetter:
    """The dead letter of a message, its topic, reason and payload cut to size."""
    excerpt = payload[:EXCERPT_BYTES].decode("utf-8", errors="replace")
    return DeadLetter(topic[:512], reason[:500], size, excerpt, round(at_s, 3))


def encode_deadletter(d: DeadLetter) -> bytes:
    return to_json(
        {
            "v": SCHEMA_VERSION,
            "type": "deadletter",
            "topic": d.topic,
            "reason": d.reason,
            "size": d.size,
            "payload": d.payload,
            "at": d.at_s,
        }
    )


def decode_deadletter(payload: bytes) -> DeadLetter:
    """A dead letter; raises `PayloadError`."""
    data = load_object(payload, expected_type="deadletter")
    return DeadLetter(
        topic=read(data, "topic", str)[:512],
        reason=read(data, "reason", str)[:500],
        size=count(data, "size", hi=2**31),
        payload=read(data, "payload", str)[: EXCERPT_BYTES * 2],
        at_s=number(data, "at", lo=0.0, hi=TIME_MAX_S),
    )


def encode_status(status: str, wearers: Iterable[str] = ()) -> bytes:
    """A gateway's retained status (`online`, or `offline` as its last will), with its wearers."""
    if status not in GATEWAY_STATUSES:
        raise ValueError(f"gateway status must be one of {GATEWAY_STATUSES}, got {status!r}")
    names = sorted({check_id(w, what="wearer id") for w in wearers})
    return to_json({"v": SCHEMA_VERSION, "type": "status", "status": status, "wearers": names})


def decode_status(payload: bytes) -> GatewayStatus:
    """A gateway's status: `online` or `offline`, and its wearers (none if not announced)."""
    data = load_object(payload, expected_type="status")
    status = read(data, "status", str)
    if status not in GATEWAY_STATUSES:
        raise PayloadError(f"unknown gateway status {status[:40]!r}")
    wearers = read(data, "wearers", list) if "wearers" in data else []
    if len(wearers) > MAX_WEARERS_PER_GATEWAY:
        raise PayloadError(f"{len(wearers)} wearers (at most {MAX_WEARERS_PER_GATEWAY})")
    for wearer in wearers:
        if not isinstance(wearer, str) or not ID_PATTERN.fullmatch(wearer):
            raise PayloadError(f"wearer id {str(wearer)[:80]!r} is not a valid pseudonym")
    return GatewayStatus(str(status), frozenset(wearers))
