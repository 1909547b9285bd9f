"""What each emulated sensor looks like on the air: GATT layout, byte format, control protocol.

One row per profile: the writable characteristics (by service), how many samples go in one
notification, how samples are encoded (the profile's exact wire format) and how control writes
start and stop streaming and what the device answers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from sensor_gateway.profiles import (
    PROFILES,
    Layout,
    Profile,
    generic,
    metamotion,
    microbit,
    polar_h10,
    thingy52,
    witmotion,
)

Encoder = Callable[[NDArray[np.floating[Any]], float], bytes]  # samples (n, 3), device time of last


@dataclass(frozen=True, slots=True)
class Reply:
    """What a control write does: start or stop streaming, and an answer to notify."""

    start: bool | None = None  # True start, False stop, None neither
    answer: bytes = b""  # notified on the written characteristic


Control = Callable[[str, bytes], Reply]


def _layout_encoder(layout: Layout) -> Encoder:
    return lambda accel, _t: layout.encode(accel)


def _no_control(_char_uuid: str, _data: bytes) -> Reply:
    return Reply()


def _metamotion(_char_uuid: str, data: bytes) -> Reply:
    if data == bytes.fromhex("030101"):
        return Reply(start=True)
    if data == bytes.fromhex("030100"):
        return Reply(start=False)
    return Reply()


def _polar(char_uuid: str, data: bytes) -> Reply:
    if char_uuid != polar_h10.CONTROL or len(data) < 2:
        return Reply()
    if data[0] == 0x02 and data[1] == polar_h10.ACC:  # start: answer success
        return Reply(start=True, answer=bytes((0xF0, 0x02, polar_h10.ACC, 0x00, 0x00)))
    if data[0] == 0x03 and data[1] == polar_h10.ACC:
        return Reply(start=False, answer=bytes((0xF0, 0x03, polar_h10.ACC, 0x00, 0x00)))
    return Reply(answer=bytes((0xF0, data[0], data[1], 0x01, 0x00)))  # invalid op code


def _microbit(char_uuid: str, data: bytes) -> Reply:
    if char_uuid == microbit.PERIOD and len(data) == 2:  # firmware writes back what it chose
        chosen = microbit.snap_period_ms(int.from_bytes(data, "little"))
        return Reply(answer=chosen.to_bytes(2, "little"))
    return Reply()


@dataclass(frozen=True, slots=True)
class Emulation:
    """How to emulate one profile."""

    profile: Profile
    encode: Encoder
    per_notification: int = 1
    max_per_notification: int = 1  # what the wire format allows in one 244-byte notification
    writable: dict[str, tuple[str, ...]] = field(default_factory=dict)  # service -> chars
    starts_on_subscribe: bool = True  # streams as soon as notifications are enabled
    control: Control = _no_control
    advertise_service: bool = False  # the name alone does not fit / identify it
    layout: Layout | None = None  # fixed frames with one sample each: encode a trace at once


METAMOTION = metamotion.layouts(4)[b"\x03\x04"]
EMULATIONS: dict[str, Emulation] = {
    "microbit": Emulation(
        PROFILES["microbit"],
        _layout_encoder(microbit.LAYOUT),
        layout=microbit.LAYOUT,
        writable={microbit.SERVICE: (microbit.PERIOD,), microbit.LED_SERVICE: (microbit.LED_TEXT,)},
        control=_microbit,
    ),
    "thingy52": Emulation(
        PROFILES["thingy52"],
        _layout_encoder(thingy52.LAYOUT),
        layout=thingy52.LAYOUT,
        writable={
            thingy52.MOTION_SERVICE: (thingy52.MOTION_CONFIG,),
            thingy52.UI_SERVICE: (thingy52.LED,),
        },
    ),
    "witmotion": Emulation(
        PROFILES["witmotion"],
        _layout_encoder(witmotion.LAYOUT),
        layout=witmotion.LAYOUT,
        writable={witmotion.SERVICE: (witmotion.WRITE,)},
    ),
    "polar_h10": Emulation(
        PROFILES["polar_h10"],
        lambda accel, t: polar_h10.encode_raw(accel, device_time_s=t),
        per_notification=10,
        max_per_notification=39,  # 10-byte frame header + 6 bytes per sample
        writable={polar_h10.SERVICE: (polar_h10.CONTROL,)},
        starts_on_subscribe=False,
        control=_polar,
    ),
    "metamotion": Emulation(
        PROFILES["metamotion"],
        _layout_encoder(METAMOTION),
        layout=METAMOTION,
        writable={metamotion.SERVICE: (metamotion.COMMAND,)},
        starts_on_subscribe=False,
        control=_metamotion,
    ),
    "generic": Emulation(
        PROFILES["generic"],
        _layout_encoder(generic.LAYOUT),
        max_per_notification=40,  # DIY firmware may batch samples, 6 bytes each
        writable={generic.SERVICE: (generic.HAPTIC,)},
        advertise_service=True,
        layout=generic.LAYOUT,
    ),
}
