"""Recording one sensor to a trace CSV, optionally with the raw notifications and receive times.

The samples go through the same decoder and clock model as in the gateway; gaps stay gaps.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import numpy as np

from analytics.records import Trace

from .clock import ClockModel
from .connection import Connected, Lost, Notification, SensorLink
from .profiles import DecodeError
from .traces import write_trace


@dataclass(frozen=True, slots=True)
class RecordingResult:
    samples: int
    lost: int
    bad_packets: int
    connects: int


async def record(
    link: SensorLink, *, seconds: float, out: Path, raw: Path | None = None
) -> RecordingResult:
    """Record `seconds` (real time) of `link` into `out` (trace CSV) and `raw` (hex payloads)."""
    clock = ClockModel(link.profile.rate_hz, gap_tolerance_s=0.5 * link.timebase.speed)
    times: list[np.ndarray] = []
    rows: list[np.ndarray] = []
    bad = 0
    with contextlib.ExitStack() as stack:
        raw_file: TextIO | None = None
        if raw is not None:
            raw_file = stack.enter_context(raw.open("w"))
            raw_file.write("received_s,payload_hex\n")

        async def consume() -> None:
            nonlocal bad
            async for event in link.events():
                if isinstance(event, Notification):
                    if raw_file is not None:
                        raw_file.write(f"{event.received_s:.6f},{event.data.hex()}\n")
                    try:
                        decoded = link.profile.decode(event.data)
                    except DecodeError:
                        bad += 1
                        continue
                    placed = clock.place(
                        len(decoded), event.received_s, device_time_s=decoded.device_time_s
                    )
                    times.append(placed.t0 + np.arange(len(decoded)) / placed.rate_hz)
                    rows.append(decoded.accel_g)
                elif isinstance(event, Connected | Lost):
                    clock.reset()

        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await consume()
    await link.finder.close()
    if times:
        write_trace(
            out,
            Trace(
                t_s=np.concatenate(times),
                accel_g=np.concatenate(rows),
                rate_hz=link.profile.rate_hz,
                source=link.address,
            ),
        )
    return RecordingResult(
        samples=int(sum(len(t) for t in times)),
        lost=clock.lost,
        bad_packets=bad,
        connects=link.connects,
    )
