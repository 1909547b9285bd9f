"""WitMotion WT901BLE family (WT901BLECL, BWT901BLE...).

Packets: `55 61` then 9 x int16 little endian: acceleration x 16 / 32768 g, angular velocity
x 2000 / 32768 deg/s, angle x 180 / 32768 deg; a notification carries one or more packets.
Commands go to the write characteristic: unlock, set the return rate register, save.
"""

from __future__ import annotations

from .base import Layout, Profile, Write

SERVICE = "0000ffe5-0000-1000-8000-00805f9a34fb"
NOTIFY = "0000ffe4-0000-1000-8000-00805f9a34fb"
WRITE = "0000ffe9-0000-1000-8000-00805f9a34fb"
UNLOCK = bytes.fromhex("ffaa6988b5")
SAVE = bytes.fromhex("ffaa000000")
RATE_CODES = {0.2: 0x01, 0.5: 0x02, 1: 0x03, 2: 0x04, 5: 0x05, 10: 0x06, 20: 0x07, 50: 0x08}
RATE_CODES |= {100: 0x09, 200: 0x0B}

LAYOUT = Layout(header=b"\x55\x61", dtype="<i2", values=9, samples=1, per_g=32768.0 / 16.0)


def set_rate(rate_hz: float) -> bytes:
    """The return-rate command (register 0x03).

    >>> set_rate(50).hex(" ")
    'ff aa 03 08 00'
    """
    return bytes((0xFF, 0xAA, 0x03, RATE_CODES[rate_hz], 0x00))


PROFILE = Profile(
    name="witmotion",
    service_uuid=SERVICE,
    data_uuid=NOTIFY,
    decode=LAYOUT.decode,
    rate_hz=50.0,
    names=("WT901", "WT"),
    start=(
        Write(WRITE, UNLOCK, response=False),
        Write(WRITE, set_rate(50), response=False),
        Write(WRITE, SAVE, response=False),
    ),
)
