"""Finding sensors: one scanner per adapter that runs only while a configured sensor is missing.

Sensor tasks ask `Finder.find(address)`; the first request starts scanning, the last one to be
answered stops it. Every advertisement seen also updates the last known RSSI per device.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

from bleak import BleakScanner
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData
from bleak.exc import BleakError

from .profiles import Profile, recognise
from .radio import Radio

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Sighting:
    """A device seen advertising."""

    device: BLEDevice
    name: str | None
    rssi_dbm: int
    service_uuids: tuple[str, ...]
    profile: Profile | None  # the supported profile it looks like, if any
    seen_s: float  # monotonic seconds


def sighting(device: BLEDevice, adv: AdvertisementData) -> Sighting:
    return Sighting(
        device=device,
        name=adv.local_name or device.name,
        rssi_dbm=adv.rssi,
        service_uuids=tuple(adv.service_uuids),
        profile=recognise(adv.local_name or device.name, adv.service_uuids),
        seen_s=time.monotonic(),
    )


class Finder:
    """Finds configured sensors by address or advertised name on one radio."""

    def __init__(self, radio: Radio) -> None:
        self.radio = radio
        self.last: dict[str, Sighting] = {}  # by upper-case address and by name
        self.scans = 0  # how many times scanning was started
        self._wanted: dict[str, list[asyncio.Future[Sighting]]] = {}
        self._missing: collections.Counter[str] = collections.Counter()
        self._scanner: BleakScanner | None = None
        self.error: str | None = None  # why scanning could not start, if it could not
        self._lock = asyncio.Lock()

    @property
    def scanning(self) -> bool:
        return self._scanner is not None

    async def find(self, address: str, *, timeout_s: float) -> Sighting:
        """The next advertisement of `address` (a MAC address or an advertised name).

        Raises `TimeoutError` if it is not seen within `timeout_s`.
        """
        key = address.upper()
        future: asyncio.Future[Sighting] = asyncio.get_running_loop().create_future()
        self._wanted.setdefault(key, []).append(future)
        try:
            await self._update()
            if self._scanner is None:
                raise BleakError(self.error or "scanning is not running")
            async with asyncio.timeout(timeout_s):
                return await future
        finally:
            waiting = self._wanted.get(key, [])
            if future in waiting:
                waiting.remove(future)
            if not waiting:
                self._wanted.pop(key, None)
            await self._update()

    @contextlib.asynccontextmanager
    async def searching(self, address: str) -> AsyncIterator[None]:
        """Keep scanning while inside (the sensor is missing), also between `find` calls."""
        key = address.upper()
        self._missing[key] += 1
        await self._update()
        try:
            yield
        finally:
            self._missing[key] -= 1
            if self._missing[key] <= 0:
                del self._missing[key]
            await self._update()

    def rssi(self, address: str) -> int | None:
        seen = self.last.get(address.upper())
        return seen.rssi_dbm if seen is not None else None

    def _on_advertisement(self, device: BLEDevice, adv: AdvertisementData) -> None:
        seen = sighting(device, adv)
        keys = {device.address.upper()} | ({seen.name.upper()} if seen.name else set())
        for key in keys:
            self.last[key] = seen
            for future in self._wanted.get(key, []):
                if not future.done():
                    future.set_result(seen)

    async def _update(self) -> None:
        async with self._lock:
            wanted = bool(self._wanted or self._missing)
            if wanted and self._scanner is None:
                scanner = self.radio.scanner(self._on_advertisement)
                try:
                    await scanner.start()
                except (BleakError, OSError, EOFError) as err:
                    self.error = f"cannot scan on {self.radio.adapter}: {err or type(err).__name__}"
                    log.debug("%s", self.error)
                    return
                self._scanner, self.error = scanner, None
                self.scans += 1
                missing = len(set(self._wanted) | set(self._missing))
                log.info("scanning adapter=%s missing=%d", self.radio.adapter, missing)
            elif not wanted and self._scanner is not None:
                scanner, self._scanner = self._scanner, None
                with contextlib.suppress(BleakError, OSError, EOFError):
                    await scanner.stop()
                log.info("scan stopped adapter=%s", self.radio.adapter)

    async def close(self) -> None:
        self._wanted.clear()
        self._missing.clear()
        await self._update()


async def discover(radio: Radio, *, seconds: float) -> list[Sighting]:
    """Every supported sensor advertising within `seconds`, strongest first."""
    seen: dict[str, Sighting] = {}

    def on_advertisement(device: BLEDevice, adv: AdvertisementData) -> None:
        found = sighting(device, adv)
        if found.profile is not None:
            seen[device.address] = found

    scanner = radio.scanner(on_advertisement)
    await scanner.start()
    try:
        await asyncio.sleep(seconds)
    finally:
        await scanner.stop()
    return sorted(seen.values(), key=lambda s: -s.rssi_dbm)
