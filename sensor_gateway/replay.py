"""Recorded traces replayed as live sensor streams, in time order, at any speed."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Mapping

import numpy as np

from analytics.records import SampleBatch, Trace

from .service import SensorKey


async def replay(
    traces: Mapping[SensorKey, Trace],
    *,
    speed: float = 0.0,
    batch_s: float = 1.0,
) -> AsyncIterator[tuple[SensorKey, SampleBatch]]:
    """Batches of every trace, interleaved by time.

    `speed` is the multiple of real time (60 = a minute per second); 0 replays as fast as the
    consumer takes them, yielding to the event loop between batches.
    """
    batches = [
        (key, batch)
        for key, trace in traces.items()
        for batch in trace.batches(
            sensor_id=f"{key.wearer_id}/{key.placement.value}", max_s=batch_s
        )
    ]
    order = np.argsort([b.t0 for _, b in batches], kind="stable")
    if not batches:
        return
    t_first = batches[order[0]][1].t0
    started = time.monotonic()
    for i in order:
        key, batch = batches[i]
        if speed > 0:
            due = started + (batch.t_end - t_first) / speed
            await asyncio.sleep(max(0.0, due - time.monotonic()))
        else:
            await asyncio.sleep(0)
        yield key, batch
