"""One MQTT message into one line of InfluxDB line protocol, or the reason it cannot be.

Pure: the topic must be one the recorder subscribes to, the payload must follow the contract
(`analytics.contract.decode`), and the two must agree (the wearer or gateway named in the topic
is the one in the payload, the channel carries its own payload type). Anything else raises
`PayloadError` with the reason, which the recorder puts in the dead letter. What the recorder
admits beyond the contract (who may say what, and when) is `admission.py`.
"""

from __future__ import annotations

from dataclasses import dataclass

from analytics.contract import Source, decode, parse_gateway_topic, parse_wearer_topic
from analytics.records import DeviceHealth, Event, GatewayHealth, MinuteMetrics
from analytics.wire import MAX_PAYLOAD_BYTES, PayloadError
from dashboards.lineprotocol import device_line, event_line, gateway_line, minute_line

Record = Event | MinuteMetrics | DeviceHealth | GatewayHealth


@dataclass(frozen=True, slots=True)
class Translated:
    """A message as the recorder writes it: its record, its line and its source (if any)."""

    record: Record
    line: str
    source: Source | None


def to_line(root: str, topic: str, payload: bytes, *, size: int | None = None) -> str:
    """The line protocol of a message on `topic` under `root`; raises `PayloadError`."""
    return translate(root, topic, payload, size=size).line


def translate(root: str, topic: str, payload: bytes, *, size: int | None = None) -> Translated:
    """A message on `topic` under `root` as a record and its line; raises `PayloadError`.

    `size` is the payload's size on the wire when `payload` is only an excerpt of it.
    """
    size = len(payload) if size is None else size
    if size > MAX_PAYLOAD_BYTES:
        raise PayloadError(f"payload of {size} bytes exceeds {MAX_PAYLOAD_BYTES}")
    if topic.startswith(root + "/gateway/"):
        gateway, channel = parse_gateway_topic(root, topic)
        message = decode(payload)
        health = message.record
        if not (channel == "device" and type(health) is DeviceHealth) and not (
            channel == "health" and type(health) is GatewayHealth
        ):
            raise PayloadError(f"a {type(health).__name__} payload on a gateway {channel} topic")
        if health.gateway_id != gateway:
            raise PayloadError(
                f"payload of gateway {health.gateway_id!r} on gateway {gateway!r}'s topic"
            )
        if isinstance(health, GatewayHealth):
            return Translated(health, gateway_line(health), message.source)
        return Translated(health, device_line(health), message.source)
    wearer, channel = parse_wearer_topic(root, topic)
    message = decode(payload)
    record = message.record
    if not (channel == "event" and type(record) is Event) and not (
        channel == "metric" and type(record) is MinuteMetrics
    ):
        raise PayloadError(f"a {type(record).__name__} payload on a {channel} topic")
    if record.wearer_id != wearer:
        raise PayloadError(f"payload for wearer {record.wearer_id!r} on wearer {wearer!r}'s topic")
    if isinstance(record, Event):
        line = event_line(record, team=message.team, site=message.site)
    else:
        assert isinstance(record, MinuteMetrics)
        line = minute_line(record, team=message.team, site=message.site)
    return Translated(record, line, message.source)
