"""The recorder: MQTT events, metrics and device reports into InfluxDB, losing nothing and
doubling nothing.

Three threads, each the only user of what it owns:

- paho's network thread only turns each message into a `Received` record on a queue;
- the recorder's loop (the caller of `run`) owns the MQTT client: it decodes messages into line
  protocol, batches them by size and time, acknowledges them once their batch is written,
  publishes dead letters and health reports;
- one writer thread owns the InfluxDB client: it writes a batch while the loop builds the next,
  retrying with capped, jittered backoff while InfluxDB is unavailable.

Messages are acknowledged only after their points are written (QoS 1, manual acknowledgement,
a persistent session with a fixed client id and a session expiry), so a message that is never
acknowledged is delivered again; point times come from the records, so writing it again
overwrites the same point.

- Bounded memory: the broker sends at most `receive_maximum` unacknowledged messages (MQTT v5
  Receive Maximum: three batches, the one being written, the one being built and room for paho
  to read ahead), payloads over the contract's limit are cut to an excerpt on arrival, and QoS 0
  messages (outside the contract) are dropped and counted while the recorder is full.
- Points InfluxDB refuses on their own (bisected out of the batch) and payloads that break the
  contract go to the dead-letter topic with the reason; the original is acknowledged only once
  the broker has accepted the dead letter.
- Acknowledgements go only to the connection a message arrived on: after a reconnect the broker
  delivers unacknowledged messages again, under message ids of the new connection.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

import paho.mqtt.client as paho
from paho.mqtt.reasoncodes import ReasonCode
from paho.mqtt.subscribeoptions import SubscribeOptions

from analytics.contract import (
    Source,
    deadletter_topic,
    gateway_topic,
    parse_gateway_topic,
    recorder_topic,
)
from analytics.delivery import (
    EXCERPT_BYTES,
    dead_letter,
    decode_status,
    encode_acks,
    encode_deadletter,
)
from analytics.records import DeviceHealth
from analytics.wire import MAX_PAYLOAD_BYTES, PayloadError
from dashboards.influx import InfluxClient, InfluxRejected, InfluxUnavailable, write_isolating
from dashboards.settings import RecorderSettings
from transport.acks import Acks
from transport.backoff import backoff_s
from transport.mqtt import BrokerError, connect, jitter_reconnects, make_client
from transport.settings import MqttSettings

from .admission import DAY_S, Gateways, TimeWindow, Unannounced
from .health import Health, RecorderStats, encode_health, encode_offline
from .mqttclient import LeanClient, ack_many, paho_problems
from .translate import Record, to_line, translate

log = logging.getLogger(__name__)

__all__ = ["Received", "Recorder", "RecorderStats"]

POLL_S = 0.002  # while messages flow, how long to let them gather before taking them


@dataclass(frozen=True, slots=True)
class Received:
    """One message as paho's network thread hands it over."""

    topic: str
    payload: bytes  # cut to EXCERPT_BYTES if `size` is over the contract's limit
    size: int  # bytes on the wire
    mid: int
    qos: int
    connection: int  # which connection it arrived on: acknowledgements go only there
    at: float  # monotonic seconds of arrival


@dataclass
class _Batch:
    items: list[Received] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    sources: list[Source | None] = field(default_factory=list)
    due: float = float("inf")  # monotonic time to write it, whatever its size


Refused = dict[int, str]  # line index -> InfluxDB's reason


