"""The recorder: MQTT events and metrics into InfluxDB, losing nothing and doubling nothing.

paho's network thread only puts messages on a queue; the recorder's own loop decodes them,
batches the points by size and time, writes a batch, and only then acknowledges its messages
(QoS 1, manual acknowledgement, persistent session). A message that is never acknowledged is
delivered again, and since point times come from the records, writing it again overwrites the
same point. Payloads that cannot be parsed go to the dead-letter topic with the reason.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import paho.mqtt.client as paho
from paho.mqtt.subscribeoptions import SubscribeOptions

from analytics.contract import PayloadError, decode, parse_gateway_topic, parse_wearer_topic
from analytics.records import DeviceHealth, Event, MinuteMetrics
from posture.backoff import backoff_s
from posture.mqtt import connect, make_client
from posture.settings import MqttSettings, RecorderSettings

from .influx import InfluxClient, InfluxRejected, InfluxUnavailable
from .schema import device_point, event_point, minute_point

log = logging.getLogger(__name__)

CHANNEL_TYPES = {"event": Event, "metric": MinuteMetrics}
DEADLETTER = "deadletter"


@dataclass
class RecorderStats:
    """Counters since start."""

    received: int = 0
    written_messages: int = 0
    written_points: int = 0
    rejected: int = 0  # sent to the dead-letter topic
    write_retries: int = 0


@dataclass
class _Pending:
    messages: list[paho.MQTTMessage] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    first_at: float = 0.0


class Recorder:
    """Subscribes to every wearer's events and metrics and writes them to InfluxDB."""

    def __init__(
        self,
        mqtt_settings: MqttSettings,
        influx: InfluxClient,
        settings: RecorderSettings,
        *,
        share_group: str | None = None,
        sleep: Callable[[float], None] | None = None,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.mqtt_settings = mqtt_settings
        self.influx = influx
        self.settings = settings
        self.share_group = share_group
        self.stats = RecorderStats()
        self._queue: queue.Queue[paho.MQTTMessage] = queue.Queue()
        self._stop = threading.Event()
        self._sleep = sleep or self._stop.wait
        self._wall_clock = wall_clock
        self._client: paho.Client | None = None
        root = mqtt_settings.topic_root
        self.deadletter_topic = f"{root}/{DEADLETTER}"
        prefix = f"$share/{share_group}/" if share_group else ""
        self.subscriptions = [
            f"{prefix}{root}/+/event",
            f"{prefix}{root}/+/metric",
            f"{prefix}{root}/gateway/+/device",
        ]

    def stop(self) -> None:
        """Ask `run` to finish its current batch and return (safe from any thread)."""
        self._stop.set()

    def run(self, *, ready: threading.Event | None = None) -> RecorderStats:
        """Record until `stop` is called. Raises `BrokerError` if the broker cannot be reached."""
        client = make_client(self.mqtt_settings, self.settings.client_id, manual_ack=True)
        client.on_connect = self._on_connect
        client.on_message = lambda _c, _u, msg: self._queue.put(msg)
        connect(
            client,
            self.mqtt_settings,
            session_expiry_s=self.settings.session_expiry_s,
            receive_maximum=min(65535, 2 * self.settings.batch_size),
        )
        self._client = client
        if ready is not None:
            ready.set()
        try:
            self._ensure_database()
            self._loop()
        finally:
            client.disconnect()
            client.loop_stop()
        return self.stats

    def _ensure_database(self) -> None:
        """Create the database, waiting for InfluxDB if it is not up yet."""
        attempt = 0
        while not self._stop.is_set():
            try:
                self.influx.ensure_database()
                return
            except InfluxUnavailable as err:
                wait = backoff_s(attempt)
                attempt += 1
                log.warning("influx unavailable, retrying in %.1f s: %s", wait, err)
                self._sleep(wait)

    def _on_connect(
        self, client: paho.Client, _u: object, _f: object, reason: object, _p: object
    ) -> None:
        options = SubscribeOptions(qos=1)
        client.subscribe([(topic, options) for topic in self.subscriptions])

    def _loop(self) -> None:
        pending = _Pending()
        while not self._stop.is_set():
            timeout = self.settings.flush_interval_s
            if pending.messages:
                timeout = max(
                    0.0, pending.first_at + self.settings.flush_interval_s - time.monotonic()
                )
            try:
                msg = self._queue.get(timeout=timeout)
            except queue.Empty:
                msg = None
            if msg is not None:
                self._take(msg, pending)
            full = len(pending.lines) >= self.settings.batch_size
            due = (
                pending.messages
                and time.monotonic() - pending.first_at >= self.settings.flush_interval_s
            )
            if full or due:
                self._flush(pending)
                pending = _Pending()
        if pending.messages:
            self._flush(pending)

    def _take(self, msg: paho.MQTTMessage, pending: _Pending) -> None:
        self.stats.received += 1
        try:
            line = self._line(msg.topic, bytes(msg.payload))
        except PayloadError as err:
            self._reject(msg, str(err))
            return
        if not pending.messages:
            pending.first_at = time.monotonic()
        pending.messages.append(msg)
        pending.lines.append(line)

    def _line(self, topic: str, payload: bytes) -> str:
        root = self.mqtt_settings.topic_root
        if topic.startswith(f"{root}/gateway/"):
            gateway, _channel = parse_gateway_topic(root, topic)
            health = decode(payload).record
            if not isinstance(health, DeviceHealth):
                raise PayloadError(f"a {type(health).__name__} payload on a device topic")
            if health.gateway_id != gateway:
                raise PayloadError(
                    f"payload of gateway {health.gateway_id!r} on gateway {gateway!r}'s topic"
                )
            return str(device_point(health).to_line_protocol())
        wearer, channel = parse_wearer_topic(root, topic)
        expected = CHANNEL_TYPES.get(channel)
        if expected is None:
            raise PayloadError(f"channel {channel!r} is not recorded")
        message = decode(payload)
        record = message.record
        if not isinstance(record, expected):
            raise PayloadError(f"a {type(record).__name__} payload on a {channel} topic")
        if record.wearer_id != wearer:
            raise PayloadError(
                f"payload for wearer {record.wearer_id!r} on wearer {wearer!r}'s topic"
            )
        if isinstance(record, Event):
            point = event_point(record, team=message.team, site=message.site)
        else:
            assert isinstance(record, MinuteMetrics)
            point = minute_point(record, team=message.team, site=message.site)
        return str(point.to_line_protocol())

    def _flush(self, pending: _Pending) -> None:
        """Write a batch, retrying while InfluxDB is unavailable; then acknowledge it.

        If asked to stop while InfluxDB is down, the batch is left unacknowledged: the broker
        keeps it in the persistent session and delivers it again to the next run.
        """
        attempt = 0
        while True:
            try:
                self.influx.write(pending.lines)
                break
            except InfluxUnavailable as err:
                if self._stop.is_set():
                    log.warning(
                        "stopping with unwritten batch=%d (left unacknowledged)", len(pending.lines)
                    )
                    return
                wait = backoff_s(attempt)
                attempt += 1
                self.stats.write_retries += 1
                log.warning("influx unavailable, retrying in %.1f s: %s", wait, err)
                self._sleep(wait)
            except InfluxRejected as err:
                self._isolate(pending, err)
                return
        self._done(pending.messages, len(pending.lines))

    def _isolate(self, pending: _Pending, err: InfluxRejected) -> None:
        """A batch refused as a whole: write its points one by one, dead-letter the bad ones."""
        log.warning("influx rejected batch=%d: %s", len(pending.lines), err)
        for msg, line in zip(pending.messages, pending.lines, strict=True):
            single = _Pending(messages=[msg], lines=[line])
            try:
                self.influx.write(single.lines)
            except InfluxRejected as one:
                self._reject(msg, f"InfluxDB refused the point: {one}")
                continue
            except InfluxUnavailable:
                self._flush(single)
                continue
            self._done(single.messages, 1)

    def _done(self, messages: list[paho.MQTTMessage], points: int) -> None:
        assert self._client is not None
        for msg in messages:
            self._client.ack(msg.mid, msg.qos)
        self.stats.written_messages += len(messages)
        self.stats.written_points += points
        log.debug("wrote points=%d", points)

    def _reject(self, msg: paho.MQTTMessage, reason: str) -> None:
        assert self._client is not None
        self.stats.rejected += 1
        log.info("dead-letter topic=%.120s reason=%s", msg.topic, reason)
        body = {
            "topic": msg.topic[:512],
            "reason": reason[:500],
            "size": len(msg.payload),
            "payload": msg.payload[:2048].decode("utf-8", errors="replace"),
            "at": round(self._wall_clock(), 3),
        }
        self._client.publish(self.deadletter_topic, json.dumps(body), qos=1)
        self._client.ack(msg.mid, msg.qos)
