# dbus-fast reads D-Bus signatures from string annotations ("s", "as", "a{sv}"):
# ruff: noqa: F821, F722, UP037, PLR0917, N802
"""Nudges reach `posture notify`: over real MQTT, shown through a real D-Bus session bus.

The freedesktop notification server here is a small recorder exported on a private
`dbus-daemon` (a real bus): no desktop runs on a test machine, so the server at the end of the
wire is the one fake part, standing in for GNOME/KDE's notification daemon.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from dbus_fast.aio import MessageBus
from dbus_fast.service import ServiceInterface, method
from paho.mqtt import publish
from rich.console import Console

from analytics.contract import wearer_topic
from analytics.messages import encode_nudge
from analytics.records import Event, EventKind
from posture.notify import DbusNotifier, TerminalNotifier, pick_notifier, show_nudges
from transport.settings import MqttSettings

pytestmark = pytest.mark.integration


class RecordingNotifications(ServiceInterface):
    """org.freedesktop.Notifications that remembers what it was asked to show."""

    def __init__(self) -> None:
        super().__init__("org.freedesktop.Notifications")
        self.shown: list[tuple[str, str]] = []

    @method()
    def Notify(
        self,
        app: "s",
        replaces: "u",
        icon: "s",
        summary: "s",
        body: "s",
        actions: "as",
        hints: "a{sv}",
        timeout: "i",
    ) -> "u":
        self.shown.append((summary, body))
        return len(self.shown)

    @method()
    def GetServerInformation(self) -> "ssss":
        return ["recorder", "tests", "1.0", "1.2"]


@pytest.fixture
def session_bus(tmp_path: Path) -> Iterator[str]:
    """A private dbus-daemon; yields its address."""
    daemon = shutil.which("dbus-daemon")
    assert daemon, "dbus-daemon is missing: ./dev installs the Debian package dbus"
    address = f"unix:path={tmp_path}/bus"
    proc = subprocess.Popen(
        [daemon, "--session", "--nofork", "--nopidfile", f"--address={address}"]
    )
    deadline = time.monotonic() + 10
    while not (tmp_path / "bus").exists():
        assert proc.poll() is None, "dbus-daemon exited"
        assert time.monotonic() < deadline, "dbus-daemon did not start"
        time.sleep(0.02)
    yield address
    proc.terminate()
    proc.wait(5)


def _nudge(wearer: str, t: float) -> bytes:
    event = Event(wearer, EventKind.NUDGE, t, t, {"reason": "sitting", "sitting_s": 1800.0})
    return encode_nudge(event)


def test_a_nudge_on_mqtt_becomes_a_desktop_notification(
    session_bus: str, mqtt_settings: MqttSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", session_bus)

    async def scenario() -> RecordingNotifications:
        server_bus = await MessageBus(bus_address=session_bus).connect()
        server = RecordingNotifications()
        server_bus.export("/org/freedesktop/Notifications", server)
        await server_bus.request_name("org.freedesktop.Notifications")
        notifier = await pick_notifier(Console())
        assert isinstance(notifier, DbusNotifier)
        ready = asyncio.Event()
        task = asyncio.create_task(show_nudges(mqtt_settings, "w5", notifier, count=1, ready=ready))
        await ready.wait()
        topic = wearer_topic(mqtt_settings.topic_root, "w5", "nudge")
        host, port = mqtt_settings.host, mqtt_settings.port
        await asyncio.to_thread(publish.single, topic, b"not json", qos=1, hostname=host, port=port)
        stale = _nudge("w5", time.time() - 3600)
        await asyncio.to_thread(publish.single, topic, stale, qos=1, hostname=host, port=port)
        fresh = _nudge("w5", time.time())
        await asyncio.to_thread(publish.single, topic, fresh, qos=1, hostname=host, port=port)
        assert await asyncio.wait_for(task, 20) == 1
        notifier.close()
        server_bus.disconnect()
        return server

    server = asyncio.run(scenario())
    assert server.shown == [
        ("Time to move", "You have been sitting for 30 min: time to stand up and move.")
    ]


def test_without_a_notification_service_it_falls_back_to_the_terminal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", f"unix:path={tmp_path}/no-bus")
    console = Console(record=True, width=100)
    notifier = asyncio.run(pick_notifier(console))
    assert isinstance(notifier, TerminalNotifier)
    asyncio.run(notifier.show("Time to move", "stand up"))
    assert "Time to move: stand up" in console.export_text()


def test_the_terminal_shows_a_message_literally_even_if_it_looks_like_markup() -> None:
    console = Console(record=True, width=100)
    asyncio.run(TerminalNotifier(console).show("[b]Time[/b]", "sit [/] back [red]now"))
    assert "[b]Time[/b]: sit [/] back [red]now" in console.export_text()
