"""The recorder's paho client: paho itself, minus two costs per message the recorder can avoid.

- For every incoming MQTT v5 PUBLISH, paho builds a `Properties` object and decodes the property
  section into it: about a third of paho's cost per message (measured with paho-mqtt 2.2.0, see
  bench/recorder.py). The recorder reads no property of the messages it records, so its client
  skips the section and hands on topic, QoS, flags, message id and payload exactly as paho would.
- paho's `ack` queues one 4-byte PUBACK per call, wakes the network thread and sends it with a
  system call of its own; `ack_many` queues the PUBACKs of a whole batch as one write.

Everything else (connection, keepalive, reconnects, publishing) is paho's own code. This uses
private names of paho 2.x (`_handle_publish`, `_in_packet`, `_handle_on_message`, `_manual_ack`,
`_packet_queue`, `_send_puback`), so it is used only when asked for (`[recorder] lean_client`);
stock paho is the default. `paho_problems` checks those names and their signatures against the
installed paho, and the recorder refuses the lean client if it finds any;
tests/dashboards/test_mqttclient.py checks them too, the parser against paho's own decoder, and
the acknowledgements against a real broker, so a paho release that changes them fails the suite
instead of the recorder.
"""

from __future__ import annotations

import inspect
import struct
from collections.abc import Sequence

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode
from paho.mqtt.exception import MalformedPacket

# The private paho methods LeanClient overrides or calls, with the parameters it passes.
PAHO_HOOKS: dict[str, tuple[str, ...]] = {
    "_handle_publish": ("self",),
    "_handle_on_message": ("self", "message"),
    "_packet_queue": ("self", "command", "packet", "mid", "qos"),
    "_send_puback": ("self", "mid"),
}
PAHO_IN_PACKET_KEYS = frozenset({"command", "packet"})

_U16 = struct.Struct("!H")
_PUBACK = struct.Struct("!BBH")  # fixed header (PUBACK), remaining length 2, message id


def parse_publish(header: int, packet: bytes | bytearray) -> tuple[bytes, int, int, bytes]:
    """(topic, message id, QoS, payload) of an MQTT v5 PUBLISH, skipping its properties.

    `header` is the fixed header's first byte, `packet` everything after the remaining length.
    Raises `MalformedPacket` if the packet is shorter than its own lengths say.
    """
    qos = (header & 0x06) >> 1
    try:
        (topic_len,) = _U16.unpack_from(packet, 0)
        pos = 2 + topic_len
        topic = bytes(packet[2:pos])
        mid = 0
        if qos:
            (mid,) = _U16.unpack_from(packet, pos)
            pos += 2
        length, shift = 0, 0
        while True:  # the property length, a variable byte integer of at most 4 bytes
            byte = packet[pos]
            pos += 1
            length |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                break
            if shift >= 28:
                raise MalformedPacket("property length longer than 4 bytes")
    except (struct.error, IndexError):
        raise MalformedPacket("PUBLISH shorter than its lengths") from None
    pos += length
    if pos > len(packet) or len(topic) != topic_len:
        raise MalformedPacket("PUBLISH properties longer than the packet")
    return topic, mid, qos, bytes(packet[pos:])


def paho_problems(client_class: type[paho.Client] = paho.Client) -> list[str]:
    """What in `client_class` (the installed paho) no longer matches what LeanClient relies on."""
    problems = []
    for name, params in PAHO_HOOKS.items():
        method = getattr(client_class, name, None)
        if not callable(method):
            problems.append(f"paho.Client.{name} is gone")
            continue
        have = tuple(inspect.signature(method).parameters)
        if have[: len(params)] != params:
            problems.append(f"paho.Client.{name}{have} no longer takes {params}")
    client = client_class(callback_api_version=CallbackAPIVersion.VERSION2)
    in_packet = getattr(client, "_in_packet", None)
    if not isinstance(in_packet, dict) or not set(in_packet) >= PAHO_IN_PACKET_KEYS:
        problems.append("paho.Client._in_packet has no command and packet")
    if not isinstance(getattr(client, "_manual_ack", None), bool):
        problems.append("paho.Client._manual_ack is gone")
    return problems


class LeanClient(paho.Client):
    """A paho MQTT v5 client that does not decode the properties of incoming QoS 0/1 PUBLISH."""

    def _handle_publish(self) -> MQTTErrorCode:
        header = self._in_packet["command"]
        if self.protocol != paho.MQTTv5 or (header & 0x06) >> 1 == 2:
            return super()._handle_publish()
        topic, mid, qos, payload = parse_publish(header, self._in_packet["packet"])
        message = paho.MQTTMessage(mid=mid, topic=topic)
        message.qos = qos
        message.retain = bool(header & 0x01)
        message.dup = bool(header & 0x08)
        message.payload = payload
        self._handle_on_message(message)
        if qos == 1 and not self._manual_ack:
            return self._send_puback(mid)
        return MQTTErrorCode.MQTT_ERR_SUCCESS

    def ack_many(self, mids: Sequence[int]) -> MQTTErrorCode:
        """Acknowledge QoS 1 messages (manual acknowledgement): their PUBACKs in one write.

        Like `ack`, this belongs to the current connection: paho drops what it has not sent when
        the connection is lost, and message ids of an earlier connection must not be passed.
        """
        if not mids:
            return MQTTErrorCode.MQTT_ERR_SUCCESS
        packets = b"".join([_PUBACK.pack(paho.PUBACK, 2, mid) for mid in mids])
        return self._packet_queue(paho.PUBACK, packets, 0, 0)


def ack_many(client: paho.Client, mids: Sequence[int]) -> None:
    """Acknowledge `mids` on `client`: in one write if it is a `LeanClient`."""
    if isinstance(client, LeanClient):
        client.ack_many(mids)
        return
    for mid in mids:
        client.ack(mid, 1)
