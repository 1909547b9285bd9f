"""The MQTT contract: the topic tree and the payloads that are recorded (events, minutes, device
and gateway health) and the wearer's retained state.

Pure functions only. `decode*` validate everything that comes from outside and raise
`PayloadError` with the reason; nothing else escapes them. What every payload shares is in
`wire.py`, the delivery between gateways and recorders in `delivery.py`, what goes to and comes
from the wearer in `messages.py`; docs/mqtt-contract.md describes it all for people, and
`contract_schema.py` generates its JSON Schema (docs/mqtt-contract.schema.json).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
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
from .wire import (
    ID_PATTERN,
    MAX_SEQ,
    RESERVED_IDS,
    SCHEMA_VERSION,
    TIME_MAX_S,
    PayloadError,
    check_id,
    count,
    field,
    load_object,
    number,
    to_json,
    wearer_of,
)

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


_POSTURE_NAMES: Final = frozenset(p.value for p in Posture)


_POSTURES: Final = tuple((p, p.value) for p in Posture)


_EVENT_KINDS: Final = {k.value: k for k in EventKind}


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
    posture_s = {p: count(raw, name, hi=60) if name in raw else 0 for p, name in _POSTURES}
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
        slouch_s=count(data, "slouch_s", hi=60),
        flexion_mean_deg=optional("flexion_mean_deg"),
        flexion_max_deg=optional("flexion_max_deg"),
        band_s=(bands[0], bands[1], bands[2]),
        enmo_mg=number(data, "enmo_mg", lo=0.0, hi=1e5),
        steps=count(data, "steps", hi=1000) if "steps" in data else 0,
        lateral_s=count(data, "lateral_s", hi=60) if "lateral_s" in data else 0,
        nodata_s=_nodata(data),
    )


def _nodata(data: Mapping[str, Any]) -> dict[str, int]:
    raw = field(data, "nodata_s", dict) if "nodata_s" in data else {}
    unknown = raw.keys() - set(NODATA_REASONS)
    if unknown:
        raise PayloadError(f"unknown reason(s) {sorted(unknown)[:4]} in nodata_s")
    out = {reason: count(raw, reason, hi=60) for reason in raw}
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
        samples=count(data, "samples", hi=2**53),
        lost=count(data, "lost", hi=2**53),
        reconnects=count(data, "reconnects", hi=2**31),
        lost_by={reason: count(lost_by, reason, hi=2**53) for reason in lost_by},
    )


def _gateway_health(data: Mapping[str, Any]) -> GatewayHealth:
    gateway = field(data, "gateway", str)
    if not ID_PATTERN.fullmatch(gateway):
        raise PayloadError("field 'gateway' must be 1-64 letters, digits, '_', '.' or '-'")
    return GatewayHealth(
        gateway_id=gateway,
        t_s=number(data, "t", lo=0.0, hi=TIME_MAX_S),
        loop_lag_ms=number(data, "loop_lag_ms", lo=0.0, hi=1e9),
        outbox_depth=count(data, "outbox_depth", hi=2**53),
        outbox_oldest_s=number(data, "outbox_oldest_s", lo=0.0, hi=1e10),
        outbox_bytes=count(data, "outbox_bytes", hi=2**53),
        outbox_dropped=count(data, "outbox_dropped", hi=2**53),
        replayed=count(data, "replayed", hi=2**53),
    )
