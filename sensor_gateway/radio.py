"""Which Bluetooth adapter the gateway uses, and through which bleak backends.

Production leaves the backends at None (bleak picks BlueZ, CoreBluetooth or WinRT); tests and
demos pass the Bumble-backed classes of a `virtual.VirtualAdapter`. Connection attempts on one
adapter are serialised: controllers handle one pending LE connection at a time.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from bleak import BleakScanner
from bleak.backends.client import BaseBleakClient
from bleak.backends.scanner import AdvertisementDataCallback, BaseBleakScanner


@dataclass(frozen=True, slots=True)
class Radio:
    """One adapter: its name and the bleak backends to reach it."""

    adapter: str = "hci0"
    scanner_backend: type[BaseBleakScanner] | None = None
    client_backend: type[BaseBleakClient] | None = None
    connect_lock: asyncio.Lock = field(default_factory=asyncio.Lock, compare=False)

    @classmethod
    def virtual(cls, adapter: Any) -> Radio:
        """The radio of a `virtual.VirtualAdapter`."""
        return cls(
            adapter=adapter.name,
            scanner_backend=adapter.scanner_backend,
            client_backend=adapter.client_backend,
        )

    def scanner(self, callback: AdvertisementDataCallback) -> BleakScanner:
        if self.scanner_backend is not None:
            return BleakScanner(callback, backend=self.scanner_backend)
        return BleakScanner(callback, bluez={"adapter": self.adapter})

    def client_options(self) -> dict[str, Any]:
        """Extra keyword arguments for `BleakClient` (and bleak-retry-connector)."""
        return {"backend": self.client_backend} if self.client_backend is not None else {}
