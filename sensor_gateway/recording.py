"""Recording one sensor to a trace CSV, optionally with the raw notifications and receive times.

The samples go through the gateway's own `SensorStream` (decoder, clock model, batches), so
`posture record` and `posture gateway` time-stamp a stream alike; gaps stay gaps.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import numpy as np

from analytics.records import SampleBatch, Trace

from .connection import Connected, Lost, Notification, SensorLink
from .stream import SensorStream
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
    speed = link.timebase.speed  # the gateway's tolerances, in real seconds
    stream = SensorStream(
        link.address, link.profile, gap_tolerance_s=0.5 * speed, clock_window_s=10.0 * speed
    )
    batches: list[SampleBatch] = []
    with contextlib.ExitStack() as stack:
        raw_file: TextIO | None = None
        if raw is not None:
            raw_file = stack.enter_context(raw.open("w"))
            raw_file.write("received_s,payload_hex\n")

        async def consume() -> None:
            async for event in link.events():
                if isinstance(event, Notification):
                    if raw_file is not None:
                        raw_file.write(f"{event.received_s:.6f},{event.data.hex()}\n")
                    batches.extend(stream.notification(event.data, event.received_s))
                elif isinstance(event, Connected):
                    stream.connected()
                elif isinstance(event, Lost):
                    batches.extend(stream.lost_link())

        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await consume()
    batches.extend(stream.finish())
    await link.finder.close()
    if batches:
        write_trace(
            out,
            Trace(
                t_s=np.concatenate([b.t0 + np.arange(len(b.accel_g)) / b.rate_hz for b in batches]),
                accel_g=np.concatenate([b.accel_g for b in batches]),
                rate_hz=link.profile.rate_hz,
                source=link.address,
            ),
        )
    return RecordingResult(
        samples=stream.samples,
        lost=stream.lost_total,
        bad_packets=stream.bad_packets,
        connects=link.connects,
    )
