"""The gateway's MQTT side: its outbox drained in order at QoS 1; commands and confirmations in.

Who does what (each the only user of what it owns):

- whoever calls the sink methods (`publish_output`, `publish_state`, `publish_device`,
  `publish_gateway_health`, `publish_desk`; the analytics thread) encodes the message and
  appends it to the outbox (`outbox.py`; a desk command with an expiry). Nothing waits for the
  broker, so a slow or absent broker never holds up the analytics, let alone the radio;
- paho's network thread only hands over: PUBACKs, messages and connection changes go on a queue;
- the publisher's own thread ("mqtt-publisher") owns the paho client: on every connection it
  publishes the retained status `online` with the wearers this gateway serves (the last will says
  `offline`) and subscribes to what is said about the wearers (`wearer_topics.py`: their
  commands and contexts, the busy-state and desk-height topics of their configuration; each
  decoded on paho's thread for `listen_for_inputs`' handler, or counted in `rejected` and
  dropped), to this gateway's `ack` topic (the recorders' confirmations) and to the recorders'
  health; it drains the outbox with at most `window` messages unacknowledged by the broker; it
  forgets what the broker acknowledged and nobody records, and what a recorder confirmed; it
  sends again what a recorder that started without its broker session never got, and what
  stayed unconfirmed too long.

paho reconnects by itself, after a jittered delay (`posture.mqtt.jitter_reconnects`), and sends
again what was in flight. A message the broker refuses (an MQTT v5 PUBACK reason such as "Not
authorized" from its ACL) stops the gateway with one line (`on_error`); it stays in the outbox.
The broker's acknowledgements are taken in order through `transport.acks.Acks`.
"""

from __future__ import annotations

import collections
import logging
import math
import queue
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Protocol

import paho.mqtt.client as paho
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from analytics.contract import (
    Source,
    encode_device,
    encode_event,
    encode_gateway_health,
    encode_minute,
    encode_state,
    gateway_topic,
    wearer_topic,
)
from analytics.delivery import (
    Ack,
    RecorderHealth,
    decode_ack,
    decode_recorder_health,
    encode_status,
)
from analytics.messages import WearerInput, encode_nudge
from analytics.monitor import Output
from analytics.records import (
    DeviceHealth,
    Event,
    EventKind,
    GatewayHealth,
    MinuteMetrics,
    WearerState,
)
from analytics.wire import PayloadError
from sensor_gateway.settings import WearerSettings
from transport.acks import Acks
from transport.mqtt import BrokerError, BrokerRefused, connect, jitter_reconnects, make_client
from transport.settings import MqttSettings

from .homeassistant import discovery_messages
from .outbox import Depth, Outbox, Pending
from .wearer_topics import desk_offer, input_topics

log = logging.getLogger(__name__)


class Sink(Protocol):
    """Where the edge analytics send what a wearer's engine released."""

    def publish_output(self, wearer_id: str, output: Output) -> None: ...

    def publish_state(
        self, state: WearerState, *, sitting_today_s: float, battery_pct: int | None
    ) -> None: ...


@dataclass(frozen=True, slots=True)
class _Sent:
    """A message out to the broker: its place in the outbox (None: the status, sent directly)."""

    seq: int | None
    confirm: bool
    topic: str


# what paho's thread hands over: True/False for connected/disconnected, recorders'
# confirmations and health (PUBACKs go to `transport.acks.Acks`)
_Handed = bool | Ack | RecorderHealth


def _event(event: Event, team: str, site: str, gateway: str, seq: int) -> bytes:
    return encode_event(event, team=team, site=site, source=Source(gateway, seq))


def _minute(minute: MinuteMetrics, team: str, site: str, gateway: str, seq: int) -> bytes:
    return encode_minute(minute, team=team, site=site, source=Source(gateway, seq))


def _device(health: DeviceHealth, seq: int) -> bytes:
    return encode_device(health, seq=seq)


def _gateway_health(health: GatewayHealth, seq: int) -> bytes:
    return encode_gateway_health(health, seq=seq)


