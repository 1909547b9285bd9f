"""Publishing what the edge analytics release over MQTT (DESIGN.md section 5).

QoS 1 throughout; the gateway's status is retained, with a retained "offline" last will. Every
publish return code is checked, and the number of messages not yet acknowledged by the broker is
bounded: past `max_inflight`, publishing waits for the oldest (back-pressure), so a broker
outage slows the gateway down instead of losing or piling up messages without limit.

Acknowledgements are read from paho's `on_publish` (message id and reason code), not from
`MQTTMessageInfo.is_published()`: that raises for a message queued while disconnected (rc
NO_CONN) even after paho delivered it, and reports a message the broker refused (MQTT v5 PUBACK
"Not authorized", e.g. by its ACL) as published. A refusal raises `BrokerError`.
"""

from __future__ import annotations

import collections
import logging
import time
from collections.abc import Callable, Iterable
from typing import Protocol

import paho.mqtt.client as paho
from paho.mqtt.reasoncodes import ReasonCode

from analytics.contract import (
    PayloadError,
    encode_device,
    encode_event,
    encode_minute,
    encode_state,
    encode_status,
    gateway_topic,
    wearer_topic,
)
from analytics.messages import Command, decode_command, encode_nudge
from analytics.monitor import Output
from analytics.records import DeviceHealth, EventKind, WearerState
from posture.mqtt import BrokerError, connect, make_client
from posture.settings import MqttSettings

from .homeassistant import discovery_messages

log = logging.getLogger(__name__)


class Sink(Protocol):
    """Where the edge service sends what a wearer's engine released."""

    def publish_output(self, wearer_id: str, output: Output) -> None: ...

    def publish_state(
        self, state: WearerState, *, sitting_today_s: float, battery_pct: int | None
    ) -> None: ...


