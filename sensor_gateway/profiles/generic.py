"""A configurable profile for DIY firmware (ESP32, nRF): N x int16 or float32 xyz per notify.

Each notification holds one or more samples of three little-endian numbers, optionally after a
fixed header, scaled by `counts_per_g`. Defaults: int16 milli-g on a service of our own.
"""

from __future__ import annotations

from typing import Literal

from .base import Layout, Nudge, Profile, Write

SERVICE = "7e570001-6f73-7475-7265-2d6d6f6e0000"
DATA = "7e570002-6f73-7475-7265-2d6d6f6e0000"
# write 1 (move), 2 (sit up) or 3 (stood still for long): the vibration pattern to play
HAPTIC = "7e570003-6f73-7475-7265-2d6d6f6e0000"
DTYPES = {"int16": "<i2", "float32": "<f4"}


def make(
    *,
    service_uuid: str = SERVICE,
    data_uuid: str = DATA,
    sample_format: Literal["int16", "float32"] = "int16",
    counts_per_g: float = 1000.0,
    header: bytes = b"",
    rate_hz: float = 50.0,
    names: tuple[str, ...] = ("posture-imu",),
    haptic_uuid: str = HAPTIC,
) -> Profile:
    """A generic profile; every sample is x, y, z of `sample_format` divided by `counts_per_g`.

    With a `haptic_uuid` (in the same service), nudges are written to it as one byte: 1 for a
    movement break, 2 for a posture check, 3 after standing still for long (firmware that
    knows no 3 ignores it); an empty one means the firmware has no motor.
    """
    layout = Layout(
        header=header, dtype=DTYPES[sample_format], values=3, samples=1, per_g=counts_per_g
    )
    return Profile(
        name="generic",
        service_uuid=service_uuid.lower(),
        data_uuid=data_uuid.lower(),
        decode=layout.decode,
        rate_hz=rate_hz,
        names=names,
        nudges={
            Nudge.SITTING: (Write(haptic_uuid.lower(), b"\x01"),),
            Nudge.SLOUCH: (Write(haptic_uuid.lower(), b"\x02"),),
            Nudge.STANDING: (Write(haptic_uuid.lower(), b"\x03"),),
        }
        if haptic_uuid
        else {},
    )


PROFILE = make()
LAYOUT = Layout(header=b"", dtype="<i2", values=3, samples=1, per_g=1000.0)  # the default