def _constant(payload: bytes) -> Callable[[int], bytes]:
    return lambda _seq: payload


class MqttPublisher:
    """The gateway's MQTT connection (see the module docstring)."""

    def __init__(
        self,
        settings: MqttSettings,
        gateway_id: str,
        outbox: Outbox,
        *,
        wearers: Iterable[str],
        team: str = "",
        site: str = "",
        window: int = 1000,
        wearer_settings: Mapping[str, WearerSettings] | None = None,
    ) -> None:
        """`wearer_settings`: the wearers' own settings (`[wearers.<id>]`: busy-state topics,
        desk), of which those of `wearers` are used."""
        self.settings = settings
        self.gateway_id = gateway_id
        self.outbox = outbox
        self.wearers = sorted(set(wearers))
        self.team = team
        self.site = site
        self.window = window
        self.sent: collections.Counter[str] = collections.Counter()  # appended, per channel
        self.confirmed = 0  # messages recorders confirmed
        self.rejected: collections.Counter[str] = collections.Counter()  # inputs, per kind
        self.error: BrokerError | None = None  # the broker refused a message: stop
        self.on_error: Callable[[BrokerError], None] | None = None
        self._on_input: Callable[[WearerInput], None] | None = None
        root = settings.topic_root
        self._status_topic = gateway_topic(root, gateway_id)
        self._ack_topic = gateway_topic(root, gateway_id, "ack")
        self._recorders_topic = f"{root}/recorder/+/health"
        own = {w: s for w, s in (wearer_settings or {}).items() if w in self.wearers}
        self._desks = {w: s.desk for w, s in own.items() if s.desk is not None}
        self._inputs = input_topics(root, self.wearers, own)
        self._subscriptions = [self._ack_topic, self._recorders_topic, *self._inputs]
        self._client = make_client(
            settings,
            f"posture-gateway-{gateway_id}",
            will=(self._status_topic, encode_status("offline", self.wearers)),
        )
        self._client.max_queued_messages_set(0)
        self._client.max_inflight_messages_set(100)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_publish = self._on_publish
        self._client.on_message = self._on_message
        self._client.on_subscribe = self._on_subscribe
        self._events: queue.SimpleQueue[_Handed] = queue.SimpleQueue()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._connected = False
        self._out: Acks[_Sent] = Acks()  # published, not yet acknowledged by the broker
        self._sessions: dict[str, float] = {}  # recorder -> connection time of its session
        self._thread = threading.Thread(target=self._run, name="mqtt-publisher", daemon=True)

    # -- lifecycle --------------------------------------------------------------------------------

    def listen_for_inputs(self, handler: Callable[[WearerInput], None]) -> None:
        """Call `handler` (from paho's network thread) with what is said about a wearer of this
        gateway: each valid command, busy state and desk height; anything else on those topics
        is logged, counted in `rejected` and dropped."""
        self._on_input = handler

    def start(self, *, require_broker: bool = False) -> None:
        """Connect and start draining the outbox.

        Raises `BrokerError` if the broker refuses the connection (credentials), or cannot be
        reached while `require_broker`; otherwise an unreachable broker is retried in the
        background while the outbox keeps everything.
        """
        try:
            connect(self._client, self.settings)
        except BrokerRefused:
            raise
        except BrokerError as err:
            if require_broker:
                raise
            log.warning("%s; keeping everything in the outbox and retrying", err)
            self._client.connect_async(
                self.settings.host, self.settings.port, keepalive=self.settings.keepalive_s
            )
            self._client.loop_start()
        self._thread.start()

    def close(self, *, timeout_s: float = 10.0) -> Depth:
        """Announce offline, let the broker acknowledge what is in flight, disconnect, close the
        outbox. Returns what it still holds: what is not yet confirmed stays there for the next
        start (if it is on disk)."""
        if self._connected:
            info = self._client.publish(
                self._status_topic, encode_status("offline", self.wearers), qos=1, retain=True
            )
            self._out.add(info.mid, _Sent(None, False, self._status_topic))
        deadline = time.monotonic() + timeout_s
        while self._connected and self._out:
            if time.monotonic() > deadline:
                break
            time.sleep(0.01)
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout_s)
        self._client.disconnect()
        self._client.loop_stop()
        depth = self.outbox.depth()
        self.outbox.close()
        return depth

    def flush(self, *, timeout_s: float) -> None:
        """Wait until the outbox is empty: everything confirmed by a recorder (or, for what
        nobody records, by the broker). Raises `BrokerError` on timeout or a refusal."""
        deadline = time.monotonic() + timeout_s
        while (depth := self.outbox.depth()).messages:
            if self.error is not None:
                raise self.error
            if time.monotonic() > deadline:
                waiting = ", ".join(f"{n} {c}" for c, n in sorted(self.outbox.waiting().items()))
                raise BrokerError(
                    f"{depth.messages} message(s) not yet confirmed by a recorder after "
                    f"{timeout_s:g} s ({waiting}; the oldest {depth.oldest_s:.0f} s old)"
                )
            time.sleep(0.02)

    def drain(self, *, timeout_s: float) -> None:
        """Wait until the broker has acknowledged everything in the outbox (what a recorder
        still has to confirm stays there). Raises `BrokerError` on timeout or a refusal."""
        deadline = time.monotonic() + timeout_s
        while self.outbox.due(1) or self._out:
            if self.error is not None:
                raise self.error
            if time.monotonic() > deadline:
                raise BrokerError(f"the broker did not take the outbox within {timeout_s:g} s")
            time.sleep(0.02)

    def depth(self) -> Depth:
        return self.outbox.depth()

    @property
    def connected(self) -> bool:
        """Connected to the broker, as far as the publisher's thread knows."""
        return self._connected

    # -- the sink: encode and append (any thread) -------------------------------------------------

    def publish_output(self, wearer_id: str, output: Output) -> None:
        root, team, site, gw = self.settings.topic_root, self.team, self.site, self.gateway_id
        pending = []
        event_topic = wearer_topic(root, wearer_id, "event")
        for event in output.events:
            pending.append(
                Pending(event_topic, partial(_event, event, team, site, gw), confirm=True)
            )
            if event.kind is EventKind.NUDGE:  # the nudge channel: devices and desktops listen
                nudge_topic = wearer_topic(root, wearer_id, "nudge")
                offer = desk_offer(self._desks.get(wearer_id), event.values.get("reason"))
                payload = encode_nudge(event, desk=offer)
                pending.append(Pending(nudge_topic, _constant(payload)))
        metric_topic = wearer_topic(root, wearer_id, "metric")
        for minute in output.minutes:
            pending.append(
                Pending(metric_topic, partial(_minute, minute, team, site, gw), confirm=True)
            )
        self._append(pending)

    def publish_state(
        self, state: WearerState, *, sitting_today_s: float = 0.0, battery_pct: int | None = None
    ) -> None:
        payload = encode_state(
            state,
            team=self.team,
            site=self.site,
            sitting_today_s=sitting_today_s,
            battery_pct=battery_pct,
        )
        topic = wearer_topic(self.settings.topic_root, state.wearer_id, "state")
        self._append([Pending(topic, _constant(payload), retain=True)])

    def publish_device(self, health: DeviceHealth) -> None:
        """A device health report on `<root>/gateway/<id>/device` (recorded)."""
        topic = gateway_topic(self.settings.topic_root, self.gateway_id, "device")
        self._append([Pending(topic, partial(_device, health), confirm=True)])

    def publish_gateway_health(self, *, t_s: float, loop_lag_ms: float) -> None:
        """The gateway's own health report (its outbox, and the radio loop's longest lag) on
        `<root>/gateway/<id>/health` (recorded)."""
        depth = self.outbox.depth()
        health = GatewayHealth(
            gateway_id=self.gateway_id,
            t_s=t_s,
            loop_lag_ms=loop_lag_ms,
            outbox_depth=depth.messages,
            outbox_oldest_s=depth.oldest_s,
            outbox_bytes=depth.bytes,
            outbox_dropped=sum(self.outbox.dropped.values()),
            replayed=self.outbox.replayed,
        )
        topic = gateway_topic(self.settings.topic_root, self.gateway_id, "health")
        self._append([Pending(topic, partial(_gateway_health, health), confirm=True)])

    def publish_desk(self, wearer_id: str, position: str) -> None:
        """Send the wearer's desk to `position` ("stand" or "sit"), as the wearer confirmed: the
        configured payload to the desk's command topic, through the outbox, dropped if it
        cannot go out within the desk's `command_expiry_s`. Raises ValueError if the wearer's
        desk cannot be sent there."""
        desk = self._desks.get(wearer_id)
        payload = desk.payload(position) if desk is not None else ""
        if desk is None or not payload:
            raise ValueError(
                f"wearer {wearer_id!r} has no desk to send to {position!r} "
                f"([wearers.{wearer_id}.desk] command_topic and {position}_payload)"
            )
        expires = time.time() + desk.command_expiry_s
        self._append([Pending(desk.command_topic, _constant(payload.encode()), expires_s=expires)])

    def announce_home_assistant(self, *, prefix: str, prolonged_s: float = 30 * 60.0) -> None:
        """Retained Home Assistant discovery messages for every wearer's entities."""
        pending = []
        for wearer in self.wearers:
            for topic, payload in discovery_messages(
                prefix=prefix,
                root=self.settings.topic_root,
                gateway_id=self.gateway_id,
                wearer_id=wearer,
                prolonged_s=prolonged_s,
            ):
                pending.append(Pending(topic, _constant(payload), retain=True))
        self._append(pending)

    def _append(self, pending: list[Pending]) -> None:
        if pending:
            self.outbox.append(pending)
            self.sent.update(p.channel for p in pending)
            self._wake.set()

    @property
    def published(self) -> int:
        return sum(self.sent.values())

    # -- paho's network thread: only hand over ----------------------------------------------------

    def _on_connect(
        self, _c: paho.Client, _u: object, _f: object, reason: ReasonCode, _p: object
    ) -> None:
        if not reason.is_failure:
            self._put(True)

    def _on_disconnect(self, client: paho.Client, *_args: object) -> None:
        jitter_reconnects(client)
        self._put(False)

    def _on_publish(
        self, client: paho.Client, userdata: object, mid: int, reason: ReasonCode, props: object
    ) -> None:
        self._out.on_publish(client, userdata, mid, reason, props)
        self._wake.set()

    def _on_message(self, _c: paho.Client, _u: object, msg: paho.MQTTMessage) -> None:
        try:
            topic, payload = msg.topic, bytes(msg.payload)
            if topic == self._ack_topic:
                self._put(decode_ack(payload))
            elif topic in self._inputs:
                self._heard(topic, payload, retained=bool(msg.retain))
            elif payload:  # a recorder's health (empty: its retained report was cleared)
                self._put(decode_recorder_health(payload))
        except PayloadError as err:
            log.warning("dropped a message: %s", err)
        except Exception:  # paho's network thread must survive whatever a message holds
            log.exception("dropped a message that could not be handled")

    def _heard(self, topic: str, payload: bytes, *, retained: bool) -> None:
        for kind, decode in self._inputs[topic]:
            if kind == "cmd" and retained:  # a state, not a command: it would act on every start
                self.rejected[kind] += 1
                log.warning("ignored a retained command topic=%s (send commands unretained)", topic)
                continue
            try:
                said = decode(payload)
            except PayloadError as err:
                self.rejected[kind] += 1
                log.warning("dropped a %s message topic=%s: %s", kind, topic, err)
                continue
            if self._on_input is not None:
                self._on_input(said)

    def _on_subscribe(
        self, _c: paho.Client, _u: object, _mid: int, reasons: list[ReasonCode], _p: object
    ) -> None:
        for topic, reason in zip(self._subscriptions, reasons, strict=False):
            if reason.is_failure:  # e.g. the broker's ACL: the gateway will not hear it
                log.error("the MQTT broker refused the subscription to %s: %s", topic, reason)

    def _put(self, handed: _Handed) -> None:
        self._events.put(handed)
        self._wake.set()

    # -- the publisher's thread -------------------------------------------------------------------

    def _run(self) -> None:
        next_replay = time.monotonic() + 1.0
        while not self._stop.is_set():
            self._wake.wait(0.5)
            self._wake.clear()
            try:
                self._handle_events()
                if self._connected and self.error is None:
                    self._drain()
                if time.monotonic() >= next_replay:
                    next_replay = time.monotonic() + 1.0
                    if self.outbox.replay_stale():
                        self._wake.set()
            except Exception:  # a bug must not end the gateway's MQTT side silently
                log.exception("mqtt publisher")
                time.sleep(0.5)
        self._handle_events()

    def _handle_events(self) -> None:
        while True:
            try:
                handed = self._events.get_nowait()
            except queue.Empty:
                break
            if isinstance(handed, bool):  # paho sends what was in flight again on reconnect
                self._connected = handed
                if handed:
                    self._announce()
            elif isinstance(handed, Ack):
                self.confirmed += self.outbox.confirm(handed.ranges)
            else:
                self._recorder(handed)
        self._settle()

    def _announce(self) -> None:
        client = self._client
        info = client.publish(
            self._status_topic, encode_status("online", self.wearers), qos=1, retain=True
        )
        self._out.add(info.mid, _Sent(None, False, self._status_topic))
        client.subscribe([(topic, 1) for topic in self._subscriptions])
        log.info("connected gateway=%s wearers=%d", self.gateway_id, len(self.wearers))

    def _settle(self) -> None:
        """What the broker acknowledged: forget what nobody confirms; stop at a refusal."""
        published = []
        for sent, reason in self._out.settled():
            if reason.is_failure:
                if sent.seq is not None:
                    self.outbox.unsend([sent.seq])
                self._fail(
                    BrokerError(
                        f"the MQTT broker refused the message to {sent.topic}: {reason} (is the "
                        "topic in the broker's ACL for this gateway? It stays in the outbox)"
                    )
                )
            elif sent.seq is not None and not sent.confirm:
                published.append(sent.seq)
        self.outbox.published(published)

    def _recorder(self, session: RecorderHealth) -> None:
        if session.status != "online":
            return
        seen = self._sessions.get(session.recorder)
        self._sessions[session.recorder] = session.connected_at_s
        if session.session == "new" and seen != session.connected_at_s:
            replayed = self.outbox.replay_all()
            if replayed:
                log.warning(
                    "recorder %s started without its broker session: sending %d unconfirmed "
                    "message(s) again",
                    session.recorder,
                    replayed,
                )
                self._wake.set()

    def _drain(self) -> None:
        free = self.window - len(self._out)
        if free <= 0:
            return
        out = {sent.seq for sent in self._out.pending()}
        sent = []
        for entry in self.outbox.due(free + len(out)):
            if entry.seq in out:
                continue  # in flight: its sent mark did not reach the disk
            info = self._client.publish(
                entry.topic,
                entry.payload,
                qos=1,
                retain=entry.retain,
                properties=_expiry(entry.expires_s),
            )
            if info.rc not in (paho.MQTT_ERR_SUCCESS, paho.MQTT_ERR_NO_CONN):
                log.warning("publish to %s: %s", entry.topic, paho.error_string(info.rc))
                break
            self._out.add(info.mid, _Sent(entry.seq, entry.confirm, entry.topic))
            sent.append(entry.seq)
            if len(sent) >= free:
                break
        self.outbox.mark_sent(sent)

    def _fail(self, error: BrokerError) -> None:
        if self.error is None:
            self.error = error
            log.error("%s", error)
            if self.on_error is not None:
                self.on_error(error)


def _expiry(expires_s: float | None) -> Properties | None:
    """MQTT v5 message expiry for a message that must not arrive late (the broker drops it
    when it could not deliver it in time)."""
    if expires_s is None:
        return None
    properties = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
    properties.MessageExpiryInterval = max(1, math.ceil(expires_s - time.time()))
    return properties
