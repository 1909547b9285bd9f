"""Contract-shaped MQTT traffic for benchmarks and fault tests.

`contract_messages` turns one simulated office day, analysed by the real engine, into the
messages a fleet of gateways would publish (events, minutes and device reports, exactly as
encoded by `analytics.contract`), one copy per wearer. `TrafficPublisher` publishes them at
QoS 1, checks every return code and every PUBACK reason code, and bounds the messages in flight.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import paho.mqtt.client as paho

from analytics.contract import (
    encode_device,
    encode_event,
    encode_minute,
    gateway_topic,
    wearer_topic,
)
from analytics.delivery import encode_status
from analytics.offline import analyze
from analytics.records import DeviceHealth, Event, MinuteMetrics, Placement
from sensor_gateway.simulator import simulate_day
from transport.acks import Acks
from transport.mqtt import BrokerError, connect, make_client
from transport.settings import MqttSettings

DAY_START_S = 1_790_000_000.0


@dataclass(frozen=True, slots=True)
class Traffic:
    """Messages to publish, and the records they carry (to check what arrived)."""

    messages: tuple[tuple[str, bytes], ...]  # (topic, payload): the statuses first
    events: tuple[Event, ...]
    minutes: tuple[MinuteMetrics, ...]
    devices: tuple[DeviceHealth, ...]
    statuses: int = 0  # the first messages: each gateway's status, naming its wearers

    @property
    def recordable(self) -> tuple[tuple[str, bytes], ...]:
        """The messages a recorder writes (all but the statuses)."""
        return self.messages[self.statuses :]


def contract_messages(
    root: str,
    *,
    wearers: int = 1,
    fleet: Sequence[tuple[str, str]] = (),
    days: int = 1,
    hours: float = 8.5,
    seed: int = 7,
    device_every_s: float = 600.0,
    team: str = "t1",
    site: str = "s1",
) -> Traffic:
    """One simulated day per wearer (the same day, relabelled), as published by the gateways.

    `fleet` names (wearer, gateway) pairs; otherwise there are `wearers` wearers `w<n>`, each
    with a gateway `g<n>`. Each gateway reports its wearer's trunk sensor every
    `device_every_s`. `days` repeats the day on the following days. Messages are interleaved in
    time order, as a live fleet would send them, after each gateway's status (its wearers).
    """
    fleet = fleet or [(f"w{n:04d}", f"g{n:04d}") for n in range(wearers)]
    day = simulate_day(seed=seed, hours=hours, rate_hz=25.0, start_s=DAY_START_S)
    output = analyze(day.traces, wearer_id="w0").output
    timed: list[tuple[float, str, bytes]] = []
    events: list[Event] = []
    minutes: list[MinuteMetrics] = []
    devices: list[DeviceHealth] = []
    for d in range(days):
        shift = d * 86400.0
        for n, (wearer, gateway) in enumerate(fleet):
            for event in output.events:
                e = dataclasses.replace(
                    event,
                    wearer_id=wearer,
                    start_s=event.start_s + shift,
                    end_s=event.end_s + shift,
                )
                events.append(e)
                payload = encode_event(e, team=team, site=site)
                timed.append((e.end_s, wearer_topic(root, wearer, "event"), payload))
            for minute in output.minutes:
                m = dataclasses.replace(minute, wearer_id=wearer, start_s=minute.start_s + shift)
                minutes.append(m)
                payload = encode_minute(m, team=team, site=site)
                timed.append((m.start_s + 60.0, wearer_topic(root, wearer, "metric"), payload))
            start = DAY_START_S + shift
            reports = _device_reports(
                n, wearer, gateway, start=start, hours=hours, every_s=device_every_s
            )
            for h in reports:
                devices.append(h)
                timed.append((h.t_s, gateway_topic(root, gateway, "device"), encode_device(h)))
    timed.sort(key=lambda x: x[0])
    served: dict[str, list[str]] = {}
    for wearer, gateway in fleet:
        served.setdefault(gateway, []).append(wearer)
    statuses = [  # first, as a gateway announces itself (and its wearers) when it starts
        (0.0, gateway_topic(root, gateway), encode_status("online", wearers))
        for gateway, wearers in served.items()
    ]
    timed = statuses + timed
    return Traffic(
        messages=tuple((topic, payload) for _, topic, payload in timed),
        events=tuple(events),
        minutes=tuple(minutes),
        devices=tuple(devices),
        statuses=len(statuses),
    )


def _device_reports(
    n: int, wearer: str, gateway: str, *, start: float, hours: float, every_s: float
) -> list[DeviceHealth]:
    reports = []
    t = start
    while t < start + hours * 3600.0:
        reports.append(
            DeviceHealth(
                gateway_id=gateway,
                sensor_id=f"s{n:04d}",
                wearer_id=wearer,
                placement=Placement.TRUNK,
                profile="thingy52",
                t_s=t,
                connected=True,
                battery_pct=max(0, 100 - int((t - start) / 600)),
                rssi_dbm=-60 - n % 20,
                samples=int((t - start) * 50),
                lost=n % 7,
                reconnects=0,
            )
        )
        t += every_s
    return reports


class TrafficPublisher:
    """A QoS 1 publisher that loses nothing silently: every return and reason code is checked
    (`transport.acks`), the messages in flight are bounded, refusals are collected in
    `refused`, in order."""

    def __init__(self, settings: MqttSettings, client_id: str, *, max_inflight: int = 1000) -> None:
        self.settings = settings
        self.max_inflight = max_inflight
        self.refused: list[tuple[int, str]] = []  # (mid, reason) of PUBACKs that refused
        self._acks: Acks[int] = Acks()
        self._client = make_client(settings, client_id)
        self._client.on_publish = self._acks.on_publish

    def __enter__(self) -> TrafficPublisher:
        self._client.max_queued_messages_set(0)
        connect(self._client, self.settings)
        return self

    def __exit__(self, *_exc: object) -> None:
        self._client.disconnect()
        self._client.loop_stop()

    def publish(self, messages: Iterable[tuple[str, bytes]], *, pause: float = 0.0) -> int:
        """Publish every message at QoS 1; returns how many. `pause` seconds between messages."""
        count = 0
        for topic, payload in messages:
            self._settle(at_most=self.max_inflight - 1, timeout_s=600.0)
            retain = topic.endswith("/status")  # a gateway's status is retained
            info = self._client.publish(topic, payload, qos=1, retain=retain)
            # NO_CONN: paho keeps QoS 1 messages and sends them after it reconnects
            if info.rc not in (paho.MQTT_ERR_SUCCESS, paho.MQTT_ERR_NO_CONN):
                raise BrokerError(f"publish to {topic} failed: {paho.error_string(info.rc)}")
            self._acks.add(info.mid, info.mid)
            count += 1
            if pause:
                time.sleep(pause)
        return count

    def flush(self, *, timeout_s: float = 600.0) -> None:
        """Wait until the broker acknowledged (or refused) everything published."""
        self._settle(at_most=0, timeout_s=timeout_s)

    def _settle(self, *, at_most: int, timeout_s: float) -> None:
        try:
            settled = self._acks.wait(at_most=at_most, timeout_s=timeout_s)
        except TimeoutError as err:
            raise BrokerError(str(err)) from None
        self.refused += [(mid, str(reason)) for mid, reason in settled if reason.is_failure]


def topics(messages: Sequence[tuple[str, bytes]]) -> set[str]:
    """The distinct topics of `messages`."""
    return {topic for topic, _ in messages}
