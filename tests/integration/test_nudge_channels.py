"""Nudges reach the wearer, end to end, and the wearer's commands are honoured.

A virtual micro:bit streams a sitting spell through the real gateway (Bumble's virtual link,
bleak, the clock model, the edge analytics) into a real mosquitto. A nudge issued by the
analytics must appear on the MQTT nudge topic, reach the micro:bit's LED text characteristic
and be shown by `posture notify`; a snooze sent on the wearer's command topic delays the next
one; quiet hours sent there suppress them. Home Assistant discovery, when enabled, is announced
on the same broker and follows the documented schema.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from analytics.contract import wearer_topic
from analytics.messages import Command, decode_nudge, encode_command
from analytics.params import AnalyticsParams, NudgePolicy
from analytics.records import Placement
from posture.notify import show_nudges
from posture.settings import Settings
from sensor_gateway.gateway import Gateway, SensorAssignment
from sensor_gateway.outbox import Outbox
from sensor_gateway.profiles import get_profile
from sensor_gateway.publisher import MqttPublisher
from sensor_gateway.radio import Radio
from sensor_gateway.runner import serve
from sensor_gateway.service import SensorKey
from sensor_gateway.settings import HomeAssistantSettings
from sensor_gateway.timebase import TimeBase
from sensor_gateway.virtual import VirtualRadio, VirtualSensor
from tests.sensor_gateway.test_homeassistant import check_device_config
from tests.synthetic import Part, trace
from transport.mqtt import publish_once
from transport.settings import MqttSettings

pytestmark = pytest.mark.integration

WEARER = "w7"
SPEED = 60.0  # one sensor: far below the speed a busy machine streams without loss
# nudges after 2 min of sitting, then every minute: four of them in this spell
POLICY = NudgePolicy(sitting_s=120.0, repeat_s=60.0, response_s=60.0, slouch=False)
SPELL = [
    Part("walk", 40),
    Part("stand", 10),
    Part("down"),
    Part("sit", 330),
    Part("up"),
    Part("walk", 60),
]


class Listener:
    """Every message under a topic filter, from a real subscriber on the real broker."""

    def __init__(self, settings: MqttSettings, topic: str) -> None:
        self.messages: list[tuple[str, bytes]] = []
        self._lock = threading.Lock()
        self.client = paho.Client(callback_api_version=CallbackAPIVersion.VERSION2)
        self.client.on_message = self._on_message
        self.client.connect(settings.host, settings.port)
        self.client.subscribe(topic, qos=1)
        self.client.loop_start()

    def _on_message(self, _c: object, _u: object, msg: paho.MQTTMessage) -> None:
        with self._lock:
            self.messages.append((msg.topic, bytes(msg.payload)))

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


@dataclass
class Shown:
    """A notifier for `posture notify` that remembers what it showed (the desktop's part)."""

    name: str = "recording"
    items: list[tuple[str, str]] = field(default_factory=list)

    async def show(self, title: str, body: str) -> None:
        self.items.append((title, body))

    def close(self) -> None:
        pass


@dataclass
class Outcome:
    nudges_on_mqtt: list[float]  # data times of the nudges published on the nudge topic
    led_writes: int
    shown: list[tuple[str, str]]
    start_s: float  # data time the spell starts
    command_sent_s: float | None  # stream time just before the command was sent
    discovery: list[tuple[str, bytes]]


def posture_cmd(mqtt: MqttSettings, *words: str) -> None:
    """`posture cmd WORDS... --wearer WEARER`, as the wearer types it."""
    env = {
        **os.environ,
        "POSTURE_MQTT__HOST": mqtt.host,
        "POSTURE_MQTT__PORT": str(mqtt.port),
        "POSTURE_MQTT__TOPIC_ROOT": mqtt.topic_root,
    }
    argv = [sys.executable, "-m", "posture.cli", "cmd", *words, "--wearer", WEARER]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=30, env=env, check=False)
    assert done.returncode == 0, done.stderr


