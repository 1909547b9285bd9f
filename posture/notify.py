"""`posture notify`: a wearer's nudges shown as desktop notifications.

It subscribes to `<root>/<wearer>/nudge` and shows each nudge through the platform's
notification service: the freedesktop Notifications service on the D-Bus session bus (Linux
desktops), `osascript` on macOS, and the terminal when neither is there. Nudges older than
`max_age_s` (delivered late after an outage) are skipped: a stale "stand up" helps nobody.

dbus-fast is imported only when the session bus is tried: it is installed on Linux alone (the
`notify` extra, and bleak's own dependency), so macOS goes on to osascript without it.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

import paho.mqtt.client as paho
from rich.console import Console
from rich.markup import escape

from analytics.contract import wearer_topic
from analytics.messages import Nudge, decode_nudge
from analytics.wire import PayloadError
from transport.mqtt import connect, make_client
from transport.settings import MqttSettings

if TYPE_CHECKING:
    from dbus_fast.aio import MessageBus

log = logging.getLogger(__name__)

TITLES = {"sitting": "Time to move", "slouch": "Posture check", "standing": "Time to move"}


class Notifier(Protocol):
    """Shows one notification to the person at this computer."""

    name: str

    async def show(self, title: str, body: str) -> None: ...

    def close(self) -> None: ...


class DbusNotifier:
    """The freedesktop.org Notifications service on the session bus."""

    name = "desktop (D-Bus)"

    def __init__(self, bus: MessageBus) -> None:
        self.bus = bus

    @classmethod
    async def connect(cls) -> DbusNotifier:
        """Connect to the session bus.

        Raises OSError/ValueError if there is none or no server, ImportError without dbus-fast.
        """
        from dbus_fast import BusType
        from dbus_fast.aio import MessageBus

        bus = await MessageBus(bus_type=BusType.SESSION).connect()
        try:
            await _call(bus, "GetServerInformation")
        except OSError:
            bus.disconnect()
            raise OSError("no notification service on the session bus") from None
        return cls(bus)

    async def show(self, title: str, body: str) -> None:
        await _call(
            self.bus,
            "Notify",
            signature="susssasa{sv}i",
            body=["posture", 0, "", title, body, [], {}, 10_000],
        )

    def close(self) -> None:
        self.bus.disconnect()


class MacNotifier:
    """macOS Notification Center through osascript."""

    name = "desktop (macOS)"

    async def show(self, title: str, body: str) -> None:
        script = f"display notification {_quote(body)} with title {_quote(title)}"
        await asyncio.to_thread(subprocess.run, ["osascript", "-e", script], check=True, timeout=10)

    def close(self) -> None:
        pass


class TerminalNotifier:
    """The terminal, when there is no notification service."""

    name = "terminal"

    def __init__(self, console: Console) -> None:
        self.console = console

    async def show(self, title: str, body: str) -> None:
        self.console.bell()
        self.console.print(f"[bold]{escape(title)}[/]: {escape(body)}")

    def close(self) -> None:
        pass


async def _call(
    bus: MessageBus, member: str, *, signature: str = "", body: list[Any] | None = None
) -> None:
    """Call a method of the Notifications service; raises OSError if it refuses or is not there."""
    from dbus_fast import Message, MessageType

    reply = await bus.call(
        Message(
            destination="org.freedesktop.Notifications",
            path="/org/freedesktop/Notifications",
            interface="org.freedesktop.Notifications",
            member=member,
            signature=signature,
            body=body or [],
        )
    )
    if reply is None or reply.message_type is MessageType.ERROR:
        raise OSError(f"notification refused: {reply.body if reply else 'no reply'}")


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


async def pick_notifier(console: Console, *, terminal_only: bool = False) -> Notifier:
    """The best notifier this machine offers."""
    if not terminal_only:
        try:
            return await DbusNotifier.connect()
        except ImportError:
            log.info("no desktop notifications over D-Bus: dbus-fast is not installed")
        except (OSError, ValueError) as err:
            log.info("no desktop notifications over D-Bus: %s", err)
        if sys.platform == "darwin" and shutil.which("osascript"):
            return MacNotifier()
    return TerminalNotifier(console)


async def show_nudges(
    settings: MqttSettings,
    wearer_id: str,
    notifier: Notifier,
    *,
    max_age_s: float = 600.0,
    count: int | None = None,
    wall_clock: Callable[[], float] = time.time,
    ready: asyncio.Event | None = None,
) -> int:
    """Show the wearer's nudges as they arrive; returns after `count` of them (or never).

    Raises `BrokerError` if the broker cannot be reached.
    """
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    topic = wearer_topic(settings.topic_root, wearer_id, "nudge")
    client = make_client(settings, f"posture-notify-{wearer_id}-{int(wall_clock())}")
    client.on_connect = lambda c, *_: c.subscribe(topic, qos=1)

    def on_message(_c: object, _u: object, msg: paho.MQTTMessage) -> None:
        loop.call_soon_threadsafe(queue.put_nowait, bytes(msg.payload))

    client.on_message = on_message
    await asyncio.to_thread(connect, client, settings)
    if ready is not None:
        ready.set()
    shown = 0
    try:
        while count is None or shown < count:
            nudge = _parse(await queue.get(), wearer_id)
            if nudge is None:
                continue
            if wall_clock() - nudge.t_s > max_age_s:
                log.info(
                    "skipping stale nudge id=%s age=%.0f s",
                    nudge.nudge_id,
                    wall_clock() - nudge.t_s,
                )
                continue
            try:
                await notifier.show(TITLES.get(nudge.reason, "Nudge"), nudge.message)
            except (OSError, subprocess.SubprocessError) as err:
                log.warning("notification failed, showing it in the terminal: %s", err)
                await TerminalNotifier(Console(stderr=True)).show(
                    TITLES.get(nudge.reason, "Nudge"), nudge.message
                )
            shown += 1
    finally:
        client.disconnect()
        client.loop_stop()
    return shown


def _parse(payload: bytes, wearer_id: str) -> Nudge | None:
    try:
        nudge = decode_nudge(payload)
    except PayloadError as err:
        log.warning("dropped a nudge payload: %s", err)
        return None
    if nudge.wearer_id != wearer_id:
        log.warning("dropped a nudge for another wearer on this wearer's topic")
        return None
    return nudge
