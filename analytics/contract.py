"""The MQTT contract: topic names and versioned JSON payloads (DESIGN.md section 5).

Pure functions only. `decode_*` validate everything that comes from outside and raise
`PayloadError` with the reason; nothing else escapes them. The contract is written down for
people in docs/mqtt-contract.md; the two must change together.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from .records import (
    LOSS_REASONS,
    NODATA_REASONS,
    DeviceHealth,
    Event,
    EventKind,
    GatewayHealth,
    MinuteMetrics,
    Placement,
    Posture,
    Value,
    WearerState,
)

SCHEMA_VERSION: Final = 1
MAX_PAYLOAD_BYTES: Final = 64 * 1024
MAX_NESTING: Final = 8  # arrays and objects inside each other; the deepest payload has 3
ID_PATTERN: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
# Words that are topic levels of their own under the root, so never a wearer id.
RESERVED_IDS: Final = frozenset({"gateway", "recorder", "deadletter"})
GATEWAY_STATUSES: Final = ("online", "offline")
# Unix seconds a record may carry: 1970 up to InfluxDB's last nanosecond (2262-04-11).
TIME_MAX_S: Final = 9_223_372_035.0

# The values an event may carry, with one type each (a time-series database keeps one type per
# field name). Numbers named here as float may arrive as JSON integers.
VALUE_TYPES: Final[dict[str, type]] = {
    "duration_s": float,
    "posture": str,
    "sitting_s": float,
    "interruptions": int,
    "prolonged": bool,
    "ended_by": str,
    "flexion_mean_deg": float,
    "flexion_max_deg": float,
    "source": str,
    "up": str,
    # nudges: `nudge` at issue time; `nudge_outcome` (same start) once the response window closed
    "reason": str,  # "sitting" (movement break) or "slouch"
    "responded": bool,  # a break (or sitting upright again) followed within the window
    "response_s": float,  # seconds from the nudge to the response
    "placement": str,  # calibration: which sensor ("trunk" or "thigh")
    "steps": int,  # walking bouts: steps counted
    "cadence_spm": float,  # walking bouts: steps per minute
    "lateral_mean_deg": float,  # slouch episodes: mean sideways tilt
    # nudges: the bout so far and the words chosen (analytics/phrases.py); `nudge_decision`
    # (one per moment a nudge was due) also says what was decided and what followed
    "bout_s": float,  # how long the bout (sitting, standing, slouching) had lasted
    "phrase": str,  # "<kind>.<index>" in the message bank
    "language": str,  # of the message: "en" or "de"
    "decision": str,  # "sent", "withheld" (a study's random share) or "dropped"
    "deferred_by": str,  # why it waited: "busy", "upright", "snooze", "dnd", "quiet_hours"...
    "delay_s": float,  # from when it was due to the decision
    "break_s": float,  # how long the break that followed lasted
    "interval_s": float,  # the adaptively chosen interval of the bout's first nudge
    # desk: a stretch with a sit-stand desk at one height (and `sitting_s` sat in it)
    "height_cm": float,
    "position": str,  # "sitting" or "standing" height
}
# Values that name one of a few things (they become tags or labels downstream).
VALUE_CHOICES: Final[dict[str, frozenset[str]]] = {
    "placement": frozenset(p.value for p in Placement),
    "posture": frozenset(p.value for p in Posture),
    "decision": frozenset({"sent", "withheld", "dropped"}),
    "position": frozenset({"sitting", "standing"}),
}
# Durations and counts: never negative.
NON_NEGATIVE: Final = frozenset(
    {"duration_s", "sitting_s", "interruptions", "response_s", "steps", "cadence_spm"}
    | {"bout_s", "delay_s", "break_s", "interval_s", "height_cm"}
)


class PayloadError(ValueError):
    """A payload or topic that does not follow the contract."""


# -- topics -----------------------------------------------------------------------------------

WEARER_CHANNELS: Final = ("event", "metric", "state", "nudge", "cmd", "context", "samples")
GATEWAY_CHANNELS: Final = ("status", "device", "health", "ack")


def wearer_topic(root: str, wearer_id: str, channel: str) -> str:
    """`<root>/<wearer>/<channel>`, e.g. `posture/v1/w042/event`."""
    check_id(wearer_id, what="wearer id")
    if wearer_id in RESERVED_IDS:
        raise ValueError(f"wearer id {wearer_id!r} is reserved (a topic level of its own)")
    if channel not in WEARER_CHANNELS:
        raise ValueError(f"unknown channel {channel!r}")
    return f"{root}/{wearer_id}/{channel}"


def gateway_topic(root: str, gateway_id: str, channel: str = "status") -> str:
    """`<root>/gateway/<id>/<channel>`: retained status with last will, device and gateway
    health, and the recorders' confirmations (`ack`)."""
    check_id(gateway_id, what="gateway id")
    if channel not in GATEWAY_CHANNELS:
        raise ValueError(f"unknown gateway channel {channel!r}")
    return f"{root}/gateway/{gateway_id}/{channel}"


