"""The MQTT contract as JSON Schema (draft 2020-12), generated from the code's own tables.

`contract_schema()` builds it from what the decoders check (value names and types, postures,
placements, loss reasons, commands, limits), so that the two cannot drift apart; the committed
copy, docs/mqtt-contract.schema.json, is tested to be current, and every example in
docs/mqtt-contract.md to validate against it and to decode. Consumers in other languages can
validate payloads with it; the decoders stay the authority (a schema cannot say, for example,
that an event's id must match its content).
"""

from __future__ import annotations

from typing import Any, Final

from .contract import GATEWAY_CHANNELS, NON_NEGATIVE, VALUE_CHOICES, VALUE_TYPES
from .delivery import (
    EXCERPT_BYTES,
    GATEWAY_STATUSES,
    MAX_ACK_RANGES,
    MAX_COUNTERS,
    MAX_WEARERS_PER_GATEWAY,
    RECORDER_SESSIONS,
)
from .messages import COMMANDS, DESK_POSITIONS, NUDGE_REASONS
from .records import LOSS_REASONS, NODATA_REASONS, EventKind, Placement, Posture
from .wire import ID_PATTERN, MAX_PAYLOAD_BYTES, MAX_SEQ, SCHEMA_VERSION, TIME_MAX_S

Schema = dict[str, Any]

_JSON_TYPES: Final = {float: "number", int: "integer", bool: "boolean", str: "string"}


def _ref(name: str) -> Schema:
    return {"$ref": f"#/$defs/{name}"}


def _payload(kind: str, description: str, properties: Schema, required: list[str]) -> Schema:
    """An object payload of `kind`: version and type, then its own fields."""
    return {
        "type": "object",
        "description": description,
        "properties": {"v": {"const": SCHEMA_VERSION}, "type": {"const": kind}} | properties,
        "required": ["v", "type", *required],
    }


def _seconds(*, most: int = 60) -> Schema:
    return {"type": "integer", "minimum": 0, "maximum": most}


def _counts(names: tuple[str, ...], *, most: int) -> Schema:
    return {
        "type": "object",
        "properties": {name: _seconds(most=most) for name in names},
        "additionalProperties": False,
    }


def _value(name: str) -> Schema:
    kind = VALUE_TYPES[name]
    schema: Schema = {"type": _JSON_TYPES[kind]}
    if name in VALUE_CHOICES:
        schema["enum"] = sorted(VALUE_CHOICES[name])
    elif kind is str:
        schema["maxLength"] = 256
    if name in NON_NEGATIVE:
        schema["minimum"] = 0
    return schema


def _recorded(kind: str, description: str, properties: Schema, required: list[str]) -> Schema:
    """A recorded payload: a wearer's, with the optional labels and the outbox source."""
    own = {
        "wearer": _ref("wearer"),
        "team": _ref("id"),
        "site": _ref("id"),
        "gateway": _ref("id"),
        "seq": _ref("seq"),
    }
    schema = _payload(kind, description, own | properties, ["wearer", *required])
    schema["dependentRequired"] = {"seq": ["gateway"]}
    return schema


