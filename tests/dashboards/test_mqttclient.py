"""The recorder's lean paho client reads PUBLISH packets exactly as paho does, minus properties."""

from __future__ import annotations

import contextlib
import struct

import paho.mqtt.client as paho
import pytest
from hypothesis import given
from hypothesis import strategies as st
from paho.mqtt import _packet
from paho.mqtt.enums import MQTTProtocolVersion
from paho.mqtt.exception import MalformedPacket
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from dashboards.recorder.mqttclient import LeanClient, paho_problems, parse_publish


def publish_packet(
    topic: bytes, payload: bytes, *, qos: int, mid: int, props: Properties | None
) -> tuple[int, bytes]:
    """A PUBLISH (fixed header byte, rest after the remaining length) as a broker sends it."""
    header = 0x30 | (qos << 1)
    body = struct.pack("!H", len(topic)) + topic
    if qos:
        body += struct.pack("!H", mid)
    body += props.pack() if props is not None else b"\x00"
    return header, body + payload


def properties(
    expiry: int | None, content_type: str | None, user: list[tuple[str, str]]
) -> Properties:
    props = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
    if expiry is not None:
        props.MessageExpiryInterval = expiry
    if content_type is not None:
        props.ContentType = content_type
    if user:
        props.UserProperty = user
    return props


MQTT_TEXT = st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",))


@given(
    topic=st.text(MQTT_TEXT, min_size=1, max_size=60).map(str.encode),
    payload=st.binary(max_size=300),
    qos=st.sampled_from([0, 1]),
    mid=st.integers(1, 65535),
    expiry=st.none() | st.integers(0, 2**32 - 1),
    content_type=st.none() | st.text(MQTT_TEXT, max_size=20),
    user=st.lists(
        st.tuples(st.text(MQTT_TEXT, max_size=8), st.text(MQTT_TEXT, max_size=200)), max_size=3
    ),
)
def test_parse_publish_agrees_with_paho(
    *,
    topic: bytes,
    payload: bytes,
    qos: int,
    mid: int,
    expiry: int | None,
    content_type: str | None,
    user: list[tuple[str, str]],
) -> None:
    props = properties(expiry, content_type, user)
    header, packet = publish_packet(topic, payload, qos=qos, mid=mid, props=props)
    reference = _packet.decode_publish(header, packet, MQTTProtocolVersion.MQTTv5)
    assert parse_publish(header, packet) == (
        reference.topic,
        reference.mid,
        reference.qos,
        reference.payload,
    )


@given(st.binary(max_size=40))
def test_truncated_packets_are_malformed_not_crashes(data: bytes) -> None:
    header, packet = publish_packet(b"a/b", b"payload", qos=1, mid=7, props=None)
    for cut in range(len(packet) - len(b"payload")):
        with pytest.raises(MalformedPacket):
            parse_publish(header, packet[:cut])
    with contextlib.suppress(MalformedPacket):
        parse_publish(0x32, data)


def test_lean_client_still_uses_the_paho_internals_it_relies_on() -> None:
    client = LeanClient(callback_api_version=paho.CallbackAPIVersion.VERSION2, protocol=paho.MQTTv5)
    assert set(client._in_packet) >= {"command", "packet"}
    assert callable(client._handle_on_message)
    assert callable(client._packet_queue)
    assert client._manual_ack is False
    got: list[paho.MQTTMessage] = []
    client.on_message = lambda _c, _u, message: got.append(message)
    header, packet = publish_packet(b"a/b", b"{}", qos=0, mid=0, props=properties(5, "x", []))
    client._in_packet["command"], client._in_packet["packet"] = header, bytearray(packet)
    assert client._handle_publish() == paho.MQTT_ERR_SUCCESS
    assert [(m.topic, m.payload, m.qos, m.retain) for m in got] == [("a/b", b"{}", 0, False)]


def test_the_installed_paho_has_every_hook_with_its_signature() -> None:
    assert paho_problems() == []


def test_a_paho_that_changed_its_hooks_is_noticed() -> None:
    class Renamed(paho.Client):
        _send_puback = None  # type: ignore[assignment]

        def _packet_queue(self, command: int, data: bytes) -> paho.MQTTErrorCode:  # type: ignore[override]
            return paho.MQTTErrorCode.MQTT_ERR_SUCCESS

        def __init__(self, **kwargs: object) -> None:
            super().__init__(**kwargs)  # type: ignore[arg-type]
            del self._manual_ack

    problems = paho_problems(Renamed)
    assert any("_send_puback is gone" in p for p in problems)
    assert any("_packet_queue" in p for p in problems)
    assert any("_manual_ack" in p for p in problems)


@pytest.mark.parametrize(("lean", "expected"), [(False, paho.Client), (True, LeanClient)])
def test_the_recorder_runs_stock_paho_unless_the_lean_client_is_asked_for(
    lean: bool, expected: type[paho.Client]
) -> None:
    from dashboards.influx import InfluxClient
    from dashboards.recorder import Recorder
    from dashboards.settings import InfluxSettings, RecorderSettings
    from transport.settings import MqttSettings

    influx = InfluxClient(InfluxSettings())
    recorder = Recorder(MqttSettings(), influx, RecorderSettings(lean_client=lean))
    assert recorder._client_class is expected
    influx.close()