def parse_gateway_topic(root: str, topic: str) -> tuple[str, str]:
    """(gateway id, channel) of a gateway topic under `root`."""
    prefix = root + "/gateway/"
    parts = topic[len(prefix) :].split("/") if topic.startswith(prefix) else []
    if len(parts) != 2 or parts[1] not in GATEWAY_CHANNELS or not ID_PATTERN.fullmatch(parts[0]):
        raise PayloadError(f"topic {topic[:120]!r} is not <root>/gateway/<id>/<channel>")
    return parts[0], parts[1]


def parse_wearer_topic(root: str, topic: str) -> tuple[str, str]:
    """(wearer id, channel) of a wearer topic under `root`."""
    prefix = root + "/"
    if not topic.startswith(prefix):
        raise PayloadError(f"topic {topic[:120]!r} is not under {root!r}")
    parts = topic[len(prefix) :].split("/")
    if (
        len(parts) != 2
        or parts[1] not in WEARER_CHANNELS
        or not ID_PATTERN.fullmatch(parts[0])
        or parts[0] in RESERVED_IDS
    ):
        raise PayloadError(f"topic {topic[:120]!r} is not <root>/<wearer>/<channel>")
    return parts[0], parts[1]


def deadletter_topic(root: str) -> str:
    """`<root>/deadletter`: what the recorder could not record, with the reason."""
    return f"{root}/deadletter"


def recorder_topic(root: str, client_id: str) -> str:
    """`<root>/recorder/<id>/health`: a recorder's retained health report.

    The id is the recorder's MQTT client id with anything but letters, digits, `_`, `.` and `-`
    replaced by `_`.
    """
    recorder_id = re.sub(r"[^A-Za-z0-9_.-]", "_", client_id)[:64] or "_"
    return f"{root}/recorder/{recorder_id}/health"


def check_id(value: str, *, what: str) -> str:
    if not isinstance(value, str) or not ID_PATTERN.fullmatch(value):
        raise ValueError(f"{what} {value!r} must be 1-64 letters, digits, '_', '.' or '-'")
    return value


# -- encoding ---------------------------------------------------------------------------------


MAX_SEQ: Final = 2**53  # sequence numbers stay exact in every JSON implementation


@dataclass(frozen=True, slots=True)
class Source:
    """Where a recorded message comes from: its gateway and its place in the gateway's outbox.

    The recorder confirms what it has written by these sequence numbers (`ack`), so that the
    gateway keeps every message until it is in InfluxDB, not only until the broker has it.
    """

    gateway_id: str
    seq: int

    def __post_init__(self) -> None:
        check_id(self.gateway_id, what="gateway id")
        if not 1 <= self.seq <= MAX_SEQ:
            raise ValueError(f"seq must be in [1, 2**53], got {self.seq}")


@dataclass(frozen=True, slots=True)
class Message:
    """A decoded payload: the record, the organisational tags it was published with and, from
    gateways that keep an outbox, its source."""

    record: Event | MinuteMetrics | DeviceHealth | GatewayHealth
    team: str = ""
    site: str = ""
    source: Source | None = None


def to_json(payload: Mapping[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":"), allow_nan=False, sort_keys=True).encode()


