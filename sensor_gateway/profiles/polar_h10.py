"""Polar H10 accelerometer over the Polar Measurement Data (PMD) service.

A data notification is one PMD frame: measurement type (1 byte, 2 = ACC), timestamp of the last
sample (uint64 LE, ns since 2000-01-01), frame type (bit 7 set = delta compressed), then samples.

Raw frame types carry x, y, z as signed little-endian integers in milli-g: type 0 in 1 byte,
type 1 in 2 bytes, type 2 in 3 bytes. Compressed frames start with a reference sample (3 x int16)
followed by delta blocks: delta width in bits (1 byte), sample count (1 byte), then
count x 3 deltas of that width, bit-packed LSB first, two's complement, each block byte aligned.
Compressed type 0 counts are in g times `factor`; compressed type 1 in milli-g times `factor`.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .base import Decoded, DecodeError, Profile, Write

SERVICE = "fb005c80-02e7-f387-1cad-8acd2d8df0c8"
CONTROL = "fb005c81-02e7-f387-1cad-8acd2d8df0c8"
DATA = "fb005c82-02e7-f387-1cad-8acd2d8df0c8"
ACC = 0x02
EPOCH_2000_UNIX_S = 946684800.0
HEADER = 10
RAW_BYTES = {0: 1, 1: 2, 2: 3}  # raw frame type -> bytes per axis value (milli-g)


@dataclass(frozen=True, slots=True)
class Compressed:
    """How a compressed frame type scales its integer samples to g."""

    g_per_count: float  # before the frame's factor


COMPRESSED = {0: Compressed(g_per_count=1.0), 1: Compressed(g_per_count=0.001)}


def start_acc(rate_hz: int = 50, *, resolution_bits: int = 16, range_g: int = 8) -> bytes:
    """The control point request that starts accelerometer streaming.

    >>> start_acc(50).hex(" ")
    '02 02 00 01 32 00 01 01 10 00 02 01 08 00'
    """
    return struct.pack("<BBBBHBBHBBH", 2, ACC, 0, 1, rate_hz, 1, 1, resolution_bits, 2, 1, range_g)


STOP_ACC = bytes((3, ACC))


def _signed(raw: NDArray[np.int64], bits: int) -> NDArray[np.int64]:
    sign = np.int64(1) << (bits - 1)
    return (raw ^ sign) - sign


def _raw(body: bytes, width: int, payload: bytes) -> NDArray[np.float64]:
    if len(body) % (3 * width):
        raise DecodeError(f"raw samples need a multiple of {3 * width} bytes", payload)
    octets = np.frombuffer(body, dtype=np.uint8).reshape(-1, width).astype(np.int64)
    values = (octets << (8 * np.arange(width, dtype=np.int64))).sum(axis=1)
    return _signed(values, 8 * width).reshape(-1, 3).astype(np.float64) / 1000.0


def deltas(block: bytes, *, width: int, count: int) -> NDArray[np.int64]:
    """`count` x 3 signed deltas of `width` bits, packed LSB first, as (count, 3)."""
    bits = np.unpackbits(np.frombuffer(block, dtype=np.uint8), bitorder="little")
    used = bits[: count * 3 * width].reshape(-1, width).astype(np.int64)
    values = (used << np.arange(width, dtype=np.int64)).sum(axis=1)
    return _signed(values, width).reshape(count, 3)


def _compressed(body: bytes, payload: bytes) -> NDArray[np.int64]:
    if len(body) < 6:
        raise DecodeError("compressed frame without a reference sample", payload)
    samples = [np.array(struct.unpack_from("<3h", body), dtype=np.int64).reshape(1, 3)]
    offset = 6
    while offset < len(body):
        if offset + 2 > len(body):
            raise DecodeError("delta block header cut short", payload)
        width, count = body[offset], body[offset + 1]
        offset += 2
        if not 1 <= width <= 32:
            raise DecodeError(f"delta width {width} bits", payload)
        size = (width * count * 3 + 7) // 8
        if offset + size > len(body):
            raise DecodeError("delta block cut short", payload)
        if count:
            steps = deltas(body[offset : offset + size], width=width, count=count)
            samples.append(samples[-1][-1] + np.cumsum(steps, axis=0))
        offset += size
    return np.concatenate(samples)


class Decoder:
    """PMD accelerometer frames to samples in g; `factor` scales compressed frames."""

    def __init__(self, factor: float = 1.0) -> None:
        self.factor = factor

    def __call__(self, payload: bytes) -> Decoded:
        if len(payload) < HEADER:
            raise DecodeError("shorter than a PMD frame header", payload)
        if payload[0] != ACC:
            raise DecodeError(f"measurement type {payload[0]} is not ACC", payload)
        (timestamp_ns,) = struct.unpack_from("<Q", payload, 1)
        frame_type, body = payload[9], payload[HEADER:]
        if frame_type & 0x80:
            kind = COMPRESSED.get(frame_type & 0x7F)
            if kind is None:
                raise DecodeError(f"compressed frame type {frame_type & 0x7F}", payload)
            scale = kind.g_per_count * self.factor
            accel = _compressed(body, payload).astype(np.float64) * scale
        else:
            width = RAW_BYTES.get(frame_type)
            if width is None:
                raise DecodeError(f"raw frame type {frame_type}", payload)
            accel = _raw(body, width, payload)
        if accel.shape[0] == 0:
            raise DecodeError("frame without samples", payload)
        if not np.isfinite(accel).all():
            raise DecodeError("non-finite value", payload)
        return Decoded(accel_g=accel, device_time_s=EPOCH_2000_UNIX_S + timestamp_ns / 1e9)


def encode_raw(accel_g: NDArray[np.floating[Any]], *, device_time_s: float) -> bytes:
    """A raw type 1 frame (16-bit milli-g) whose last sample was taken at `device_time_s`."""
    mg = np.clip(np.rint(np.asarray(accel_g) * 1000.0), -32768, 32767).astype("<i2")
    timestamp_ns = max(0, round((device_time_s - EPOCH_2000_UNIX_S) * 1e9))
    return struct.pack("<BQB", ACC, timestamp_ns, 0x01) + mg.tobytes()


def make(factor: float = 1.0) -> Profile:
    """The Polar H10 profile at 50 Hz, 16 bit, 8 g."""
    return Profile(
        name="polar_h10",
        service_uuid=SERVICE,
        data_uuid=DATA,
        decode=Decoder(factor),
        rate_hz=50.0,
        names=("Polar H10",),
        start=(Write(CONTROL, start_acc(50)),),
        stop=(Write(CONTROL, STOP_ACC),),
        has_device_time=True,
        control_notify=(CONTROL,),  # the H10 only takes requests with indications enabled
    )


PROFILE = make()
