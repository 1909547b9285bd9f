"""The MQTT contract's JSON Schema: current, valid, and agreeing with the decoders on the docs'
examples and on what the code encodes."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from analytics import contract, delivery, messages
from analytics.contract_schema import contract_schema
from analytics.delivery import RecorderHealth, dead_letter
from analytics.messages import Command
from analytics.offline import analyze
from analytics.records import EventKind, GatewayHealth, Posture, WearerState
from analytics.wire import PayloadError
from posture.testing.loadgen import contract_messages
from sensor_gateway.simulator import simulate_day
from tests.expected.regenerate import SCHEMA, schema_text

DOCS = Path(__file__).resolve().parents[2] / "docs" / "mqtt-contract.md"
VALIDATOR = jsonschema.Draft202012Validator(contract_schema())
DECODERS: dict[str, Callable[[bytes], object]] = {
    "event": contract.decode,
    "minute": contract.decode,
    "device": contract.decode,
    "gateway_health": contract.decode,
    "state": contract.decode_state,
    "status": delivery.decode_status,
    "ack": delivery.decode_ack,
    "recorder_health": delivery.decode_recorder_health,
    "deadletter": delivery.decode_deadletter,
    "nudge": messages.decode_nudge,
    "cmd": messages.decode_command,
    None: messages.decode_context,
}


def test_the_committed_schema_is_what_the_code_generates() -> None:
    assert SCHEMA.read_text() == schema_text(), "run tests/expected/regenerate.py"


def test_the_schema_is_valid_json_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(contract_schema())


def doc_examples() -> Iterator[dict[str, Any]]:
    """Every JSON object in the docs' ```json blocks (a block may hold several, one a line)."""
    decoder = json.JSONDecoder()
    for block in re.findall(r"```json\n(.*?)```", DOCS.read_text(), flags=re.S):
        text = block.strip()
        while text:
            value, end = decoder.raw_decode(text)
            yield value
            text = text[end:].strip()


EXAMPLES = list(doc_examples())


def test_the_docs_show_an_example_of_every_payload() -> None:
    assert {e.get("type") for e in EXAMPLES} >= set(DECODERS)


@pytest.mark.parametrize(
    "example", EXAMPLES, ids=[f"{e.get('type', 'context')}-{i}" for i, e in enumerate(EXAMPLES)]
)
def test_every_example_in_the_docs_validates_and_decodes(example: dict[str, Any]) -> None:
    VALIDATOR.validate(example)
    DECODERS[example.get("type")](json.dumps(example).encode())


def encoded() -> Iterator[bytes]:
    """What the code encodes, of every payload type."""
    traffic = contract_messages("posture/v1", wearers=2, hours=0.5)
    yield from (payload for _topic, payload in traffic.messages)
    output = analyze(simulate_day(seed=3, hours=1.0).traces, wearer_id="w1").output
    nudges = [e for e in output.events if e.kind is EventKind.NUDGE]
    yield from (messages.encode_nudge(e, desk="stand") for e in nudges[:2])
    yield contract.encode_state(
        WearerState("w1", 1.8e9, Posture.SITTING, 1.79e9, None, True),
        battery_pct=80,
    )
    yield contract.encode_gateway_health(
        GatewayHealth("gw1", 1.8e9, 3.5, 12, 0.4, 4096, 0, 1), seq=7
    )
    yield from delivery.encode_acks("rec1", [1, 2, 3, 9])
    yield delivery.encode_recorder_health(RecorderHealth("rec1", "offline", 1.8e9))
    yield delivery.encode_recorder_health(
        RecorderHealth("rec1", "online", 1.8e9, session="new", counters={"received": 3})
    )
    yield delivery.encode_deadletter(dead_letter("t", "why", b"{", size=1, at_s=1.8e9))
    for command in (
        Command("w1", "snooze", minutes=30),
        Command("w1", "snooze", until_s=1.8e9),
        Command("w1", "dnd", on=True),
        Command("w1", "quiet_hours", spans=(("12:00", "13:00"),)),
        Command("w1", "desk", position="stand"),
        Command("w1", "calibrate"),
    ):
        yield messages.encode_command(command)


def test_everything_the_code_encodes_validates() -> None:
    payloads = list(encoded())
    assert {json.loads(p)["type"] for p in payloads} == set(DECODERS) - {None}
    for payload in payloads:
        VALIDATOR.validate(json.loads(payload))


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"kind": "lunch"}, "kind"),
        ({"values": {"evil": 1}}, "values"),
        ({"values": {"posture": "dancing"}}, "posture"),
        ({"values": {"duration_s": -1}}, "duration_s"),
        ({"start": 1e12}, "start"),
        ({"wearer": "w1 x"}, "wearer"),
        ({"seq": 5}, "dependentRequired"),
    ],
)
def test_the_schema_refuses_what_the_decoder_refuses(change: dict[str, Any], path: str) -> None:
    event = {
        "v": 1,
        "type": "event",
        "wearer": "w1",
        "kind": "posture_bout",
        "start": 1.8e9,
        "end": 1.8e9,
        "values": {},
    } | change
    errors = list(VALIDATOR.iter_errors(event))
    assert errors, f"the schema took {change}"
    with pytest.raises(PayloadError):
        contract.decode(json.dumps(event).encode())
