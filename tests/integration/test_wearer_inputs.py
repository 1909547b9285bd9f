"""What is said about a wearer reaches the engine over a real broker, and the desk moves only
when the wearer confirms.

A virtual micro:bit streams ten minutes of sitting through the real gateway into a real
mosquitto. The wearer's calendar (a retained Home Assistant statestream `on`, there before the
gateway starts) holds the nudges until it says `off`; a `context` message holds them until its
`until`; a snooze until a time holds them until then. Each held nudge goes out as soon as the
pause ends. The wearer's desk height (retained, in mm inside JSON) becomes `desk` events; a
`desk stand` command sends the desk its stand payload, with an MQTT expiry, while a retained
`desk sit` (a stale state, not a command) is ignored; the nudges offer the desk and speak the
wearer's language (German). A one-interval adaptive timing learns from
the first nudge and is kept in `state_dir` for the next start.
"""

from __future__ import annotations

import asyncio
import json
import threading
from dataclasses import dataclass, field
from pathlib import Path

import paho.mqtt.client as paho
import pytest

from analytics.contract import decode, wearer_topic
from analytics.messages import Command, decode_nudge, encode_command
from analytics.params import AnalyticsParams, NudgePolicy
from analytics.phrases import render
from analytics.records import Event, EventKind, Placement
from posture.settings import Settings
from sensor_gateway import nudge_timing
from sensor_gateway.gateway import Gateway, SensorAssignment
from sensor_gateway.outbox import Outbox
from sensor_gateway.profiles import get_profile
from sensor_gateway.publisher import MqttPublisher
from sensor_gateway.radio import Radio
from sensor_gateway.runner import build_gateway, serve
from sensor_gateway.service import SensorKey
from sensor_gateway.settings import BusyTopicSettings, DeskSettings, GatewaySettings, WearerSettings
from sensor_gateway.timebase import TimeBase
from sensor_gateway.virtual import VirtualRadio, VirtualSensor
from tests.integration.recording import wait_until
from tests.synthetic import Part, trace
from transport.mqtt import connect, make_client, publish_once
from transport.settings import MqttSettings

pytestmark = pytest.mark.integration

WEARER = "w8"
SPEED = 30.0
# a nudge after 2 min of sitting, then every minute; a held nudge may wait 2 min after a pause;
# adaptive timing with one interval to choose from learns without changing when nudges come
POLICY = NudgePolicy(
    sitting_s=120.0,
    repeat_s=60.0,
    response_s=60.0,
    defer_max_s=120.0,
    slouch=False,
    adaptive=True,
    intervals_s=(120.0,),
    adaptive_min_s=120.0,
    adaptive_max_s=120.0,
)
SPELL = [Part("walk", 40), Part("stand", 10), Part("down"), Part("sit", 600), Part("up")]
SPELL += [Part("walk", 60)]
SITTING_AFTER_S = 40 + 10 + 2  # walk, stand, stand-to-sit
# (seconds into the sitting, what): the pauses end at 200 (calendar), 420 (context), 540 (snooze)
CALENDAR_OFF, CONTEXT_ON, CONTEXT_UNTIL, SNOOZE_ON, SNOOZE_UNTIL, DESK_UP = (
    200.0,
    300.0,
    420.0,
    430.0,
    540.0,
    560.0,
)


@dataclass
class Heard:
    """Every message on some topics, with its MQTT v5 properties (a real subscriber)."""

    messages: list[paho.MQTTMessage] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def on(self, topic: str) -> list[paho.MQTTMessage]:
        with self.lock:
            return [m for m in self.messages if m.topic == topic]


def subscriber(settings: MqttSettings, topics: list[str], heard: Heard) -> paho.Client:
    client = make_client(settings, "")

    def on_message(_c: object, _u: object, msg: paho.MQTTMessage) -> None:
        with heard.lock:
            heard.messages.append(msg)

    client.on_message = on_message
    connect(client, settings)
    client.subscribe([(t, 1) for t in topics])
    return client


@dataclass
class Topics:
    calendar: str
    desk_height: str
    desk_set: str