class Recorder:
    """Subscribes to every wearer's events and metrics and every gateway's device reports."""

    def __init__(
        self,
        mqtt_settings: MqttSettings,
        influx: InfluxClient,
        settings: RecorderSettings,
        *,
        share_group: str | None = None,
        sleep: Callable[[float], object] | None = None,
        wall_clock: Callable[[], float] = time.time,
        client_class: type[paho.Client] | None = None,
    ) -> None:
        """Raises ValueError if `[recorder] lean_client` is asked for and the installed paho no
        longer has what the lean client relies on."""
        self.mqtt_settings = mqtt_settings
        self.influx = influx
        self.settings = settings
        self.share_group = share_group or settings.share_group or None
        self.stats = RecorderStats()
        self.receive_maximum = min(65535, 3 * settings.batch_size)
        self._queue: queue.SimpleQueue[Received] = queue.SimpleQueue()
        self._stop = threading.Event()
        self._sleep = sleep or self._stop.wait
        self._wall_clock = wall_clock
        if client_class is None:  # stock paho unless the lean client is asked for
            problems = paho_problems() if settings.lean_client else []
            if problems:
                raise ValueError(f"recorder.lean_client: {'; '.join(problems)}")
            client_class = LeanClient if settings.lean_client else paho.Client
        self._client_class = client_class
        self.last_health: Health | None = None  # the latest report, for the HTTP port
        self._client: paho.Client | None = None
        self._connection = 0
        self._subscribed = threading.Event()
        self._refused_subscriptions: list[str] = []
        # dead letters the broker has not yet accepted: (original, its source); a QoS 0
        # original (no acknowledgement to give) as None
        self._letters: Acks[tuple[Received | None, Source | None]] = Acks()
        self._confirm: dict[str, list[int]] = {}  # gateway -> seqs settled, to confirm to it
        self.session = "new"  # "resumed" when the broker had our session at the last connect
        self.connected_at = 0.0  # wall-clock time of that connection
        self._announce = threading.Event()  # subscribed again: say so in a health report
        self._batch = _Batch()
        self._writing: tuple[_Batch, Future[Refused | None]] | None = None
        self._database_ready = False  # the writer creates it (v1) before its first write
        self._next_health = 0.0
        root = mqtt_settings.topic_root
        self.root = root
        self.deadletter_topic = deadletter_topic(root)
        self.health_topic = recorder_topic(root, settings.client_id)
        self.window = TimeWindow(
            max_age_s=settings.max_age_days * DAY_S, max_ahead_s=settings.max_ahead_days * DAY_S
        )
        self.gateways = Gateways()
        # device reports waiting for their gateway's status: gateway -> (deadline, message)s
        self._unannounced: dict[str, list[tuple[float, Received]]] = {}
        prefix = f"$share/{self.share_group}/" if self.share_group else ""
        self.subscriptions = [
            f"{prefix}{root}/+/event",
            f"{prefix}{root}/+/metric",
            f"{prefix}{root}/gateway/+/device",
            f"{prefix}{root}/gateway/+/health",
            f"{root}/gateway/+/status",  # every recorder needs every gateway's wearers
        ]

    def stop(self) -> None:
        """Ask `run` to write its current batch and return (safe from any thread and signal)."""
        self._stop.set()

    @property
    def connected(self) -> bool:
        """Connected to the broker, as paho last knew (any thread may ask)."""
        client = self._client
        return client is not None and client.is_connected()

    def line(self, topic: str, payload: bytes) -> str:
        """The line protocol this recorder writes for one admitted message; raises
        `PayloadError`."""
        return to_line(self.root, topic, payload)

    def _admit(self, record: Record) -> None:
        self.window.check(record, self._wall_clock())
        if isinstance(record, DeviceHealth):
            self.gateways.check(record)

    # -- lifecycle ----------------------------------------------------------------------------

    def run(self, *, ready: threading.Event | None = None) -> RecorderStats:
        """Record until `stop` is called.

        Raises `BrokerError` if the broker cannot be reached or refuses the subscriptions.
        """
        will = (self.health_topic, encode_offline(self.settings.client_id, self._wall_clock()))
        client = make_client(
            self.mqtt_settings,
            self.settings.client_id,
            manual_ack=True,
            will=will,
            client_class=self._client_class,
        )
        client.max_queued_messages_set(0)  # dead letters wait in paho while disconnected
        client.on_connect = self._on_connect
        client.on_subscribe = self._on_subscribe
        client.on_message = self._on_message
        client.on_publish = self._letters.on_publish
        client.on_disconnect = lambda c, *_args: jitter_reconnects(c)
        connect(
            client,
            self.mqtt_settings,
            session_expiry_s=self.settings.session_expiry_s,
            receive_maximum=self.receive_maximum,
        )
        self._client = client
        writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="influx-writer")
        try:
            self._await_subscriptions()
            log.info(
                "recording client_id=%s subscriptions=%s batch=%d receive_maximum=%d",
                self.settings.client_id,
                ",".join(self.subscriptions),
                self.settings.batch_size,
                self.receive_maximum,
            )
            self._publish_health()  # "online": subscribed, messages will be kept for us
            if ready is not None:
                ready.set()
            self._loop(writer)
            self._publish_health(status="offline")
        finally:
            self._stop.set()
            writer.shutdown(wait=True)
            client.disconnect()
            client.loop_stop()
        log.info("stopped %s", self._health("offline").to_log())
        return self.stats

    def _await_subscriptions(self) -> None:
        timeout_s = self.mqtt_settings.connect_timeout_s
        if not self._subscribed.wait(timeout_s):
            raise BrokerError(f"the broker did not confirm the subscriptions within {timeout_s} s")
        if self._refused_subscriptions:
            raise BrokerError(
                "the broker refused the subscriptions: " + "; ".join(self._refused_subscriptions)
            )

    # -- paho's network thread: only hand over ------------------------------------------------

    def _on_connect(
        self,
        client: paho.Client,
        _u: object,
        flags: paho.ConnectFlags,
        reason: ReasonCode,
        _p: object,
    ) -> None:
        if reason.is_failure:
            return
        self._connection += 1
        self.session = "resumed" if flags.session_present else "new"
        self.connected_at = self._wall_clock()
        if self._connection > 1:
            self.stats.reconnects += 1
            if flags.session_present:
                log.warning("reconnected to the broker with its session")
            else:
                self.stats.sessions_lost += 1
                log.warning(
                    "reconnected to the broker WITHOUT its session: what the broker held for "
                    "this recorder is gone; gateways will replay what no recorder confirmed"
                )
        options = SubscribeOptions(qos=1)
        client.subscribe([(topic, options) for topic in self.subscriptions])

    def _on_subscribe(
        self, _c: paho.Client, _u: object, _mid: int, reasons: list[ReasonCode], _p: object
    ) -> None:
        for topic, reason in zip(self.subscriptions, reasons, strict=False):
            if reason.is_failure:
                self._refused_subscriptions.append(f"{topic}: {reason}")
                log.error("subscription refused topic=%s reason=%s", topic, reason)
        self._subscribed.set()
        self._announce.set()

    def _on_message(self, _c: paho.Client, _u: object, msg: paho.MQTTMessage) -> None:
        if msg.qos == 0 and self._queue.qsize() >= self.receive_maximum:
            self.stats.dropped += 1  # QoS 0 is outside the contract and outside the bound
            return
        payload = bytes(msg.payload)
        size = len(payload)
        if size > MAX_PAYLOAD_BYTES:
            payload = payload[:EXCERPT_BYTES]
        try:
            topic = msg.topic
        except UnicodeDecodeError:  # brokers refuse such topics; never trust that
            topic = repr(msg._topic)[:200]
        connection = self._connection
        self._queue.put(
            Received(topic, payload, size, msg.mid, msg.qos, connection, time.monotonic())
        )

    # -- the recorder's loop ------------------------------------------------------------------

    def _loop(self, writer: ThreadPoolExecutor) -> None:
        self._next_health = time.monotonic() + self.settings.health_interval_s
        busy = False
        while not self._stop.is_set():
            busy = self._gather(self._batch, busy=busy)
            if self._unannounced:
                self._expire_unannounced()
            self._settle_deadletters()
            self._settle(block=False)
            batch = self._batch
            full = len(batch.lines) >= self.settings.batch_size
            if batch.items and (full or time.monotonic() >= batch.due):
                self._settle(block=True)  # one batch in the writer at a time
                self._writing = (batch, writer.submit(self._write, batch.lines))
                self._batch = _Batch()
            if time.monotonic() >= self._next_health or self._announce.is_set():
                self._announce.clear()
                self._publish_health()  # also at once after subscribing: gateways may replay
            self._send_confirmations()
        # stopping: write what was taken (unless InfluxDB is down: then it stays unacknowledged)
        self._settle(block=True)
        if self._batch.items:
            self._writing = (self._batch, writer.submit(self._write, self._batch.lines))
            self._batch = _Batch()
            self._settle(block=True)
        deadline = time.monotonic() + 2.0  # let the broker confirm the last dead letters
        self._settle_deadletters()
        while self._letters and time.monotonic() < deadline:
            time.sleep(0.01)
            self._settle_deadletters()
        self._send_confirmations()

    def _gather(self, batch: _Batch, *, busy: bool) -> bool:
        """Take messages into `batch` until it is full or none is waiting; True if any came."""
        now = time.monotonic()
        wake = min(batch.due, now + self.settings.flush_interval_s, self._next_health)
        if self._writing is not None:
            wake = min(wake, now + 10 * POLL_S)  # look at the write's outcome soon
        get = self._queue.get
        try:
            if busy:  # let messages gather, then take them all: one thread switch, not one each
                time.sleep(min(POLL_S, max(0.0, wake - now)))
                item = get(block=False)
            else:
                item = get(timeout=max(0.0, wake - now))
        except queue.Empty:
            return False
        batch_size = self.settings.batch_size
        while True:
            if not batch.items:
                batch.due = time.monotonic() + self.settings.flush_interval_s
            self._take(item, batch)
            if len(batch.lines) >= batch_size:
                return True
            try:
                item = get(block=False)
            except queue.Empty:
                return True

    def _take(self, item: Received, batch: _Batch) -> None:
        if item.topic.endswith("/status") and item.topic.startswith(self.root + "/gateway/"):
            self.stats.statuses += 1
            self._take_status(item, batch)
            return
        self.stats.received += 1
        try:
            translated = translate(self.root, item.topic, item.payload, size=item.size)
        except PayloadError as err:
            self._reject(item, str(err))
            return
        except Exception as err:  # a bug must cost one message, never the recorder
            log.exception("could not translate topic=%.120s", item.topic)
            self._reject(item, f"internal error: {type(err).__name__}: {str(err)[:200]}")
            return
        try:
            self._admit(translated.record)
        except Unannounced as err:  # its gateway's status may still be on its way
            waiting = self._unannounced.setdefault(err.gateway_id, [])
            waiting.append((item.at + self.settings.announce_wait_s, item))
            return
        except PayloadError as err:
            self._reject(item, str(err), translated.source)
            return
        batch.items.append(item)
        batch.lines.append(translated.line)
        batch.sources.append(translated.source)

    def _take_status(self, item: Received, batch: _Batch) -> None:
        """A gateway's retained status: its wearers; device reports waiting for it go on."""
        try:
            gateway, _channel = parse_gateway_topic(self.root, item.topic)
            if not item.payload:  # the retained status was cleared: the gateway is gone
                self.gateways.forget(gateway)
                self._ack(item)
                return
            status = decode_status(item.payload)
        except PayloadError as err:
            self._reject(item, str(err))
            return
        self.gateways.announce(gateway, status)
        self._ack(item)
        for _deadline, waiting in self._unannounced.pop(gateway, []):
            self.stats.received -= 1  # counted when it first arrived
            self._take(waiting, batch)

    def _expire_unannounced(self) -> None:
        """Dead-letter device reports whose gateway did not announce itself in time."""
        now = time.monotonic()
        for gateway in list(self._unannounced):
            waiting = self._unannounced[gateway]
            while waiting and waiting[0][0] <= now:
                _deadline, item = waiting.pop(0)
                self._reject(item, str(Unannounced(gateway)))
            if not waiting:
                del self._unannounced[gateway]

    # -- writing (the writer thread) and settling (the loop) ----------------------------------

    def _write(self, lines: list[str]) -> Refused | None:
        """Write `lines` (in the writer thread), retrying while InfluxDB is unavailable.

        Returns the lines InfluxDB refused on their own, or None if asked to stop first.
        """
        attempt = 0
        while True:
            try:
                if not self._database_ready:
                    self.influx.ensure_database()
                    self._database_ready = True
                return write_isolating(self.influx, lines)
            except (InfluxUnavailable, InfluxRejected) as err:
                if self._stop.is_set():
                    return None
                wait = backoff_s(attempt, cap_s=self.settings.retry_max_s)
                attempt += 1
                self.stats.write_retries += 1
                if isinstance(err, InfluxRejected):  # credentials, permissions, no database
                    log.error("influx refused the write, retrying in %.1f s: %s", wait, err)
                    self._database_ready = err.status != 404  # v1: the database was dropped
                else:
                    log.warning("influx unavailable, retrying in %.1f s: %s", wait, err)
                self._sleep(wait)

    def _settle(self, *, block: bool) -> None:
        """Acknowledge (or dead-letter) the batch in the writer once its write is done."""
        if self._writing is None:
            return
        batch, future = self._writing
        while block and not future.done():
            try:
                future.result(timeout=max(0.01, self._next_health - time.monotonic()))
            except TimeoutError:
                self._publish_health()  # InfluxDB is down: keep reporting
        if not future.done():
            return
        self._writing = None
        refused = future.result()  # an unexpected error in the writer is raised here
        if refused is None:
            log.warning("stopping with unwritten batch=%d (left unacknowledged)", len(batch.lines))
            return
        connection = self._connection  # acknowledgements go only where the message came from
        mids = []
        for i, (item, source) in enumerate(zip(batch.items, batch.sources, strict=True)):
            if i in refused:
                self._reject(item, f"InfluxDB refused the point: {refused[i]}", source)
                continue
            if source is not None:  # in InfluxDB: its gateway may forget it
                self._confirm.setdefault(source.gateway_id, []).append(source.seq)
            if item.qos and item.connection == connection:
                mids.append(item.mid)
        assert self._client is not None
        ack_many(self._client, mids)
        written = len(batch.items) - len(refused)
        self.stats.written_messages += written
        self.stats.written_points += written
        log.debug("wrote points=%d", written)

    def _ack(self, item: Received) -> None:
        if item.qos and item.connection == self._connection:
            assert self._client is not None
            self._client.ack(item.mid, item.qos)

    def _send_confirmations(self) -> None:
        """Tell each gateway which of its messages are settled (written or dead-lettered).

        QoS 1, not waited for: a confirmation that gets lost costs a replay, and the replayed
        messages overwrite their own points.
        """
        if not self._confirm:
            return
        assert self._client is not None
        confirm, self._confirm = self._confirm, {}
        for gateway, seqs in confirm.items():
            topic = gateway_topic(self.root, gateway, "ack")
            for payload in encode_acks(self.settings.client_id, seqs):
                self._client.publish(topic, payload, qos=1)
            self.stats.confirmed += len(seqs)

    def _reject(self, item: Received, reason: str, source: Source | None = None) -> None:
        """Publish a dead letter; the original is acknowledged once the broker has it.

        QoS 0 messages (outside the contract) are dropped and counted instead while as many dead
        letters as the receive maximum wait for the broker: a flood of them must not grow
        without bound.
        """
        assert self._client is not None
        if not item.qos and len(self._letters) >= self.receive_maximum:
            self.stats.dropped += 1
            return
        self.stats.rejected += 1
        log.debug("dead-letter topic=%.120s reason=%s", item.topic, reason)
        letter = dead_letter(
            item.topic, reason, item.payload, size=item.size, at_s=self._wall_clock()
        )
        info = self._client.publish(self.deadletter_topic, encode_deadletter(letter), qos=1)
        if info.rc not in (paho.MQTT_ERR_SUCCESS, paho.MQTT_ERR_NO_CONN):
            log.error("dead letter not published (%s): left unacknowledged", info.rc)
            return
        self._letters.add(info.mid, (item if item.qos else None, source))

    def _settle_deadletters(self) -> None:
        """Acknowledge the originals of dead letters the broker has accepted."""
        for (item, source), reason in self._letters.settled():
            if reason.is_failure:
                self.stats.deadletter_refused += 1
                log.error(
                    "broker refused the dead letter topic=%s: original left unacknowledged",
                    self.deadletter_topic,
                )
                continue
            if item is not None:
                self._ack(item)
            if source is not None:  # settled: replaying it would only dead-letter it again
                self._confirm.setdefault(source.gateway_id, []).append(source.seq)

    # -- health -------------------------------------------------------------------------------

    def _health(self, status: str = "online") -> Health:
        batches = [self._batch] if self._writing is None else [self._writing[0], self._batch]
        letters = [item for item, _source in self._letters.pending() if item is not None]
        waiting = [item for pairs in self._unannounced.values() for _deadline, item in pairs]
        held = (
            self._queue.qsize() + len(letters) + len(waiting) + sum(len(b.items) for b in batches)
        )
        arrivals = [b.items[0].at for b in batches if b.items]
        arrivals += [item.at for item in letters[:1] + waiting]
        lag = time.monotonic() - min(arrivals) if arrivals else 0.0
        return Health(
            recorder=self.settings.client_id,
            status=status,
            t_s=self._wall_clock(),
            stats=self.stats,
            held=held,
            lag_s=lag,
            session=self.session,
            connected_at_s=self.connected_at,
        )

    def _publish_health(self, *, status: str = "online") -> None:
        self._next_health = time.monotonic() + self.settings.health_interval_s
        health = self._health(status)
        self.last_health = health
        log.info("health %s", health.to_log())
        assert self._client is not None
        info = self._client.publish(self.health_topic, encode_health(health), qos=0, retain=True)
        if status == "offline" and info.rc == paho.MQTT_ERR_SUCCESS:
            info.wait_for_publish(timeout=2.0)