def _definitions() -> Schema:
    time: Schema = {"type": "number", "minimum": 0, "maximum": TIME_MAX_S}
    postures = [p.value for p in Posture]
    return {
        "id": {"type": "string", "pattern": f"^{ID_PATTERN.pattern}$"},
        "wearer": {
            "type": "string",
            "pattern": f"^{ID_PATTERN.pattern}$",
            "not": {"enum": ["gateway", "recorder", "deadletter"]},
        },
        "time": time,
        "seq": {"type": "integer", "minimum": 1, "maximum": MAX_SEQ},
        "event": _recorded(
            "event",
            "A posture bout, sitting bout, slouch episode, nudge ... (<wearer>/event).",
            {
                "id": {"type": "string"},
                "kind": {"enum": [k.value for k in EventKind]},
                "start": time,
                "end": time,
                "values": {
                    "type": "object",
                    "properties": {name: _value(name) for name in VALUE_TYPES},
                    "additionalProperties": False,
                },
            },
            ["kind", "start", "end"],
        ),
        "minute": _recorded(
            "minute",
            "What one wearer did during one minute (<wearer>/metric).",
            {
                "start": time,
                "posture_s": _counts(tuple(postures), most=60),
                "slouch_s": _seconds(),
                "flexion_mean_deg": {"type": ["number", "null"], "minimum": -180, "maximum": 180},
                "flexion_max_deg": {"type": ["number", "null"], "minimum": -180, "maximum": 180},
                "band_s": {"type": "array", "items": _seconds(), "minItems": 3, "maxItems": 3},
                "enmo_mg": {"type": "number", "minimum": 0, "maximum": 1e5},
                "steps": _seconds(most=1000),
                "lateral_s": _seconds(),
                "nodata_s": _counts(NODATA_REASONS, most=60),
            },
            ["start", "posture_s", "slouch_s", "band_s", "enmo_mg"],
        ),
        "state": _payload(
            "state",
            "A wearer's state now (<wearer>/state, retained).",
            {
                "wearer": _ref("wearer"),
                "t": time,
                "posture": {"enum": postures},
                "posture_since": time,
                "sitting_since": {"anyOf": [time, {"type": "null"}]},
                "calibrated": {"type": "boolean"},
                "sitting_today_s": {"type": "number", "minimum": 0},
                "battery_pct": {"type": ["integer", "null"], "minimum": 0, "maximum": 100},
            },
            ["wearer", "t", "posture", "posture_since", "calibrated"],
        ),
        "device": _payload(
            "device",
            "How one sensor and its link are doing (gateway/<id>/device).",
            {
                "gateway": _ref("id"),
                "seq": _ref("seq"),
                "sensor": _ref("id"),
                "wearer": _ref("wearer"),
                "placement": {"enum": [p.value for p in Placement]},
                "profile": _ref("id"),
                "t": time,
                "connected": {"type": "boolean"},
                "battery_pct": {"type": ["integer", "null"], "minimum": 0, "maximum": 100},
                "rssi_dbm": {"type": ["integer", "null"], "minimum": -200, "maximum": 20},
                "samples": _seconds(most=MAX_SEQ),
                "lost": _seconds(most=MAX_SEQ),
                "reconnects": _seconds(most=2**31),
                "lost_by": _counts(LOSS_REASONS, most=MAX_SEQ),
            },
            [
                *("gateway", "sensor", "wearer", "placement", "profile", "t", "connected"),
                *("samples", "lost", "reconnects"),
            ],
        ),
        "gateway_health": _payload(
            "gateway_health",
            "A gateway's radio loop and outbox (gateway/<id>/health).",
            {
                "gateway": _ref("id"),
                "seq": _ref("seq"),
                "t": time,
                "loop_lag_ms": {"type": "number", "minimum": 0},
                "outbox_depth": _seconds(most=MAX_SEQ),
                "outbox_oldest_s": {"type": "number", "minimum": 0},
                "outbox_bytes": _seconds(most=MAX_SEQ),
                "outbox_dropped": _seconds(most=MAX_SEQ),
                "replayed": _seconds(most=MAX_SEQ),
            },
            [
                *("gateway", "t", "loop_lag_ms", "outbox_depth", "outbox_oldest_s"),
                *("outbox_bytes", "outbox_dropped", "replayed"),
            ],
        ),
        "status": _payload(
            "status",
            "A gateway's status and the wearers it serves (gateway/<id>/status, retained, and "
            "its last will).",
            {
                "status": {"enum": list(GATEWAY_STATUSES)},
                "wearers": {
                    "type": "array",
                    "items": _ref("id"),
                    "maxItems": MAX_WEARERS_PER_GATEWAY,
                },
            },
            ["status"],
        ),
        "ack": _payload(
            "ack",
            "A recorder's confirmation of a gateway's messages (gateway/<id>/ack).",
            {
                "recorder": {"type": "string"},
                "seqs": {
                    "type": "array",
                    "maxItems": MAX_ACK_RANGES,
                    "items": {
                        "type": "array",
                        "items": _ref("seq"),
                        "minItems": 2,
                        "maxItems": 2,
                    },
                },
            },
            ["recorder", "seqs"],
        ),
        "recorder_health": _payload(
            "recorder_health",
            "A recorder's health (recorder/<id>/health, retained, and its last will).",
            {
                "recorder": {"type": "string"},
                "status": {"enum": list(GATEWAY_STATUSES)},
                "t": time,
                "session": {"enum": list(RECORDER_SESSIONS)},
                "connected_at": time,
                "held": _seconds(most=2**31),
                "lag_s": {"type": "number", "minimum": 0},
            },
            ["recorder", "status", "t"],
        )
        | {
            "additionalProperties": {"type": "integer", "minimum": 0},  # its counters
            "maxProperties": MAX_COUNTERS + 9,
        },
        "deadletter": _payload(
            "deadletter",
            "What a recorder could not record, with the reason (deadletter).",
            {
                "topic": {"type": "string", "maxLength": 512},
                "reason": {"type": "string", "maxLength": 500},
                "size": _seconds(most=2**31),
                "payload": {"type": "string", "maxLength": 2 * EXCERPT_BYTES},
                "at": time,
            },
            ["topic", "reason", "size", "payload", "at"],
        ),
        "nudge": _payload(
            "nudge",
            "A nudge for the wearer's devices and desktop (<wearer>/nudge).",
            {
                "wearer": _ref("wearer"),
                "id": _ref("id"),
                "t": time,
                "reason": {"enum": list(NUDGE_REASONS)},
                "message": {"type": "string", "maxLength": 500},
                "desk": {"enum": list(DESK_POSITIONS)},
            },
            ["wearer", "id", "t", "reason", "message"],
        ),
        "cmd": _payload(
            "cmd",
            "A wearer's command to the gateway (<wearer>/cmd).",
            {
                "wearer": _ref("wearer"),
                "cmd": {"enum": list(COMMANDS)},
                "minutes": {"type": "number", "minimum": 1, "maximum": 1440},
                "on": {"type": "boolean"},
                "until": time,
                "spans": {
                    "type": "array",
                    "maxItems": 8,
                    "items": {
                        "type": "array",
                        "items": {"type": "string", "pattern": "^[0-2]?[0-9]:[0-5][0-9]$"},
                        "minItems": 2,
                        "maxItems": 2,
                    },
                },
                "position": {"enum": list(DESK_POSITIONS)},
            },
            ["wearer", "cmd"],
        ),
        "context": {
            "type": "object",
            "description": (
                "Whether the wearer is busy, from a calendar or a presence (<wearer>/context); "
                "the only payload without a type, so that any client can send one."
            ),
            "properties": {
                "v": {"const": SCHEMA_VERSION},
                "busy": {"type": "boolean"},
                "until": {"anyOf": [time, {"type": "string", "format": "date-time"}]},
                "source": _ref("id"),
            },
            "required": ["busy"],
        },
    }


def contract_schema() -> Schema:
    """The whole contract: one payload of any of its types."""
    definitions = _definitions()
    payloads = [name for name, schema in definitions.items() if "properties" in schema]
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "urn:posture-monitor:mqtt-contract:v1",
        "title": f"posture-monitor MQTT payloads, schema version {SCHEMA_VERSION}",
        "description": (
            f"Every payload is a UTF-8 JSON object of at most {MAX_PAYLOAD_BYTES} bytes, nested "
            "at most 8 levels deep. Topics: <root>/<wearer>/<channel> and "
            f"<root>/gateway/<id>/<one of {', '.join(GATEWAY_CHANNELS)}> (docs/mqtt-contract.md)."
        ),
        "oneOf": [_ref(name) for name in payloads],
        "$defs": definitions,
    }