def settings_for(mqtt: MqttSettings, state_dir: Path) -> tuple[Settings, Topics]:
    tag = mqtt.topic_root.split("/")[1]  # topics of this test's own
    topics = Topics(
        calendar=f"ss_{tag}/calendar/{WEARER}_work/state",
        desk_height=f"desk_{tag}/{WEARER}/height",
        desk_set=f"desk_{tag}/{WEARER}/set",
    )
    wearer = WearerSettings(
        language="de",
        busy=[BusyTopicSettings(topic=topics.calendar)],
        desk=DeskSettings(
            height_topic=topics.desk_height,
            height_key="desk.height_mm",
            height_scale=0.1,
            command_topic=topics.desk_set,
            stand_payload="OPEN",
            sit_payload="CLOSE",
        ),
    )
    settings = Settings(
        mqtt=mqtt,
        gateway=GatewaySettings(id="gw-inputs", state_dir=state_dir),
        analytics=AnalyticsParams(nudges=POLICY),
        wearers={WEARER: wearer},
    )
    return settings, topics


@dataclass
class Day:
    sitting_s: float  # data time the sitting starts
    heard: Heard
    publisher: MqttPublisher
    gateway: Gateway


async def office(mqtt: MqttSettings, settings: Settings, topics: Topics) -> Day:
    """The spell through the gateway, with the calendar, context, snooze and desk as above."""
    root = mqtt.topic_root
    heard = Heard()
    watched = [wearer_topic(root, WEARER, c) for c in ("nudge", "event")] + [topics.desk_set]
    listener = subscriber(mqtt, watched, heard)
    # said before the gateway starts: the broker keeps them (retained) for it
    publish_once(mqtt, topics.calendar, b"on", retain=True)
    publish_once(mqtt, topics.desk_height, b'{"desk": {"height_mm": 720}}', retain=True)
    cmd = wearer_topic(root, WEARER, "cmd")
    sit = encode_command(Command(WEARER, "desk", position="sit"))
    publish_once(mqtt, cmd, sit, retain=True)
    timebase = TimeBase(speed=SPEED)
    start = timebase.now() + 2.0
    sitting = start + SITTING_AFTER_S
    data = trace(SPELL, start_s=start, seed=5)
    publisher = MqttPublisher(
        mqtt, "gw-inputs", Outbox(None), wearers=[WEARER], wearer_settings=settings.wearers
    )
    publisher.start(require_broker=True)
    context = wearer_topic(root, WEARER, "context")
    timeline = [
        (0.0, context, b"not a context"),  # counted and dropped
        (0.0, topics.desk_height, b'{"desk": {}}'),  # counted and dropped
        (CALENDAR_OFF, topics.calendar, b"off"),
        (
            CONTEXT_ON,
            context,
            json.dumps(
                {"busy": True, "until": sitting + CONTEXT_UNTIL, "source": "teams"}
            ).encode(),
        ),
        (
            SNOOZE_ON,
            cmd,
            encode_command(Command(WEARER, "snooze", until_s=sitting + SNOOZE_UNTIL)),
        ),
        (DESK_UP, cmd, encode_command(Command(WEARER, "desk", position="stand"))),
    ]
    try:
        async with VirtualRadio(timebase=timebase) as radio:
            sensor = radio.add(VirtualSensor("microbit", data))
            key = SensorKey(WEARER, Placement.TRUNK)
            holder: list[Gateway] = []
            running = asyncio.create_task(
                serve(
                    settings,
                    [SensorAssignment(sensor.address, get_profile("microbit"), key)],
                    sink=publisher,
                    radio=Radio.virtual(radio.adapter),
                    timebase=timebase,
                    publisher=publisher,
                    started=holder.append,
                )
            )
            for at, topic, payload in timeline:
                while timebase.now() < sitting + at:
                    await asyncio.sleep(0.02)
                await asyncio.to_thread(publish_once, mqtt, topic, payload)
            while timebase.now() < float(data.t_s[-1]) + 1.0:
                await asyncio.sleep(0.1)
            holder[0].stop()
            gateway = await running
        for channel, topic in zip(("nudge", "event", "set"), watched, strict=True):
            await asyncio.to_thread(
                wait_until,
                lambda c=channel, t=topic: len(heard.on(t)) >= publisher.sent[c],  # type: ignore[misc]
                timeout_s=10.0,
                what=f"every {channel} message at the listener",
            )
    finally:
        publisher.close()
        listener.loop_stop()
        listener.disconnect()
        for topic in (topics.calendar, topics.desk_height, cmd):  # clear the retained ones
            publish_once(mqtt, topic, b"", retain=True)
    return Day(sitting, heard, publisher, gateway)