class MqttPublisher:
    """The gateway's MQTT connection."""

    def __init__(
        self,
        settings: MqttSettings,
        gateway_id: str,
        *,
        team: str = "",
        site: str = "",
        max_inflight: int = 10_000,
        stall_timeout_s: float = 600.0,
    ) -> None:
        self.settings = settings
        self.gateway_id = gateway_id
        self.team = team
        self.site = site
        self.max_inflight = max_inflight
        self.stall_timeout_s = stall_timeout_s
        self.published = 0
        self.sent: collections.Counter[str] = (
            collections.Counter()
        )  # per channel (topic's last part)
        self._inflight: collections.deque[tuple[int, str]] = collections.deque()  # (mid, topic)
        self._acked: dict[int, ReasonCode] = {}  # mid -> PUBACK reason, from paho's thread
        self._status_topic = gateway_topic(settings.topic_root, gateway_id)
        self._command_topics: dict[str, str] = {}  # topic -> wearer
        self._client = make_client(
            settings,
            f"posture-gateway-{gateway_id}",
            will=(self._status_topic, self._status("offline")),
        )
        self._client.on_publish = self._on_publish
        self._client.on_connect = self._on_connect
        self._client.on_message = self._on_message
        self._on_command: Callable[[Command], None] | None = None
        self.rejected_commands = 0

    def listen_for_commands(
        self, wearers: Iterable[str], handler: Callable[[Command], None]
    ) -> None:
        """Subscribe to the wearers' command topics (now and after every reconnect).

        `handler` is called from paho's network thread with each valid command; a payload that
        is not one, or names another wearer, is logged, counted and dropped.
        """
        root = self.settings.topic_root
        self._command_topics = {wearer_topic(root, w, "cmd"): w for w in wearers}
        self._on_command = handler
        self._publish(self._status_topic, self._status("online"), retain=True)  # with wearers
        if self._client.is_connected():
            self._subscribe_commands()

    def _subscribe_commands(self) -> None:
        if self._command_topics:
            self._client.subscribe([(t, 1) for t in self._command_topics])

    def _on_connect(
        self, _c: paho.Client, _u: object, _f: object, reason: ReasonCode, _p: object
    ) -> None:
        if not reason.is_failure:
            self._subscribe_commands()

    def _on_message(self, _c: paho.Client, _u: object, msg: paho.MQTTMessage) -> None:
        try:
            wearer = self._command_topics.get(msg.topic)
            command = decode_command(bytes(msg.payload))
            if wearer is None or command.wearer_id != wearer:
                raise PayloadError(f"a command for {command.wearer_id!r} on topic {msg.topic!r}")
            if self._on_command is not None:
                self._on_command(command)
        except PayloadError as err:
            self.rejected_commands += 1
            log.warning("dropped a command: %s", err)
        except Exception:  # paho's network thread must survive whatever a message holds
            self.rejected_commands += 1
            log.exception("dropped a command that could not be handled")

    def _on_publish(
        self, _c: paho.Client, _u: object, mid: int, reason: ReasonCode, _p: object
    ) -> None:
        self._acked[mid] = reason

    def _status(self, status: str) -> bytes:
        return encode_status(status, self._command_topics.values())

    def start(self) -> None:
        """Connect (raises `BrokerError`) and announce the gateway online."""
        self._client.max_queued_messages_set(0)
        connect(self._client, self.settings)
        self._publish(self._status_topic, self._status("online"), retain=True)

    def close(self, *, timeout_s: float = 30.0) -> None:
        """Announce offline, wait until everything is acknowledged, disconnect."""
        self._publish(self._status_topic, self._status("offline"), retain=True)
        self.flush(timeout_s=timeout_s)
        self._client.disconnect()
        self._client.loop_stop()

    def publish_output(self, wearer_id: str, output: Output) -> None:
        root = self.settings.topic_root
        for event in output.events:
            payload = encode_event(event, team=self.team, site=self.site)
            self._publish(wearer_topic(root, wearer_id, "event"), payload)
            if event.kind is EventKind.NUDGE:  # the nudge channel: devices and desktops listen
                self._publish(wearer_topic(root, wearer_id, "nudge"), encode_nudge(event))
        for minute in output.minutes:
            payload = encode_minute(minute, team=self.team, site=self.site)
            self._publish(wearer_topic(root, wearer_id, "metric"), payload)

    def publish_state(
        self, state: WearerState, *, sitting_today_s: float = 0.0, battery_pct: int | None = None
    ) -> None:
        topic = wearer_topic(self.settings.topic_root, state.wearer_id, "state")
        payload = encode_state(
            state,
            team=self.team,
            site=self.site,
            sitting_today_s=sitting_today_s,
            battery_pct=battery_pct,
        )
        self._publish(topic, payload, retain=True)

    def announce_home_assistant(self, wearers: Iterable[str], *, prefix: str) -> None:
        """Retained Home Assistant discovery messages for every wearer's entities."""
        for wearer in wearers:
            for topic, payload in discovery_messages(
                prefix=prefix,
                root=self.settings.topic_root,
                gateway_id=self.gateway_id,
                wearer_id=wearer,
            ):
                self._publish(topic, payload, retain=True)

    def publish_device(self, health: DeviceHealth) -> None:
        """A device health report on `<root>/gateway/<id>/device` (QoS 1, not retained)."""
        topic = gateway_topic(self.settings.topic_root, self.gateway_id, "device")
        self._publish(topic, encode_device(health))

    def flush(self, *, timeout_s: float) -> None:
        """Wait until the broker acknowledged every message; raises `BrokerError` on timeout."""
        deadline = time.monotonic() + timeout_s
        while self._inflight:
            self._wait_oldest(max(0.0, deadline - time.monotonic()))

    def _publish(self, topic: str, payload: bytes, *, retain: bool = False) -> None:
        while self._inflight and self._inflight[0][0] in self._acked:
            self._take_oldest()
        while len(self._inflight) >= self.max_inflight:
            self._wait_oldest(self.stall_timeout_s)
        info = self._client.publish(topic, payload, qos=1, retain=retain)
        # NO_CONN: paho keeps QoS 1 messages and sends them after it reconnects
        if info.rc not in (paho.MQTT_ERR_SUCCESS, paho.MQTT_ERR_NO_CONN):
            raise BrokerError(f"publish to {topic} failed: {paho.error_string(info.rc)}")
        self._inflight.append((info.mid, topic))
        self.published += 1
        self.sent[topic.rsplit("/", 1)[-1]] += 1

    def _wait_oldest(self, timeout_s: float) -> None:
        mid = self._inflight[0][0]
        deadline = time.monotonic() + timeout_s
        while mid not in self._acked:
            if time.monotonic() > deadline:
                raise BrokerError(
                    f"MQTT broker at {self.settings.host}:{self.settings.port} has not "
                    f"acknowledged {len(self._inflight)} message(s) for {timeout_s:g} s"
                )
            time.sleep(0.005)
        self._take_oldest()

    def _take_oldest(self) -> None:
        mid, topic = self._inflight.popleft()
        reason = self._acked.pop(mid)
        if reason.is_failure:
            raise BrokerError(f"the MQTT broker refused the message to {topic}: {reason}")