def envelope(
    kind: str, wearer_id: str, team: str, site: str, source: Source | None = None
) -> dict[str, Any]:
    envelope: dict[str, Any] = {"v": SCHEMA_VERSION, "type": kind, "wearer": wearer_id}
    if team:
        envelope["team"] = team
    if site:
        envelope["site"] = site
    if source is not None:
        envelope["gateway"], envelope["seq"] = source.gateway_id, source.seq
    return envelope


def encode_event(
    event: Event, *, team: str = "", site: str = "", source: Source | None = None
) -> bytes:
    return to_json(
        envelope("event", event.wearer_id, team, site, source)
        | {
            "id": event.event_id,
            "kind": event.kind.value,
            "start": round(event.start_s, 3),
            "end": round(event.end_s, 3),
            "values": dict(event.values),
        }
    )


def encode_minute(
    m: MinuteMetrics, *, team: str = "", site: str = "", source: Source | None = None
) -> bytes:
    return to_json(
        envelope("minute", m.wearer_id, team, site, source)
        | {
            "start": round(m.start_s, 3),
            "posture_s": {p.value: s for p, s in m.posture_s.items()},
            "slouch_s": m.slouch_s,
            "flexion_mean_deg": m.flexion_mean_deg,
            "flexion_max_deg": m.flexion_max_deg,
            "band_s": list(m.band_s),
            "enmo_mg": m.enmo_mg,
            "steps": m.steps,
            "lateral_s": m.lateral_s,
        }
        | ({"nodata_s": dict(m.nodata_s)} if m.nodata_s else {})
    )


def encode_state(
    state: WearerState,
    *,
    team: str = "",
    site: str = "",
    sitting_today_s: float = 0.0,
    battery_pct: int | None = None,
) -> bytes:
    """The retained state: posture now, bout starts, today's sitting and the lowest battery."""
    sitting_since = None if state.sitting_since_s is None else round(state.sitting_since_s, 3)
    return to_json(
        envelope("state", state.wearer_id, team, site)
        | {
            "t": round(state.t_s, 3),
            "posture": state.posture.value,
            "posture_since": round(state.posture_since_s, 3),
            "sitting_since": sitting_since,
            "calibrated": state.calibrated,
            "sitting_today_s": round(sitting_today_s, 1),
            "battery_pct": battery_pct,
        }
    )


def encode_device(h: DeviceHealth, *, seq: int | None = None) -> bytes:
    extra: dict[str, Any] = {} if seq is None else {"seq": Source(h.gateway_id, seq).seq}
    if h.lost_by:
        extra["lost_by"] = dict(h.lost_by)
    return to_json(
        extra
        | {
            "v": SCHEMA_VERSION,
            "type": "device",
            "gateway": h.gateway_id,
            "sensor": h.sensor_id,
            "wearer": h.wearer_id,
            "placement": h.placement.value,
            "profile": h.profile,
            "t": round(h.t_s, 3),
            "connected": h.connected,
            "battery_pct": h.battery_pct,
            "rssi_dbm": h.rssi_dbm,
            "samples": h.samples,
            "lost": h.lost,
            "reconnects": h.reconnects,
        }
    )


@dataclass(frozen=True, slots=True)
class GatewayStatus:
    """A gateway's retained status: online or offline, and the wearers whose sensors it serves."""

    status: str  # one of GATEWAY_STATUSES
    wearers: frozenset[str] = frozenset()


MAX_WEARERS_PER_GATEWAY: Final = 2000


def encode_gateway_health(h: GatewayHealth, *, seq: int | None = None) -> bytes:
    extra: dict[str, Any] = {} if seq is None else {"seq": Source(h.gateway_id, seq).seq}
    return to_json(
        extra
        | {
            "v": SCHEMA_VERSION,
            "type": "gateway_health",
            "gateway": h.gateway_id,
            "t": round(h.t_s, 3),
            "loop_lag_ms": round(h.loop_lag_ms, 2),
            "outbox_depth": h.outbox_depth,
            "outbox_oldest_s": round(h.outbox_oldest_s, 3),
            "outbox_bytes": h.outbox_bytes,
            "outbox_dropped": h.outbox_dropped,
            "replayed": h.replayed,
        }
    )


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
    recorder = field(data, "recorder", str)[:64]
    raw = field(data, "seqs", list)
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


