"""One-second epochs: summary features of the samples that fall into each second.

Epoch k covers [k, k + 1) seconds on the stream's time axis, whatever the batch boundaries, so
the features (and everything downstream) do not depend on how samples were chunked.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
from numpy.typing import NDArray

_EPS = 1e-6  # sample times a hair below a second boundary belong to the next epoch

F64 = NDArray[np.float64]


@dataclass(frozen=True, slots=True, eq=False)
class EpochBlock:
    """Features of consecutive (not necessarily contiguous) epochs of one sensor."""

    t_s: F64  # (k,) start of each epoch, integer seconds
    fill: F64  # (k,) samples present / samples expected at the nominal rate
    mean_g: F64  # (k, 3) mean acceleration: the gravity direction (low-pass)
    sd_g: F64  # (k, 3) standard deviation per axis
    range_g: F64  # (k, 3) max - min per axis
    enmo_g: F64  # (k,) mean of max(|a| - 1, 0)
    mag_sd_g: F64  # (k,) standard deviation of |a|

    def __len__(self) -> int:
        return int(self.t_s.shape[0])

    def take(self, index: slice | NDArray[np.intp] | NDArray[np.bool_]) -> EpochBlock:
        """The epochs selected by `index`."""
        return EpochBlock(**{f.name: getattr(self, f.name)[index] for f in fields(self)})

    @staticmethod
    def empty() -> EpochBlock:
        z, z3 = np.zeros(0), np.zeros((0, 3))
        return EpochBlock(t_s=z, fill=z, mean_g=z3, sd_g=z3, range_g=z3, enmo_g=z, mag_sd_g=z)

    @staticmethod
    def concat(blocks: list[EpochBlock]) -> EpochBlock:
        if not blocks:
            return EpochBlock.empty()
        return EpochBlock(
            **{
                f.name: np.concatenate([getattr(b, f.name) for b in blocks])
                for f in fields(EpochBlock)
            }
        )


def features(t_s: F64, accel_g: F64, *, rate_hz: float) -> EpochBlock:
    """Features of every epoch touched by samples at times `t_s` (sorted), shape (n,) and (n, 3)."""
    if t_s.size == 0:
        return EpochBlock.empty()
    idx = np.floor(t_s + _EPS)
    starts = np.flatnonzero(np.concatenate(([True], idx[1:] != idx[:-1])))
    n = np.diff(np.concatenate((starts, [t_s.size]))).astype(np.float64)
    mean = np.add.reduceat(accel_g, starts, axis=0) / n[:, None]
    var = np.add.reduceat(accel_g * accel_g, starts, axis=0) / n[:, None] - mean * mean
    mag = np.linalg.norm(accel_g, axis=1)
    mag_mean = np.add.reduceat(mag, starts) / n
    mag_var = np.add.reduceat(mag * mag, starts) / n - mag_mean * mag_mean
    return EpochBlock(
        t_s=idx[starts],
        fill=n / rate_hz,
        mean_g=mean,
        sd_g=np.sqrt(np.maximum(var, 0.0)),
        range_g=np.maximum.reduceat(accel_g, starts, axis=0)
        - np.minimum.reduceat(accel_g, starts, axis=0),
        enmo_g=np.add.reduceat(np.maximum(mag - 1.0, 0.0), starts) / n,
        mag_sd_g=np.sqrt(np.maximum(mag_var, 0.0)),
    )


class Epocher:
    """Turns a stream of sample batches from one sensor into complete epochs.

    An epoch is complete once a sample of a later second arrives; `flush` completes the last one.
    Samples older than the epoch being filled are dropped and counted in `late_samples`.
    """

    def __init__(self) -> None:
        self._t = np.zeros(0)
        self._a = np.zeros((0, 3))
        self._rate_hz = 1.0
        self._current = -np.inf  # index of the epoch being filled
        self.late_samples = 0

    def push(self, t_s: F64, accel_g: F64, *, rate_hz: float) -> EpochBlock:
        """Add samples at times `t_s` (sorted); return the epochs they complete."""
        keep = np.floor(t_s + _EPS) >= self._current
        if not keep.all():
            self.late_samples += int((~keep).sum())
            t_s, accel_g = t_s[keep], accel_g[keep]
        if t_s.size == 0:
            return EpochBlock.empty()
        self._rate_hz = rate_hz
        t = np.concatenate((self._t, t_s))
        a = np.concatenate((self._a, accel_g))
        last = np.floor(t[-1] + _EPS)
        split = int(np.searchsorted(t, last - _EPS, side="left"))
        self._t, self._a, self._current = t[split:], a[split:], last
        return features(t[:split], a[:split], rate_hz=rate_hz)

    def flush(self) -> EpochBlock:
        """Complete the epoch being filled."""
        block = features(self._t, self._a, rate_hz=self._rate_hz)
        self._t, self._a = np.zeros(0), np.zeros((0, 3))
        return block
