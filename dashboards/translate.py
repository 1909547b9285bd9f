"""One MQTT message into one line of InfluxDB line protocol, or the reason it cannot be.

Pure: the topic must be one the recorder subscribes to, the payload must follow the contract
(`analytics.contract.decode`), and the two must agree (the wearer or gateway named in the topic
is the one in the payload, the channel carries its own payload type). Anything else raises
`PayloadError` with the reason, which the recorder puts in the dead letter.
"""

from __future__ import annotations

from collections.abc import Callable

from analytics.contract import (
    MAX_PAYLOAD_BYTES,
    PayloadError,
    decode,
    parse_gateway_topic,
    parse_wearer_topic,
)
from analytics.records import DeviceHealth, Event, MinuteMetrics

from .lineprotocol import device_line, event_line, minute_line

Admit = Callable[[Event | MinuteMetrics | DeviceHealth], None]


def to_line(
    root: str,
    topic: str,
    payload: bytes,
    *,
    size: int | None = None,
    admit: Admit | None = None,
) -> str:
    """The line protocol of a message on `topic` under `root`; raises `PayloadError`.

    `size` is the payload's size on the wire when `payload` is only an excerpt of it; `admit`
    is called with the decoded record and may refuse it by raising `PayloadError`.
    """
    size = len(payload) if size is None else size
    if size > MAX_PAYLOAD_BYTES:
        raise PayloadError(f"payload of {size} bytes exceeds {MAX_PAYLOAD_BYTES}")
    if topic.startswith(root + "/gateway/"):
        gateway, channel = parse_gateway_topic(root, topic)
        health = decode(payload).record
        if channel != "device" or type(health) is not DeviceHealth:
            raise PayloadError(f"a {type(health).__name__} payload on a gateway {channel} topic")
        if health.gateway_id != gateway:
            raise PayloadError(
                f"payload of gateway {health.gateway_id!r} on gateway {gateway!r}'s topic"
            )
        if admit is not None:
            admit(health)
        return device_line(health)
    wearer, channel = parse_wearer_topic(root, topic)
    message = decode(payload)
    record = message.record
    if not (channel == "event" and type(record) is Event) and not (
        channel == "metric" and type(record) is MinuteMetrics
    ):
        raise PayloadError(f"a {type(record).__name__} payload on a {channel} topic")
    if record.wearer_id != wearer:
        raise PayloadError(f"payload for wearer {record.wearer_id!r} on wearer {wearer!r}'s topic")
    if admit is not None:
        admit(record)
    if isinstance(record, Event):
        return event_line(record, team=message.team, site=message.site)
    assert isinstance(record, MinuteMetrics)
    return minute_line(record, team=message.team, site=message.site)
