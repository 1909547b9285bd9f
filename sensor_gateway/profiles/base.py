"""What every sensor profile is: recognition, start/stop writes, a decoder, optional nudges.

Decoders are pure functions from one notification payload to samples in g. Anything that does
not follow the wire format raises `DecodeError`, carrying the payload; nothing else escapes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np
from numpy.typing import NDArray

BATTERY_LEVEL_UUID = "00002a19-0000-1000-8000-00805f9b34fb"
BATTERY_SERVICE_UUID = "0000180f-0000-1000-8000-00805f9b34fb"


class DecodeError(ValueError):
    """A notification that does not follow the sensor's wire format."""

    def __init__(self, reason: str, payload: bytes) -> None:
        super().__init__(f"{reason} (len={len(payload)} head={payload[:8].hex()})")
        self.reason = reason
        self.payload = payload


@dataclass(frozen=True, slots=True, eq=False)
class Decoded:
    """The samples in one notification, oldest first."""

    accel_g: NDArray[np.float64]  # (n, 3)
    device_time_s: float | None = None  # sensor's own time of the last sample, if it has one

    def __len__(self) -> int:
        return int(self.accel_g.shape[0])


@dataclass(frozen=True, slots=True)
class Write:
    """One write to a characteristic (a start command, a rate setting, a nudge)."""

    char_uuid: str
    data: bytes
    response: bool = True


class Nudge(StrEnum):
    """What a nudge asks the device to show."""

    SITTING = "sitting"  # time for a movement break
    SLOUCH = "slouch"  # sit up
    STANDING = "standing"  # standing still for long: walk a little or sit down


Decoder = Callable[[bytes], Decoded]


@dataclass(frozen=True, slots=True)
class Profile:
    """How to find, start, read and nudge one kind of sensor."""

    name: str
    service_uuid: str  # the service that carries the accelerometer data
    data_uuid: str  # the characteristic that notifies samples
    decode: Decoder
    rate_hz: float  # the nominal sample rate the start writes ask for
    names: tuple[str, ...] = ()  # advertised name prefixes that identify the sensor
    start: tuple[Write, ...] = ()  # written after notifications are enabled
    stop: tuple[Write, ...] = ()
    nudges: dict[Nudge, tuple[Write, ...]] = field(default_factory=dict)
    has_device_time: bool = False  # packets carry the sensor's clock (gaps from counters)
    control_notify: tuple[str, ...] = ()  # control points whose answers must be enabled first

    def matches(self, name: str | None, service_uuids: Sequence[str]) -> bool:
        """Whether an advertisement (name, service UUIDs) is this kind of sensor."""
        if self.service_uuid.lower() in (u.lower() for u in service_uuids):
            return True
        return name is not None and any(name.startswith(p) for p in self.names)

    def nudge_writes(self, nudge: Nudge) -> tuple[Write, ...]:
        """The writes that show `nudge` on the device; empty if it cannot show one."""
        return self.nudges.get(nudge, ())


@dataclass(frozen=True, slots=True)
class Layout:
    """A fixed little-endian frame: an optional header, then samples of `values` numbers each.

    The first three numbers of each sample are x, y, z; they become g by dividing by `per_g`.
    A notification holds one or more whole frames.
    """

    header: bytes
    dtype: str  # numpy dtype of each number, e.g. "<i2"
    values: int  # numbers per sample (3 for accelerometer only, 9 with gyro and compass)
    samples: int  # samples per frame
    per_g: float  # counts per g

    @property
    def frame_size(self) -> int:
        return len(self.header) + np.dtype(self.dtype).itemsize * self.values * self.samples

    def decode(self, payload: bytes) -> Decoded:
        """Samples in g from a payload of whole frames; raises `DecodeError`."""
        size = self.frame_size
        if not payload or len(payload) % size:
            raise DecodeError(f"expected a multiple of {size} bytes", payload)
        frames = np.frombuffer(payload, dtype=np.uint8).reshape(-1, size)
        if self.header and not (frames[:, : len(self.header)] == bytearray(self.header)).all():
            raise DecodeError(f"frame header is not {self.header.hex()}", payload)
        body = np.ascontiguousarray(frames[:, len(self.header) :])
        numbers = body.view(self.dtype).reshape(-1, self.values).astype(np.float64)
        accel = numbers[:, :3] / self.per_g
        if not np.isfinite(accel).all():
            raise DecodeError("non-finite value", payload)
        return Decoded(accel_g=accel)

    def encode(self, accel_g: NDArray[np.floating[Any]]) -> bytes:
        """Frames carrying `accel_g` (n, 3), n a multiple of `samples` (other values zero)."""
        n = accel_g.shape[0]
        if n % self.samples:
            raise ValueError(f"{n} samples do not fill frames of {self.samples}")
        numbers = np.zeros((n, self.values))
        numbers[:, :3] = accel_g * self.per_g
        if np.dtype(self.dtype).kind == "i":
            info = np.iinfo(np.dtype(self.dtype))
            numbers = np.clip(np.rint(numbers), info.min, info.max)
        body = numbers.astype(self.dtype).reshape(n // self.samples, -1).view(np.uint8)
        head = np.tile(np.frombuffer(self.header, dtype=np.uint8), (body.shape[0], 1))
        return np.hstack((head, body)).tobytes()


def samples_g(rows: Sequence[Sequence[float]]) -> NDArray[np.float64]:
    """An (n, 3) array from rows, for tests and tables."""
    return np.asarray(rows, dtype=np.float64).reshape(-1, 3)