async def spell(
    mqtt: MqttSettings,
    *,
    command: Callable[[], Command] | list[str] | None,
    home_assistant: bool = False,
) -> Outcome:
    """The spell streamed through the gateway; `command` is sent on the wearer's command topic
    once samples flow, either as a `Command` or as the words of `posture cmd`."""
    prefix = "ha_" + mqtt.topic_root.split("/")[1]  # a discovery prefix of this test's own
    settings = Settings(
        mqtt=mqtt,
        analytics=AnalyticsParams(nudges=POLICY),
        home_assistant=HomeAssistantSettings(enabled=home_assistant, prefix=prefix),
    )
    listener = Listener(mqtt, wearer_topic(mqtt.topic_root, WEARER, "nudge"))
    discovery = Listener(mqtt, f"{prefix}/#")
    shown = Shown()
    timebase = TimeBase(speed=SPEED)
    start = timebase.now() + 2.0
    data = trace(SPELL, start_s=start, seed=3)
    publisher = MqttPublisher(mqtt, "gw-nudge", Outbox(None), wearers=[WEARER])
    publisher.start()
    notify = asyncio.create_task(show_nudges(mqtt, WEARER, shown, max_age_s=1e9))
    command_sent = None
    try:
        async with VirtualRadio(timebase=timebase) as radio:
            sensor = radio.add(VirtualSensor("microbit", data))
            holder: list[Gateway] = []
            running = asyncio.create_task(
                serve(
                    settings,
                    [
                        SensorAssignment(
                            sensor.address,
                            get_profile("microbit"),
                            SensorKey(WEARER, Placement.TRUNK),
                        )
                    ],
                    sink=publisher,
                    radio=Radio.virtual(radio.adapter),
                    timebase=timebase,
                    publisher=publisher,
                    started=holder.append,
                )
            )
            while not holder or not any(s.samples for s in holder[0].stats.values()):
                await asyncio.sleep(0.05)
            command_sent = timebase.now()
            if isinstance(command, list):
                await asyncio.to_thread(posture_cmd, mqtt, *command)
            elif command is not None:
                await asyncio.to_thread(
                    publish_once,
                    mqtt,
                    wearer_topic(mqtt.topic_root, WEARER, "cmd"),
                    encode_command(command()),
                )
            while timebase.now() < float(data.t_s[-1]) + 1.0:
                await asyncio.sleep(0.1)
            await asyncio.sleep(1.0)  # the last nudges' LED writes
            holder[0].stop()
            await running
            led_writes = len(sensor.nudges)
        publisher.drain(timeout_s=10.0)  # no recorder here: the broker has them
        await asyncio.sleep(1.0)  # posture notify receives the last ones
    finally:
        notify.cancel()
        publisher.close()
        listener.close()
        discovery.close()
    return Outcome(
        nudges_on_mqtt=[decode_nudge(p).t_s for _, p in listener.messages],
        led_writes=led_writes,
        shown=shown.items,
        start_s=start,
        command_sent_s=command_sent,
        discovery=discovery.messages,
    )


def sitting_starts(outcome: Outcome) -> float:
    return outcome.start_s + 40 + 10 + 2  # walk, stand, stand-to-sit


def test_a_nudge_reaches_mqtt_the_device_and_the_desktop(mqtt_settings: MqttSettings) -> None:
    outcome = asyncio.run(spell(mqtt_settings, command=None, home_assistant=True))
    nudges = outcome.nudges_on_mqtt
    assert len(nudges) == 4, nudges
    first = nudges[0] - sitting_starts(outcome)
    assert 110 <= first <= 135, f"first nudge {first:.0f} s into sitting, expected about 120"
    assert outcome.led_writes >= 3, "the micro:bit's LED shows the nudges it received in time"
    assert len(outcome.shown) == len(nudges)
    assert all(title == "Time to move" for title, _ in outcome.shown)
    # Home Assistant device discovery for the wearer, on the configured prefix (and the
    # per-entity topics of earlier versions cleared)
    (device,) = [(topic, payload) for topic, payload in outcome.discovery if payload]
    check_device_config(device[0], json.loads(device[1]))
    assert len(outcome.discovery) == 5


def test_a_snooze_on_the_command_topic_delays_the_next_nudge(mqtt_settings: MqttSettings) -> None:
    outcome = asyncio.run(
        spell(mqtt_settings, command=lambda: Command(WEARER, "snooze", minutes=4))
    )
    assert outcome.command_sent_s is not None
    # the snooze runs from when the gateway heard it, which is after it was sent; the data
    # may reach the analytics later still (a busy machine): that must not shorten it
    snoozed_until = outcome.command_sent_s + 240
    assert outcome.nudges_on_mqtt, "nudges resume after the snooze"
    assert min(outcome.nudges_on_mqtt) >= snoozed_until - 1, "no nudge while snoozed"
    assert len(outcome.nudges_on_mqtt) < 4


def test_quiet_hours_on_the_command_topic_suppress_nudges(mqtt_settings: MqttSettings) -> None:
    quiet = lambda: Command(WEARER, "quiet_hours", spans=(("00:00", "24:00"),))  # noqa: E731
    outcome = asyncio.run(spell(mqtt_settings, command=quiet))
    assert outcome.nudges_on_mqtt == []
    assert outcome.led_writes == 0
    assert outcome.shown == []


def test_do_not_disturb_on_the_command_topic_holds_every_nudge(mqtt_settings: MqttSettings) -> None:
    outcome = asyncio.run(spell(mqtt_settings, command=["dnd", "on"]))  # as the wearer types it
    assert outcome.nudges_on_mqtt == []
    assert outcome.led_writes == 0