def events_of(day: Day, kind: EventKind) -> list[Event]:
    topic = wearer_topic(day.publisher.settings.topic_root, WEARER, "event")
    events = [decode(m.payload).record for m in day.heard.on(topic)]
    return [e for e in events if isinstance(e, Event) and e.kind is kind]


def test_busy_states_contexts_snoozes_and_the_desk_over_a_real_broker(
    mqtt_settings: MqttSettings, tmp_path: Path
) -> None:
    settings, topics = settings_for(mqtt_settings, tmp_path / "state")
    day = asyncio.run(office(mqtt_settings, settings, topics))
    nudge_topic = wearer_topic(mqtt_settings.topic_root, WEARER, "nudge")
    nudges = [decode_nudge(m.payload) for m in day.heard.on(nudge_topic)]
    into = [n.t_s - day.sitting_s for n in nudges]
    # held while busy, snoozed or in a context; out as soon as each pause ends. The context and
    # the snooze end at a time they name; the calendar's "off" counts from when the gateway
    # hears it (at 30x, 0.5 s of delivery is 15 s of data)
    for lo, hi, slack in (
        (0.0, CALENDAR_OFF, 15.0),
        (CONTEXT_ON, CONTEXT_UNTIL, 2.0),
        (SNOOZE_ON, SNOOZE_UNTIL, 2.0),
    ):
        assert not [t for t in into if lo + 5.0 < t < hi - slack], (lo, hi, into)
        assert [t for t in into if hi - slack <= t <= hi + 2.0 * slack], (hi, into)
    decisions = events_of(day, EventKind.NUDGE_DECISION)
    deferred = {e.values.get("deferred_by") for e in decisions if e.values["decision"] == "sent"}
    assert {"busy", "snooze"} <= deferred
    # in the wearer's language, offering the desk
    assert all(n.desk == "stand" for n in nudges)
    sent = events_of(day, EventKind.NUDGE)
    assert len(sent) == len(nudges)
    for event, nudge in zip(sent, nudges, strict=True):
        assert event.values["language"] == "de"
        bout = float(event.values["bout_s"])
        assert nudge.message == render(str(event.values["phrase"]), language="de", bout_s=bout)
    # the desk: its height as events, moved once on the wearer's command, never late
    desk = events_of(day, EventKind.DESK)
    assert desk
    assert {e.values["height_cm"] for e in desk} == {72.0}
    (moved,) = day.heard.on(topics.desk_set)
    assert moved.payload == b"OPEN"
    assert 0 < moved.properties.MessageExpiryInterval <= 30  # type: ignore[union-attr]
    assert day.publisher.rejected == {"context": 1, "desk_height": 1, "cmd": 1}
    assert day.gateway.service.live[WEARER].commands == 2
    # what the adaptive timing learned is kept, and taken up by the next start
    saved = nudge_timing.load(settings.gateway.state_dir)  # type: ignore[arg-type]
    wins, losses = saved[WEARER]["arms"]["120"]
    assert wins + losses == 1.0
    sensor = SensorAssignment(
        "C0:00:00:00:00:01", get_profile("microbit"), SensorKey(WEARER, Placement.TRUNK)
    )
    again = build_gateway(
        settings, [sensor], sink=day.publisher, publisher=None, radio=Radio(), timebase=TimeBase()
    )
    assert again.service.monitors[WEARER].nudge_state() == saved[WEARER]
