"""Collecting placed notifications into sample batches of about `batch_s` for the analytics.

A batch holds contiguous samples at one rate; a gap, a new segment or a rate change closes it.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from analytics.records import SampleBatch

from .clock import Placed


class Batcher:
    """Samples of one sensor in, `SampleBatch`es out."""

    def __init__(self, sensor_id: str, *, batch_s: float = 1.0) -> None:
        self.sensor_id = sensor_id
        self.batch_s = batch_s
        self.seq = 0
        self._parts: list[NDArray[np.float64]] = []
        self._t0 = 0.0
        self._rate = 1.0
        self._n = 0

    def add(self, placed: Placed, accel_g: NDArray[np.float64]) -> list[SampleBatch]:
        """Add one packet's samples; returns the batches this completes."""
        out: list[SampleBatch] = []
        if self._n:
            expected = self._t0 + self._n / self._rate
            period = 1.0 / placed.rate_hz
            if (
                placed.lost
                or placed.new_segment
                or abs(placed.t0 - expected) > 0.5 * period
                or abs(placed.rate_hz - self._rate) > 1e-3 * self._rate
            ):
                out += self.flush()
        if not self._n:
            self._t0, self._rate = placed.t0, placed.rate_hz
        self._parts.append(accel_g)
        self._n += accel_g.shape[0]
        if self._n >= self.batch_s * self._rate:
            out += self.flush()
        return out

    def flush(self) -> list[SampleBatch]:
        """The batch being filled, if any."""
        if not self._n:
            return []
        batch = SampleBatch(
            sensor_id=self.sensor_id,
            seq=self.seq,
            t0=self._t0,
            rate_hz=self._rate,
            accel_g=np.concatenate(self._parts),
        )
        self.seq += 1
        self._parts, self._n = [], 0
        return [batch]
