"""Virtual sensors: emulated peripherals on Bumble's in-process virtual link, and a bleak
backend (scanner and client) over the same link, so the gateway runs unchanged without an
adapter. Start a whole world with `VirtualRadio` (an async context manager)."""

from __future__ import annotations

from .radio import VirtualAdapter, VirtualRadio
from .sensor import VirtualSensor

__all__ = ["VirtualAdapter", "VirtualRadio", "VirtualSensor"]