@dataclass(frozen=True, slots=True)
class RecorderSession:
    """What a gateway reads in a recorder's health: is it online, and since when does its broker
    session hold the subscriptions (a `new` session never got what was sent before)."""

    recorder: str
    status: str  # "online" or "offline"
    session: str  # "new" (started without its broker session) or "resumed"
    connected_at_s: float  # unix seconds of the connection that began this session


def decode_recorder_session(payload: bytes) -> RecorderSession:
    """The session part of a `recorder_health` payload; raises `PayloadError`."""
    data = load_object(payload, expected_type="recorder_health")
    status = field(data, "status", str)
    session = data.get("session", "resumed")
    if status not in GATEWAY_STATUSES or session not in ("new", "resumed"):
        raise PayloadError(f"unknown recorder status {status[:20]!r} or session {session!r}")
    connected = number(data, "connected_at", lo=0.0, hi=TIME_MAX_S) if "connected_at" in data else 0
    return RecorderSession(
        recorder=field(data, "recorder", str)[:64],
        status=status,
        session=session,
        connected_at_s=connected,
    )


def encode_status(status: str, wearers: Iterable[str] = ()) -> bytes:
    """A gateway's retained status (`online`, or `offline` as its last will), with its wearers."""
    if status not in GATEWAY_STATUSES:
        raise ValueError(f"gateway status must be one of {GATEWAY_STATUSES}, got {status!r}")
    names = sorted({check_id(w, what="wearer id") for w in wearers})
    return to_json({"v": SCHEMA_VERSION, "type": "status", "status": status, "wearers": names})


# -- decoding ---------------------------------------------------------------------------------


def decode(payload: bytes) -> Message:
    """The record in `payload` (an event, a minute, a device or gateway health report), with
    its tags and source."""
    data = load_object(payload)
    kind = data.get("type")
    record: Event | MinuteMetrics | DeviceHealth | GatewayHealth
    if kind == "event":
        record = _event(data)
    elif kind == "minute":
        record = _minute(data)
    elif kind == "device":
        record = _device(data)
    elif kind == "gateway_health":
        record = _gateway_health(data)
    else:
        raise PayloadError(f"unknown payload type {str(kind)[:40]!r}")
    return Message(
        record=record, team=_tag(data, "team"), site=_tag(data, "site"), source=_source(data)
    )


def _source(data: Mapping[str, Any]) -> Source | None:
    if "seq" not in data:
        return None
    gateway, seq = data.get("gateway"), data["seq"]
    if not isinstance(gateway, str) or not ID_PATTERN.fullmatch(gateway):
        raise PayloadError("field 'gateway' must name the gateway of a message with a 'seq'")
    if type(seq) is not int or not 1 <= seq <= MAX_SEQ:
        raise PayloadError("field 'seq' must be a whole number in [1, 2**53]")
    return Source(gateway, seq)


def _tag(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key, "")
    if value != "" and (not isinstance(value, str) or not ID_PATTERN.fullmatch(value)):
        raise PayloadError(f"field {key!r} must be 1-64 letters, digits, '_', '.' or '-'")
    return str(value)


def decode_state(payload: bytes) -> WearerState:
    """The `WearerState` in a (retained) state payload."""
    data = load_object(payload, expected_type="state")
    posture = field(data, "posture", str)
    if posture not in _POSTURE_NAMES:
        raise PayloadError(f"unknown posture {posture[:40]!r}")
    sitting = None if data.get("sitting_since") is None else number(data, "sitting_since", lo=0)
    return WearerState(
        wearer_id=wearer_of(data),
        t_s=number(data, "t", lo=0.0),
        posture=Posture(posture),
        posture_since_s=number(data, "posture_since", lo=0.0),
        sitting_since_s=sitting,
        calibrated=field(data, "calibrated", bool),
    )


