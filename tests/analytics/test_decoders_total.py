"""Every decoder of outside input is total: arbitrary bytes and arbitrary JSON (deep, wide, huge
numbers, odd types, valid payloads with one field replaced) either decode or raise `PayloadError`.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from analytics import contract, delivery, messages, wire
from analytics.wire import MAX_NESTING, PayloadError
from dashboards.recorder.translate import to_line
from posture.testing.loadgen import contract_messages

ROOT = "posture/v1"
TRAFFIC = contract_messages(ROOT, wearers=1, hours=0.5)
EXAMPLES = [payload for _topic, payload in TRAFFIC.recordable[:40]]


def _to_line(payload: bytes) -> object:
    return to_line(ROOT, f"{ROOT}/w0000/event", payload)


def _to_line_metric(payload: bytes) -> object:
    return to_line(ROOT, f"{ROOT}/w0000/metric", payload)


def _to_line_device(payload: bytes) -> object:
    return to_line(ROOT, f"{ROOT}/gateway/g0000/device", payload)


DECODERS: dict[str, Callable[[bytes], object]] = {
    "decode": contract.decode,
    "decode_state": contract.decode_state,
    "decode_status": delivery.decode_status,
    "decode_ack": delivery.decode_ack,
    "decode_recorder_health": delivery.decode_recorder_health,
    "decode_deadletter": delivery.decode_deadletter,
    "decode_nudge": messages.decode_nudge,
    "decode_command": messages.decode_command,
    "decode_context": messages.decode_context,
    "busy_state": lambda payload: messages.busy_state(payload, ("on", "busy")),
    "desk_height_cm": messages.desk_height_cm,
    "desk_height_cm(key)": lambda payload: messages.desk_height_cm(payload, key="a.b", scale=0.1),
    "to_line(event)": _to_line,
    "to_line(metric)": _to_line_metric,
    "to_line(device)": _to_line_device,
}

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=10**20, max_value=10**400)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40)
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=20,
)


def assert_total(decoder: Callable[[bytes], object], payload: bytes) -> None:
    """Only `PayloadError` may come out (any other exception fails the test)."""
    with contextlib.suppress(PayloadError):
        decoder(payload)


@pytest.mark.parametrize("name", DECODERS)
@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.binary(max_size=300))
@example(data=b"[" * 2000 + b"]" * 2000)
@example(data=b'{"v":1,"type":"event","x":' + b"[" * 2000 + b"]" * 2000 + b"}")
@example(data=b'{"v":1,"n":' + b"9" * 5000 + b"}")
@example(data="\ufeff{}".encode())
@example(data='{"v":1}'.encode("utf-16"))
def test_arbitrary_bytes_decode_or_raise_payload_error(name: str, data: bytes) -> None:
    assert_total(DECODERS[name], data)


@pytest.mark.parametrize("name", DECODERS)
@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(value=json_values)
def test_arbitrary_json_decodes_or_raises_payload_error(name: str, value: Any) -> None:
    assert_total(DECODERS[name], json.dumps(value).encode())


@pytest.mark.parametrize("name", DECODERS)
@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(
    base=st.sampled_from(EXAMPLES),
    key_index=st.integers(min_value=0, max_value=30),
    value=json_values,
    nested=st.booleans(),
)
def test_a_valid_payload_with_any_field_replaced_decodes_or_raises_payload_error(
    name: str, base: bytes, key_index: int, value: Any, nested: bool
) -> None:
    data = json.loads(base)
    if nested and isinstance(data.get("values"), dict) and data["values"]:
        target = data["values"]
    elif nested and isinstance(data.get("posture_s"), dict):
        target = data["posture_s"]
    else:
        target = data
    keys = sorted(target)
    target[keys[key_index % len(keys)]] = value
    assert_total(DECODERS[name], json.dumps(data).encode())


@pytest.mark.parametrize("depth", [MAX_NESTING + 1, 50, 2000])
def test_deep_nesting_is_refused_before_parsing(depth: int) -> None:
    payload = b'{"v":1,"type":"event","x":' + b"[" * depth + b"]" * depth + b"}"
    with pytest.raises(PayloadError, match=f"nested deeper than {MAX_NESTING}"):
        wire.load_object(payload)


def test_brackets_inside_strings_do_not_count_as_nesting() -> None:
    text = '[[[[[[[[[[[[{{{{{{{{{{{\\"]]]'
    data = wire.load_object(json.dumps({"v": 1, "type": "x", "s": text}).encode())
    assert data["s"] == text
