"""MbientLab MetaMotion (MetaWear) boards, Bosch accelerometer module (0x03).

Notifications on 9006: `03 04` + 3 x int16 little endian (one sample), or the packed form
`03 05` + 3 samples; counts per g depend on the range (16384, 8192, 4096, 2048 for 2, 4, 8,
16 g). Commands on 9001. Nudges pulse the haptic motor (module 0x08).
"""

from __future__ import annotations

import struct

import numpy as np

from .base import Decoded, DecodeError, Layout, Nudge, Profile, Write

SERVICE = "326a9000-85cb-9195-d9dd-464cfbbae75a"
COMMAND = "326a9001-85cb-9195-d9dd-464cfbbae75a"
NOTIFY = "326a9006-85cb-9195-d9dd-464cfbbae75a"
COUNTS_PER_G = {2: 16384.0, 4: 8192.0, 8: 4096.0, 16: 2048.0}
RANGE_CODES = {2: 0x03, 4: 0x05, 8: 0x08, 16: 0x0C}  # BMI160 acc_range register values
ODR_50HZ_NORMAL = 0x27  # acc_conf: bandwidth normal (0x20) | odr 50 Hz (0x07)


def layouts(range_g: int) -> dict[bytes, Layout]:
    per_g = COUNTS_PER_G[range_g]
    return {
        b"\x03\x04": Layout(header=b"\x03\x04", dtype="<i2", values=3, samples=1, per_g=per_g),
        b"\x03\x05": Layout(header=b"\x03\x05", dtype="<i2", values=3, samples=3, per_g=per_g),
    }


class Decoder:
    """Acceleration data or packed acceleration data at the configured range."""

    def __init__(self, range_g: int = 4) -> None:
        self.layouts = layouts(range_g)

    def __call__(self, payload: bytes) -> Decoded:
        layout = self.layouts.get(payload[:2])
        if layout is None:
            raise DecodeError("not an acceleration frame (03 04 or 03 05)", payload)
        return layout.decode(payload)


def haptic(duration_ms: int, *, duty_pct: float = 100.0) -> bytes:
    """Run the vibration motor for `duration_ms`."""
    duty = round(np.clip(duty_pct, 0, 100) * 248 / 100)
    return struct.pack("<BBBHB", 0x08, 0x01, duty, duration_ms, 0)


def make(range_g: int = 4) -> Profile:
    """The MetaMotion profile streaming at 50 Hz with a range of `range_g`."""
    return Profile(
        name="metamotion",
        service_uuid=SERVICE,
        data_uuid=NOTIFY,
        decode=Decoder(range_g),
        rate_hz=50.0,
        names=("MetaWear", "MetaMotion"),
        start=(
            Write(COMMAND, bytes((0x03, 0x03, ODR_50HZ_NORMAL, RANGE_CODES[range_g]))),
            Write(COMMAND, bytes.fromhex("030401")),
            Write(COMMAND, bytes.fromhex("03020100")),
            Write(COMMAND, bytes.fromhex("030101")),
        ),
        stop=(
            Write(COMMAND, bytes.fromhex("030100")),
            Write(COMMAND, bytes.fromhex("03020001")),
            Write(COMMAND, bytes.fromhex("030400")),
        ),
        nudges={
            Nudge.SITTING: (Write(COMMAND, haptic(600)),),
            Nudge.SLOUCH: (Write(COMMAND, haptic(200)), Write(COMMAND, haptic(200))),
            Nudge.STANDING: (Write(COMMAND, haptic(1000, duty_pct=50)),),  # long and soft
        },
    )


PROFILE = make()
