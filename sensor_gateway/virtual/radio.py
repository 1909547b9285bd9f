"""The virtual radio: one Bumble `LocalLink` shared by emulated adapters and sensors.

`VirtualRadio` is an async context manager that powers on its adapters (centrals) and runs
every `VirtualSensor` in one task group; leaving it stops the sensors and closes everything.
An adapter serialises connection attempts (a controller has one pending LE connection at a
time) and reference-counts scanning, which bleak scanners share.

The sensors can also run in another process, as a real radio's do: that process's radio
`expose`s a controller on its link over a TCP socket (Bumble's HCI transport), and the
gateway's process reaches it as `remote_adapter("tcp-client:HOST:PORT")`. The gateway's
process then spends only what a host stack spends (`bench/gateway.py` measures it so).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import AsyncIterator, Callable, Iterable
from types import TracebackType
from typing import Any

from bleak.backends.client import BaseBleakClient
from bleak.backends.scanner import BaseBleakScanner
from bumble import hci, ll
from bumble.controller import Controller
from bumble.device import Device
from bumble.hci import Address
from bumble.host import Host
from bumble.link import LocalLink
from bumble.transport import open_transport
from bumble.transport.common import AsyncPipeSink
from bumble.transport.tcp_server import open_tcp_server_transport_with_socket

from sensor_gateway.timebase import TimeBase

from .backend import client_backend, scanner_backend
from .sensor import VirtualSensor

log = logging.getLogger(__name__)


class QuietLink(LocalLink):
    """Bumble's `LocalLink`, scaled for many devices: advertising PDUs reach only controllers
    that scan or wait to connect (the others ignore them), and the controller owning an
    address is looked up once, not searched for on every packet."""

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._owners: dict[str, Any] = {}

    def send_advertising_pdu(self, sender_controller: Any, packet: Any) -> None:
        loop = asyncio.get_running_loop()
        listening = isinstance(packet, ll.ConnectInd)
        for c in self.controllers:
            if c is not sender_controller and (
                listening or c.le_scan_enable or c.pending_le_connection is not None
            ):
                loop.call_soon(c.on_ll_advertising_pdu, packet)

    def find_le_controller(self, address: Any) -> Any:
        key = str(address)
        owner = self._owners.get(key)
        if owner is None or owner not in self.controllers:
            owner = super().find_le_controller(address)
            if owner is not None:
                self._owners[key] = owner
        return owner


_BUMBLE_LOG = logging.getLogger("bumble")


def _bumble_debug() -> bool:
    return _BUMBLE_LOG.isEnabledFor(logging.DEBUG)


class QuietController(Controller):
    """Bumble's emulated controller without its per-packet debug text unless debug is on.

    `Controller.send_hci_packet` and `on_hci_packet` format every packet into an f-string for
    `logger.debug` whether or not debug logging is enabled (so does `Host`); on the virtual radio
    that text cost about half the CPU of a notification. Data and events take the direct path
    here; with the `bumble` logger at DEBUG, everything goes through Bumble's own code.
    """

    def send_hci_packet(self, packet: hci.HCI_Packet) -> None:
        if _bumble_debug():
            super().send_hci_packet(packet)
        elif self.host:
            asyncio.get_running_loop().call_soon(self.host.on_packet, bytes(packet))

    def on_hci_packet(self, packet: hci.HCI_Packet) -> None:
        if isinstance(packet, hci.HCI_AclDataPacket) and not _bumble_debug():
            self.on_hci_acl_data_packet(packet)
        else:
            super().on_hci_packet(packet)


class QuietHost(Host):
    """Bumble's host without its per-packet debug text unless debug is on (see above), and
    without the traceback Bumble logs when a command's answer arrives after its waiter was
    cancelled (a gateway that stops while it scans or connects)."""

    def on_command_processed(self, event: Any) -> None:
        pending = self.pending_response
        if pending is not None and pending.done():  # cancelled: nobody waits for the answer
            return
        super().on_command_processed(event)

    def send_hci_packet(self, packet: hci.HCI_Packet) -> None:
        if self.snooper or _bumble_debug():
            super().send_hci_packet(packet)
        elif self.hci_sink:
            self.hci_sink.on_packet(bytes(packet))

    def on_hci_packet(self, packet: hci.HCI_Packet) -> None:
        if self.snooper or _bumble_debug():
            super().on_hci_packet(packet)
        elif isinstance(packet, hci.HCI_AclDataPacket):
            self.on_hci_acl_data_packet(packet)
        elif isinstance(packet, hci.HCI_Event):
            self.on_hci_event_packet(packet)
        else:
            super().on_hci_packet(packet)


def bumble_device(link: LocalLink, name: str, address: str) -> Device:
    """A Bumble device with its own emulated controller on `link`."""
    controller = QuietController(name, link=link, public_address=address)
    return Device(
        name=name, address=Address(address), host=QuietHost(controller, AsyncPipeSink(controller))
    )


class VirtualAdapter:
    """An emulated Bluetooth adapter (central): a Bumble device whose controller is on the
    virtual link, in this process or (`remote_adapter`) in another."""

    def __init__(self, device: Device) -> None:
        self.name = device.name
        self.device = device
        self._listeners: dict[object, Callable[[Any], None]] = {}
        self._scanners = 0
        self._scan_lock = asyncio.Lock()
        self._connect_lock = asyncio.Lock()
        self.pending = 0  # connection attempts asked for and not finished
        self.max_pending = 0  # the most ever at once (the gateway should keep this at 1)
        self.device.on(self.device.EVENT_ADVERTISEMENT, self._on_advertisement)
        self.scanner_backend: type[BaseBleakScanner] = scanner_backend(self)
        self.client_backend: type[BaseBleakClient] = client_backend(self)

    @property
    def scanning(self) -> bool:
        return self._scanners > 0

    def listen(self, callback: Callable[[Any], None]) -> Callable[[], None]:
        """Call `callback` with every advertisement while scanning; returns the remover."""
        token = object()
        self._listeners[token] = callback

        def remove() -> None:
            self._listeners.pop(token, None)

        return remove

    def _on_advertisement(self, adv: Any) -> None:
        for callback in list(self._listeners.values()):
            callback(adv)

    async def acquire_scan(self) -> None:
        async with self._scan_lock:
            self._scanners += 1
            if self._scanners == 1:
                await self.device.start_scanning(filter_duplicates=False)

    async def release_scan(self) -> None:
        async with self._scan_lock:
            self._scanners = max(0, self._scanners - 1)
            if self._scanners == 0 and self.device.is_scanning:
                await self.device.stop_scanning()

    def close(self) -> None:
        """Forget the listeners (the radio is shutting down)."""
        self._listeners.clear()

    async def connect(self, address: str, *, timeout: float) -> Any:
        """An LE connection to `address`; one attempt at a time on this controller."""
        self.pending += 1
        self.max_pending = max(self.max_pending, self.pending)
        try:
            async with self._connect_lock:
                return await self.device.connect(Address(address), timeout=timeout)
        finally:
            self.pending -= 1


@contextlib.asynccontextmanager
async def remote_adapter(
    spec: str, *, name: str = "hci0", address: str = "F0:00:00:00:01:00"
) -> AsyncIterator[VirtualAdapter]:
    """A powered-on adapter whose controller is another process's (`VirtualRadio.expose`),
    reached over the Bumble HCI transport `spec`, such as "tcp-client:127.0.0.1:PORT"."""
    async with await open_transport(spec) as transport:
        host = QuietHost(transport.source, transport.sink)
        adapter = VirtualAdapter(Device(name=name, address=Address(address), host=host))
        await adapter.device.power_on()
        try:
            yield adapter
        finally:
            adapter.close()
            # the last command (a scan stopping, a link closing) gets its answer before the
            # transport closes: else Bumble logs the lost transport with a traceback
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(2.0):
                    while host.pending_command is not None:
                        await asyncio.sleep(0.01)


class VirtualRadio:
    """A virtual link with adapters and sensors, run in one task group while entered."""

    def __init__(self, *, timebase: TimeBase | None = None, adapters: int = 1) -> None:
        self.timebase = timebase or TimeBase()
        self.link = QuietLink()
        self.adapters = [
            VirtualAdapter(bumble_device(self.link, f"hci{i}", f"F0:00:00:00:00:{i:02X}"))
            for i in range(adapters)
        ]
        self.sensors: list[VirtualSensor] = []
        self._group: asyncio.TaskGroup | None = None
        self._stack = contextlib.AsyncExitStack()

    @property
    def adapter(self) -> VirtualAdapter:
        return self.adapters[0]

    def add(self, sensor: VirtualSensor) -> VirtualSensor:
        """Add a sensor (before or while running); it starts advertising at once if running."""
        sensor.attach(self.link, self.timebase)
        self.sensors.append(sensor)
        if self._group is not None:
            self._group.create_task(sensor.run(), name=f"virtual {sensor.name}")
        return sensor

    def extend(self, sensors: Iterable[VirtualSensor]) -> None:
        for sensor in sensors:
            self.add(sensor)

    async def expose(self, listening: socket.socket, *, address: str = "F0:00:00:00:01:00") -> None:
        """A controller on this link for a host in another process (`remote_adapter`), which
        connects to the `listening` TCP socket; both are closed when the radio is left."""
        self._stack.callback(listening.close)
        transport = await open_tcp_server_transport_with_socket(listening)
        self._stack.push_async_callback(transport.close)
        QuietController(
            "remote",
            host_source=transport.source,
            host_sink=transport.sink,
            link=self.link,
            public_address=address,
        )

    async def __aenter__(self) -> VirtualRadio:
        for adapter in self.adapters:
            await adapter.device.power_on()
        self._group = await self._stack.enter_async_context(asyncio.TaskGroup())
        for sensor in self.sensors:
            self._group.create_task(sensor.run(), name=f"virtual {sensor.name}")
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for sensor in self.sensors:
            sensor.stop()
        try:
            await self._stack.aclose()
        finally:
            self._group = None
            for adapter in self.adapters:
                adapter.close()
