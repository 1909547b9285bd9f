"""Versioned JSON on the wire, read defensively: what every MQTT payload shares.

Every payload is a UTF-8 JSON object of at most `MAX_PAYLOAD_BYTES`, nested at most `MAX_NESTING`
deep, with `"v": SCHEMA_VERSION` and a `"type"`. `load_object` is total: whatever the bytes, the
only exception is `PayloadError`, with the reason; `field`, `number`, `count` and `wearer_of`
read one field each and raise the same. The payloads themselves are in `contract.py` (what is
recorded), `delivery.py` (between gateways and recorders) and `messages.py` (to and from the
wearer); docs/mqtt-contract.md describes them for people.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any, Final

SCHEMA_VERSION: Final = 1


MAX_PAYLOAD_BYTES: Final = 64 * 1024


MAX_NESTING: Final = 8  # arrays and objects inside each other; the deepest payload has 3


ID_PATTERN: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


# Words that are topic levels of their own under the root, so never a wearer id.
RESERVED_IDS: Final = frozenset({"gateway", "recorder", "deadletter"})


# Unix seconds a record may carry: 1970 up to InfluxDB's last nanosecond (2262-04-11).
TIME_MAX_S: Final = 9_223_372_035.0
MAX_SEQ: Final = 2**53  # sequence numbers stay exact in every JSON implementation


class PayloadError(ValueError):
    """A payload or topic that does not follow the contract."""


def check_id(value: str, *, what: str) -> str:
    if not isinstance(value, str) or not ID_PATTERN.fullmatch(value):
        raise ValueError(f"{what} {value!r} must be 1-64 letters, digits, '_', '.' or '-'")
    return value


def to_json(payload: Mapping[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":"), allow_nan=False, sort_keys=True).encode()


# One decoder for every payload: JSON is UTF-8 on the wire (RFC 8259), NaN and Infinity are not
# JSON, and building the decoder once keeps the recorder's hot path short.
def _reject_constant(name: str) -> None:
    raise PayloadError(f"non-finite number {name} in payload")


_DECODER: Final = json.JSONDecoder(parse_constant=_reject_constant)


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


def count(data: Mapping[str, Any], key: str, *, hi: int = 86400) -> int:
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
