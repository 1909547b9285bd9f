"""Nordic Thingy:52 motion service, raw data characteristic.

Raw data: 9 x int16 little endian, accelerometer Q6.10 (g), gyroscope Q11.5 (deg/s), compass
Q12.4 (uT), one sample per notification. Configuration (9 bytes): step counter interval,
temperature compensation interval, magnetometer compensation interval (uint16 ms each), motion
processing frequency (uint16 Hz, 5-200) and wake-on-motion (uint8). Nudges breathe the RGB LED.
"""

from __future__ import annotations

import struct

from .base import Layout, Nudge, Profile, Write


def uuid(short: int) -> str:
    return f"ef68{short:04x}-9b35-4933-9b10-52ffa9740042"


MOTION_SERVICE = uuid(0x0400)
MOTION_CONFIG = uuid(0x0401)
RAW_DATA = uuid(0x0406)
UI_SERVICE = uuid(0x0300)
LED = uuid(0x0301)

LAYOUT = Layout(header=b"", dtype="<i2", values=9, samples=1, per_g=1024.0)


def motion_config(rate_hz: int) -> bytes:
    """The 9-byte motion configuration for a processing rate of `rate_hz`.

    >>> motion_config(50).hex(" ")
    'e8 03 f4 01 f4 01 32 00 01'
    """
    if not 5 <= rate_hz <= 200:
        raise ValueError(f"Thingy:52 motion rate must be 5-200 Hz, got {rate_hz}")
    return struct.pack("<HHHHB", 1000, 500, 500, rate_hz, 1)


def breathe(colour: int, *, intensity_pct: int = 20, delay_ms: int = 1000) -> bytes:
    """LED breathe mode: colour preset (1 red ... 7 white), intensity, delay between breaths."""
    return struct.pack("<BBBH", 2, colour, intensity_pct, delay_ms)


PROFILE = Profile(
    name="thingy52",
    service_uuid=MOTION_SERVICE,
    data_uuid=RAW_DATA,
    decode=LAYOUT.decode,
    rate_hz=50.0,
    names=("Thingy",),
    start=(Write(MOTION_CONFIG, motion_config(50)),),
    nudges={
        Nudge.SITTING: (Write(LED, breathe(4)),),  # blue
        Nudge.SLOUCH: (Write(LED, breathe(3)),),  # yellow
        Nudge.STANDING: (Write(LED, breathe(2)),),  # green
    },
)
