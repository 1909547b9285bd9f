"""What reaches the wearers during the demo, besides the data: `posture notify` showing one
wearer's nudges, another wearer's quiet-hours command on the command topic, and Home Assistant
discovery. All over the same broker as the real services, so the demo shows them working.
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

import paho.mqtt.client as paho

from analytics.contract import wearer_topic
from analytics.messages import Command, encode_command
from analytics.params import clock_minutes
from analytics.records import Event, EventKind
from transport.mqtt import connect, make_client, publish_once
from transport.settings import MqttSettings

from .notify import show_nudges


@dataclass
class CountingNotifier:
    """Stands in for the desktop in the demo: counts what `posture notify` would show."""

    name: str = "demo"
    shown: list[str] = field(default_factory=list)

    async def show(self, title: str, body: str) -> None:
        self.shown.append(f"{title}: {body}")

    def close(self) -> None:
        pass


class Channels:
    """Starts, and afterwards reports on, the wearer-facing channels of the demo."""

    def __init__(
        self,
        mqtt: MqttSettings,
        *,
        notify_wearer: str,
        quiet_wearer: str,
        quiet_hours: tuple[str, str],
        discovery_prefix: str | None,
    ) -> None:
        self.mqtt = mqtt
        self.notify_wearer = notify_wearer
        self.quiet_wearer = quiet_wearer
        self.quiet_hours = quiet_hours
        self.discovery_prefix = discovery_prefix
        self.notifier = CountingNotifier()
        self.discovered: set[str] = set()
        self._lock = threading.Lock()
        self._task: asyncio.Task[int] | None = None
        self._watch: paho.Client | None = None

    async def start(self) -> None:
        """`posture notify` for one wearer, and a watch on the discovery topics."""
        ready = asyncio.Event()
        self._task = asyncio.create_task(
            show_nudges(self.mqtt, self.notify_wearer, self.notifier, max_age_s=1e12, ready=ready)
        )
        await ready.wait()
        if self.discovery_prefix is not None:
            client = make_client(self.mqtt, "")
            prefix = self.discovery_prefix
            client.on_connect = lambda c, *_: c.subscribe(f"{prefix}/#", qos=1)
            client.on_message = self._on_discovery
            await asyncio.to_thread(connect, client, self.mqtt)
            self._watch = client

    def _on_discovery(self, _c: object, _u: object, msg: paho.MQTTMessage) -> None:
        with self._lock:
            if msg.payload:
                self.discovered.add(msg.topic)

    async def send_quiet_hours(self) -> None:
        """The quiet wearer's command, as `posture cmd quiet-hours A-B` sends it."""
        command = Command(self.quiet_wearer, "quiet_hours", spans=(self.quiet_hours,))
        topic = wearer_topic(self.mqtt.topic_root, self.quiet_wearer, "cmd")
        await asyncio.to_thread(publish_once, self.mqtt, topic, encode_command(command))

    async def stop(self) -> None:
        await asyncio.sleep(0.5)  # the last nudges on their way to `posture notify`
        if self._task is not None:
            self._task.cancel()
        if self._watch is not None:
            self._watch.disconnect()
            self._watch.loop_stop()

    def report(self, events: dict[str, list[Event]], zone: ZoneInfo) -> list[str]:
        """Plain sentences on what reached the wearers."""
        lines = []
        shown = self.notifier.shown
        example = f", e.g. “{shown[0]}”" if shown else ""
        lines.append(
            f"posture notify for {self.notify_wearer} showed {len(shown)} nudge(s){example}"
        )
        start, end = (clock_minutes(x) for x in self.quiet_hours)
        nudges = [e for e in events.get(self.quiet_wearer, []) if e.kind is EventKind.NUDGE]
        inside = 0
        for e in nudges:
            local = datetime.fromtimestamp(e.start_s, zone)
            if start <= local.hour * 60 + local.minute < end:
                inside += 1
        lines.append(
            f"{self.quiet_wearer} asked for quiet hours {'-'.join(self.quiet_hours)} on its "
            f"command topic: {len(nudges)} nudge(s) that day, {inside} inside the quiet hours"
        )
        if self.discovery_prefix is not None:
            with self._lock:
                count = len(self.discovered)
            lines.append(
                f"Home Assistant discovery: {count} entities announced under "
                f"{self.discovery_prefix}/ (posture, sitting bout, sitting today and battery "
                "per wearer)"
            )
        return lines