def decode_status(payload: bytes) -> GatewayStatus:
    """A gateway's status: `online` or `offline`, and its wearers (none if not announced)."""
    data = load_object(payload, expected_type="status")
    status = field(data, "status", str)
    if status not in GATEWAY_STATUSES:
        raise PayloadError(f"unknown gateway status {status[:40]!r}")
    wearers = field(data, "wearers", list) if "wearers" in data else []
    if len(wearers) > MAX_WEARERS_PER_GATEWAY:
        raise PayloadError(f"{len(wearers)} wearers (at most {MAX_WEARERS_PER_GATEWAY})")
    for wearer in wearers:
        if not isinstance(wearer, str) or not ID_PATTERN.fullmatch(wearer):
            raise PayloadError(f"wearer id {str(wearer)[:80]!r} is not a valid pseudonym")
    return GatewayStatus(str(status), frozenset(wearers))


# One decoder for every payload: JSON is UTF-8 on the wire (RFC 8259), NaN and Infinity are not
# JSON, and building the decoder once keeps the recorder's hot path short.
def _reject_constant(name: str) -> None:
    raise PayloadError(f"non-finite number {name} in payload")


_DECODER: Final = json.JSONDecoder(parse_constant=_reject_constant)
_POSTURE_NAMES: Final = frozenset(p.value for p in Posture)
_POSTURES: Final = tuple((p, p.value) for p in Posture)
_EVENT_KINDS: Final = {k.value: k for k in EventKind}


# A JSON string, or one bracket: what `_check_nesting` walks through.
_JSON_TOKEN: Final = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def _check_nesting(text: str) -> None:
    """Refuse nesting deeper than MAX_NESTING before the parser recurses into it.

    Python's JSON decoder recurses once per level and raises `RecursionError` near 1,000 levels:
    a few kilobytes of brackets must not decide how the caller's thread ends.
    """
    if text.count("[") + text.count("{") <= MAX_NESTING:
        return  # cannot be deeper: the common case costs two counts
    depth = 0
    for token in _JSON_TOKEN.finditer(text):
        bracket = token.group()
        if bracket in "[{":
            depth += 1
            if depth > MAX_NESTING:
                raise PayloadError(f"payload nested deeper than {MAX_NESTING} levels")
        elif bracket in "]}":
            depth -= 1


def load_object(payload: bytes, *, expected_type: str | None = None) -> dict[str, Any]:
    """The JSON object of a version-1 payload (of `expected_type`, if given); or PayloadError.

    Total: whatever the bytes, the only exception is `PayloadError`. Size and nesting are
    bounded before parsing.
    """
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise PayloadError(f"payload of {len(payload)} bytes exceeds {MAX_PAYLOAD_BYTES}")
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError as err:
        raise PayloadError(f"not JSON: not UTF-8 ({err.reason} at byte {err.start})") from None
    _check_nesting(text)
    try:
        data = _DECODER.decode(text)
    except PayloadError:
        raise
    except (json.JSONDecodeError, RecursionError, ValueError) as err:  # ValueError: huge ints
        raise PayloadError(f"not JSON: {str(err)[:200]}") from None
    if not isinstance(data, dict):
        raise PayloadError(f"payload is a JSON {type(data).__name__}, not an object")
    version = data.get("v")
    if version != SCHEMA_VERSION or isinstance(version, bool):
        raise PayloadError(f"unsupported schema version {version!r} (expected {SCHEMA_VERSION})")
    if expected_type is not None and data.get("type") != expected_type:
        raise PayloadError(
            f"payload type {str(data.get('type'))[:40]!r}, expected {expected_type!r}"
        )
    return data


def field(data: Mapping[str, Any], key: str, kind: type | tuple[type, ...]) -> Any:
    if key not in data:
        raise PayloadError(f"missing field {key!r}")
    value = data[key]
    if isinstance(value, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,)):
        raise PayloadError(f"field {key!r} must be {_name(kind)}, got a boolean")
    if not isinstance(value, kind):
        raise PayloadError(f"field {key!r} must be {_name(kind)}, got {type(value).__name__}")
    return value


