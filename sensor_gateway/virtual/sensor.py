"""An emulated wearable: a Bumble peripheral streaming a recorded trace in its profile's bytes.

Samples are produced on the stream's time axis (`TimeBase`): sample i exists once the stream
time passes `trace.t_s[i]`. Whatever is produced while the sensor is not connected, not started
or silent is lost, as on a real device. Tests and demos inject faults (`drop_link`,
`go_silent`) and read what the sensor did (`sent`, `writes`, `nudges`).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import itertools
import logging
from typing import Any

import numpy as np
from bumble import core as bumble_core
from bumble.core import AdvertisingData
from bumble.device import Device
from bumble.gatt import Characteristic, CharacteristicValue, Service
from bumble.link import LocalLink

from analytics.records import Trace
from sensor_gateway.profiles import BATTERY_LEVEL_UUID, BATTERY_SERVICE_UUID, Nudge
from sensor_gateway.timebase import TimeBase

from .emulation import EMULATIONS, Emulation

log = logging.getLogger(__name__)
ADVERTISING_INTERVAL_MS = 20.0  # the least BLE allows: found at once (tests, demos)
_addresses = itertools.count(1)
P = Characteristic.Properties


class VirtualSensor:
    """One emulated sensor of profile `profile` that streams `trace` (times on the stream axis)."""

    def __init__(
        self,
        profile: str,
        trace: Trace,
        *,
        name: str | None = None,
        address: str | None = None,
        battery_pct: int = 87,
        fifo_samples: int = 100,
        samples_per_notification: int | None = None,
        advertising_interval_ms: float = ADVERTISING_INTERVAL_MS,
    ) -> None:
        """`samples_per_notification`: batch more samples into each notification where the
        profile's wire format allows it (Polar H10 up to 39, generic up to 40).
        `advertising_interval_ms`: how often it advertises while not connected (20-10240)."""
        if not 20.0 <= advertising_interval_ms <= 10240.0:
            raise ValueError(
                f"advertising interval must be 20-10240 ms, not {advertising_interval_ms}"
            )
        emulation = EMULATIONS[profile]
        if samples_per_notification is not None:
            if not 1 <= samples_per_notification <= emulation.max_per_notification:
                raise ValueError(
                    f"{profile} sends 1 to {emulation.max_per_notification} samples per "
                    f"notification, not {samples_per_notification}"
                )
            emulation = dataclasses.replace(emulation, per_notification=samples_per_notification)
        self.emulation: Emulation = emulation
        self.profile = self.emulation.profile
        self.trace = trace
        n = next(_addresses)
        self.address = address or f"D0:5E:00:00:{n >> 8:02X}:{n & 0xFF:02X}"
        self.name = name or self._default_name(n)
        self.battery_pct = battery_pct
        self.advertising_interval_ms = advertising_interval_ms
        self.sent: list[tuple[int, int]] = []  # trace index ranges [lo, hi) notified
        self.writes: list[tuple[str, bytes]] = []  # every control write received, in order
        self.connections = 0
        self.fifo_samples = fifo_samples
        self.overflowed = 0  # samples lost because they could not be sent in time
        self.device: Device | None = None
        self.timebase = TimeBase()
        self._connection: Any = None
        self._streaming = False
        self._silent_until = 0.0  # loop time
        self._offline_until = 0.0
        self._stop = asyncio.Event()
        self._wake = asyncio.Event()
        self._answers: list[tuple[Characteristic[bytes], bytes]] = []
        self._chars: dict[str, Characteristic[bytes]] = {}
        self._next = 0
        # fixed-layout profiles: the whole trace encoded once, sliced per notification
        layout = self.emulation.layout
        self._wire: bytes | None = layout.encode(trace.accel_g) if layout is not None else None

    def _default_name(self, n: int) -> str:
        prefix = self.profile.names[0] if self.profile.names else self.profile.name
        return f"{prefix} v{n:03d}"

    # -- what tests and demos call --------------------------------------------------------------

    @property
    def connected(self) -> bool:
        return self._connection is not None

    @property
    def nudges(self) -> list[tuple[str, bytes]]:
        """The writes that asked the device to show a nudge."""
        nudge_writes = {(w.char_uuid, w.data) for n in Nudge for w in self.profile.nudge_writes(n)}
        return [w for w in self.writes if w in nudge_writes]

    def unsent(self, t_s: float) -> int:
        """Samples due by stream time `t_s` that this sensor has not sent yet (0 while it is
        not streaming): what a simulation paced by its consumer waits for."""
        if not self._streaming:
            return 0
        return int(np.searchsorted(self.trace.t_s, t_s, side="right")) - self._next

    def sent_indices(self) -> np.ndarray:
        """Every trace index notified so far, in order."""
        return np.concatenate([np.arange(lo, hi) for lo, hi in self.sent] or [np.zeros(0, int)])

    async def drop_link(self, *, offline_s: float = 2.0) -> None:
        """Break the link from the sensor's side and stay away (not advertising) for a while."""
        self._offline_until = asyncio.get_running_loop().time() + offline_s
        if self._connection is not None:
            await self._connection.disconnect()

    def go_silent(self, seconds: float) -> None:
        """Stay connected but send nothing for `seconds` (real time): a stalled sensor."""
        self._silent_until = asyncio.get_running_loop().time() + seconds

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    # -- the peripheral -------------------------------------------------------------------------

    def attach(self, link: LocalLink, timebase: TimeBase) -> None:
        """Create the Bumble device on `link` (called by the radio)."""
        from .radio import bumble_device

        self.timebase = timebase
        self.device = device = bumble_device(link, self.name, self.address)
        device.gatt_server.max_mtu = 247
        services: dict[str, list[Characteristic[bytes]]] = {self.profile.service_uuid: []}
        data: Characteristic[bytes] = Characteristic(
            self.profile.data_uuid, P.NOTIFY | P.READ, Characteristic.READABLE, b""
        )
        data.on(data.EVENT_SUBSCRIPTION, self._on_subscription)
        services[self.profile.service_uuid].append(data)
        for service_uuid, chars in self.emulation.writable.items():
            for uuid in chars:
                char: Characteristic[bytes] = Characteristic(
                    uuid,
                    P.WRITE | P.WRITE_WITHOUT_RESPONSE | P.NOTIFY | P.READ,
                    Characteristic.READABLE | Characteristic.WRITEABLE,
                    CharacteristicValue[bytes](read=self._reader(uuid), write=self._writer(uuid)),
                )
                self._chars[uuid] = char
                services.setdefault(service_uuid, []).append(char)
        battery: Characteristic[bytes] = Characteristic(
            BATTERY_LEVEL_UUID,
            P.READ | P.NOTIFY,
            Characteristic.READABLE,
            CharacteristicValue[bytes](read=lambda _c: bytes((self.battery_pct,))),
        )
        services[BATTERY_SERVICE_UUID] = [battery]
        device.add_services([Service(uuid, chars) for uuid, chars in services.items()])
        self._data = data
        device.on(device.EVENT_CONNECTION, self._on_connection)

    def _reader(self, uuid: str) -> Any:
        def read(_connection: Any) -> bytes:
            return next((d for u, d in reversed(self.writes) if u == uuid), b"")

        return read

    def _writer(self, uuid: str) -> Any:
        def write(_connection: Any, value: bytes) -> None:
            data = bytes(value)
            self.writes.append((uuid, data))
            reply = self.emulation.control(uuid, data)
            if reply.start is not None:
                self._set_streaming(reply.start)
            if reply.answer:
                self._answers.append((self._chars[uuid], reply.answer))
                self._wake.set()

        return write

    def _on_subscription(self, _connection: Any, notify: bool, indicate: bool) -> None:
        if self.emulation.starts_on_subscribe:
            self._set_streaming(notify or indicate)

    def _set_streaming(self, on: bool) -> None:
        if on and not self._streaming:
            self._next = self._produced()  # only samples from now on
        self._streaming = on
        self._wake.set()

    def _on_connection(self, connection: Any) -> None:
        self._connection = connection
        self.connections += 1
        self._streaming = False
        connection.on(connection.EVENT_DISCONNECTION, self._on_disconnection)
        self._wake.set()

    def _on_disconnection(self, _reason: int) -> None:
        self._connection = None
        self._streaming = False
        self._wake.set()

    def _advertising_data(self) -> bytes:
        name = self.name.encode()[:26]
        fields = [(AdvertisingData.FLAGS, bytes((0x06,)))]
        if self.emulation.advertise_service:
            uuid = bumble_core.UUID(self.profile.service_uuid)
            fields.append(
                (
                    AdvertisingData.COMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS,
                    bytes(uuid.to_bytes(force_128=True)),
                )
            )
            name = name[: 31 - 3 - 18 - 2]
        fields.append((AdvertisingData.COMPLETE_LOCAL_NAME, name))
        return bytes(AdvertisingData(fields))

    def _produced(self) -> int:
        """Index of the first sample not yet produced."""
        return int(np.searchsorted(self.trace.t_s, self.timebase.now(), side="right"))

    async def run(self) -> None:
        """Advertise, serve connections and stream until `stop()`."""
        assert self.device is not None, "add the sensor to a VirtualRadio first"
        device = self.device
        await device.power_on()
        loop = asyncio.get_running_loop()
        try:
            while not self._stop.is_set():
                if self._connection is None:
                    away = self._offline_until - loop.time()
                    if away > 0:
                        await self._sleep(away)
                        continue
                    if not device.is_advertising:
                        await device.start_advertising(
                            advertising_data=self._advertising_data(),
                            advertising_interval_min=self.advertising_interval_ms,
                            advertising_interval_max=self.advertising_interval_ms,
                        )
                    await self._sleep(1.0)
                    continue
                await self._serve()
        finally:
            if device.is_advertising:
                await device.stop_advertising()
            if self._connection is not None:
                await self._connection.disconnect()

    async def _sleep(self, seconds: float) -> None:
        self._wake.clear()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(max(seconds, 0.0)):
                await self._wake.wait()

    async def _serve(self) -> None:
        """One round while connected: answers, due samples, then sleep until the next is due."""
        connection, device = self._connection, self.device
        assert device is not None
        while self._answers:
            char, answer = self._answers.pop(0)
            await device.notify_subscriber(connection, char, answer)
        produced = self._produced()
        loop_now = asyncio.get_running_loop().time()
        per = self.emulation.per_notification
        if not self._streaming or loop_now < self._silent_until:
            self._next = produced
        backlog = produced - self._next
        if backlog > self.fifo_samples:  # the sensor's buffer overflowed: oldest samples lost
            self.overflowed += backlog - self.fifo_samples
            self._next = produced - self.fifo_samples
        burst = 0
        while self._streaming and produced - self._next >= per and self._connection is connection:
            lo, hi = self._next, self._next + per
            await device.notify_subscriber(connection, self._data, self._payload(lo, hi))
            self._record(lo, hi)
            self._next = hi
            burst += 1
            if burst % 8 == 0:
                await asyncio.sleep(0)  # let the rest of the radio (and the gateway) run
        upcoming = self._next + per - 1
        if upcoming < len(self.trace):
            wait = self.timebase.real_s(float(self.trace.t_s[upcoming]) - self.timebase.now())
        else:
            wait = 1.0
        await self._sleep(min(max(wait, 0.0005), 1.0))

    def _payload(self, lo: int, hi: int) -> bytes:
        """The notification carrying samples [lo, hi), in the profile's wire format."""
        if self._wire is None:
            return self.emulation.encode(self.trace.accel_g[lo:hi], float(self.trace.t_s[hi - 1]))
        size = len(self._wire) // len(self.trace)
        return self._wire[lo * size : hi * size]

    def _record(self, lo: int, hi: int) -> None:
        if self.sent and self.sent[-1][1] == lo:
            self.sent[-1] = (self.sent[-1][0], hi)
        else:
            self.sent.append((lo, hi))