def _name(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(k.__name__ for k in kinds)


def number(data: Mapping[str, Any], key: str, *, lo: float = -1e12, hi: float = 1e12) -> float:
    value = data.get(key)
    if type(value) is float and lo <= value <= hi:  # the common case (NaN fails the comparison)
        return value
    raw = field(data, key, (int, float))
    value = float(raw) if abs(raw) < 1e300 else math.inf  # float() of a huge int overflows
    if not math.isfinite(value) or not lo <= value <= hi:
        raise PayloadError(f"field {key!r} = {value} is out of range [{lo:g}, {hi:g}]")
    return value


def _count(data: Mapping[str, Any], key: str, *, hi: int = 86400) -> int:
    value = data.get(key)
    if type(value) is int and 0 <= value <= hi:  # the common case, checked fast
        return value
    value = field(data, key, int)
    if not 0 <= value <= hi:
        raise PayloadError(f"field {key!r} = {value} is out of range [0, {hi}]")
    return int(value)


def wearer_of(data: Mapping[str, Any]) -> str:
    wearer = field(data, "wearer", str)
    if not ID_PATTERN.fullmatch(wearer) or wearer in RESERVED_IDS:
        raise PayloadError(f"wearer id {wearer[:80]!r} is not a valid pseudonym")
    return str(wearer)


def _values(raw: Any) -> dict[str, Value]:
    if not isinstance(raw, dict):
        raise PayloadError(f"field 'values' must be an object, got {type(raw).__name__}")
    out: dict[str, Value] = {}
    for key, value in raw.items():
        kind = VALUE_TYPES.get(key)
        if kind is None:
            raise PayloadError(f"unknown value name {str(key)[:80]!r}")
        number = isinstance(value, int) and not isinstance(value, bool)
        if number and abs(value) > 1e12:
            raise PayloadError(f"value {str(key)[:80]!r} = {str(value)[:40]} is out of range")
        typed: Value = float(value) if kind is float and number else value
        if type(typed) is not kind:
            raise PayloadError(f"value {key!r} must be {kind.__name__}, got {type(value).__name__}")
        if isinstance(typed, float) and (not math.isfinite(typed) or abs(typed) > 1e12):
            raise PayloadError(f"value {key!r} = {typed} is not a finite number")
        if isinstance(typed, str) and len(typed) > 256:
            raise PayloadError(f"value {key!r} is a string of {len(typed)} chars (at most 256)")
        if isinstance(typed, str) and not typed.isprintable():
            raise PayloadError(f"value {key!r} holds control or unprintable characters")
        choices = VALUE_CHOICES.get(key)
        if choices is not None and typed not in choices:
            raise PayloadError(
                f"value {key!r} = {str(typed)[:40]!r} is not one of {sorted(choices)}"
            )
        if key in NON_NEGATIVE and isinstance(typed, int | float) and typed < 0:
            raise PayloadError(f"value {key!r} = {typed} is negative")
        out[key] = typed
    return out


def _event(data: Mapping[str, Any]) -> Event:
    kind_name = field(data, "kind", str)
    kind = _EVENT_KINDS.get(kind_name)
    if kind is None:
        raise PayloadError(f"unknown event kind {kind_name[:80]!r}")
    start = number(data, "start", lo=0.0, hi=TIME_MAX_S)
    end = number(data, "end", lo=0.0, hi=TIME_MAX_S)
    if end < start:
        raise PayloadError(f"event ends ({end}) before it starts ({start})")
    event = Event(
        wearer_id=wearer_of(data),
        kind=kind,
        start_s=start,
        end_s=end,
        values=_values(data.get("values", {})),
    )
    if "id" in data and data["id"] != event.event_id:
        raise PayloadError(f"event id {str(data['id'])[:40]!r} does not match its content")
    return event


def _minute(data: Mapping[str, Any]) -> MinuteMetrics:
    raw = field(data, "posture_s", dict)
    unknown = raw.keys() - _POSTURE_NAMES
    if unknown:
        raise PayloadError(f"unknown posture(s) {sorted(unknown)[:5]} in posture_s")
    posture_s = {p: _count(raw, name, hi=60) if name in raw else 0 for p, name in _POSTURES}
    if sum(posture_s.values()) != 60:
        raise PayloadError(f"posture seconds add up to {sum(posture_s.values())}, not 60")
    bands = field(data, "band_s", list)
    if len(bands) != 3 or not all(
        isinstance(b, int) and not isinstance(b, bool) and 0 <= b <= 60 for b in bands
    ):
        raise PayloadError("field 'band_s' must be three whole seconds in [0, 60]")

    def optional(key: str) -> float | None:
        return None if data.get(key) is None else number(data, key, lo=-180.0, hi=180.0)

    return MinuteMetrics(
        wearer_id=wearer_of(data),
        start_s=number(data, "start", lo=0.0, hi=TIME_MAX_S),
        posture_s=posture_s,
        slouch_s=_count(data, "slouch_s", hi=60),
        flexion_mean_deg=optional("flexion_mean_deg"),
        flexion_max_deg=optional("flexion_max_deg"),
        band_s=(bands[0], bands[1], bands[2]),
        enmo_mg=number(data, "enmo_mg", lo=0.0, hi=1e5),
        steps=_count(data, "steps", hi=1000) if "steps" in data else 0,
        lateral_s=_count(data, "lateral_s", hi=60) if "lateral_s" in data else 0,
        nodata_s=_nodata(data),
    )


def _nodata(data: Mapping[str, Any]) -> dict[str, int]:
    raw = field(data, "nodata_s", dict) if "nodata_s" in data else {}
    unknown = raw.keys() - set(NODATA_REASONS)
    if unknown:
        raise PayloadError(f"unknown reason(s) {sorted(unknown)[:4]} in nodata_s")
    out = {reason: _count(raw, reason, hi=60) for reason in raw}
    if sum(out.values()) > 60:
        raise PayloadError(f"nodata_s adds up to {sum(out.values())} seconds, more than 60")
    return out


def _device(data: Mapping[str, Any]) -> DeviceHealth:
    def ident(key: str) -> str:
        value = field(data, key, str)
        if not ID_PATTERN.fullmatch(value):
            raise PayloadError(f"field {key!r} must be 1-64 letters, digits, '_', '.' or '-'")
        return str(value)

    def optional_int(key: str, lo: int, hi: int) -> int | None:
        value = data.get(key)
        if value is None:
            return None
        if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
            raise PayloadError(f"field {key!r} must be a whole number in [{lo}, {hi}] or null")
        return value

    placement = field(data, "placement", str)
    if placement not in {p.value for p in Placement}:
        raise PayloadError(f"unknown placement {placement[:40]!r}")
    lost_by = field(data, "lost_by", dict) if "lost_by" in data else {}
    if not lost_by.keys() <= set(LOSS_REASONS):
        raise PayloadError(
            f"unknown loss reason(s) {sorted(lost_by.keys() - set(LOSS_REASONS))[:4]}"
        )
    return DeviceHealth(
        gateway_id=ident("gateway"),
        sensor_id=ident("sensor"),
        wearer_id=wearer_of(data),
        placement=Placement(placement),
        profile=ident("profile"),
        t_s=number(data, "t", lo=0.0, hi=TIME_MAX_S),
        connected=field(data, "connected", bool),
        battery_pct=optional_int("battery_pct", 0, 100),
        rssi_dbm=optional_int("rssi_dbm", -200, 20),
        samples=_count(data, "samples", hi=2**53),
        lost=_count(data, "lost", hi=2**53),
        reconnects=_count(data, "reconnects", hi=2**31),
        lost_by={reason: _count(lost_by, reason, hi=2**53) for reason in lost_by},
    )


def _gateway_health(data: Mapping[str, Any]) -> GatewayHealth:
    gateway = field(data, "gateway", str)
    if not ID_PATTERN.fullmatch(gateway):
        raise PayloadError("field 'gateway' must be 1-64 letters, digits, '_', '.' or '-'")
    return GatewayHealth(
        gateway_id=gateway,
        t_s=number(data, "t", lo=0.0, hi=TIME_MAX_S),
        loop_lag_ms=number(data, "loop_lag_ms", lo=0.0, hi=1e9),
        outbox_depth=_count(data, "outbox_depth", hi=2**53),
        outbox_oldest_s=number(data, "outbox_oldest_s", lo=0.0, hi=1e10),
        outbox_bytes=_count(data, "outbox_bytes", hi=2**53),
        outbox_dropped=_count(data, "outbox_dropped", hi=2**53),
        replayed=_count(data, "replayed", hi=2**53),
    )
