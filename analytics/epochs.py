"""One-second epochs: summary features of the samples that fall into each second.

Epoch k covers [k, k + 1) seconds on the stream's time axis, whatever the batch boundaries, so
the features (and everything downstream) do not depend on how samples were chunked. Besides the
per-second statistics, each epoch keeps the mean magnitude |a| of each eighth of its second
(`mag_bins_g`): enough time resolution for the vertical movement of a sit-to-stand (about a
second long) and for step counting, at a fraction of the samples' size.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
from numpy.typing import NDArray

_EPS = 1e-6  # sample times a hair below a second boundary belong to the next epoch
BINS = 8  # sub-second bins of |a| per epoch

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
    mag_bins_g: F64  # (k, BINS) mean |a| in each eighth of the second (the epoch mean if empty)

    def __len__(self) -> int:
        return int(self.t_s.shape[0])

    def take(self, index: slice | NDArray[np.intp] | NDArray[np.bool_]) -> EpochBlock:
        """The epochs selected by `index`."""
        return EpochBlock(**{f.name: getattr(self, f.name)[index] for f in fields(self)})

    @staticmethod
    def empty() -> EpochBlock:
        z, z3 = np.zeros(0), np.zeros((0, 3))
        return EpochBlock(
            t_s=z,
            fill=z,
            mean_g=z3,
            sd_g=z3,
            range_g=z3,
            enmo_g=z,
            mag_sd_g=z,
            mag_bins_g=np.zeros((0, BINS)),
        )

    @staticmethod
    def concat(blocks: list[EpochBlock]) -> EpochBlock:
        blocks = [b for b in blocks if len(b)]
        if not blocks:
            return EpochBlock.empty()
        if len(blocks) == 1:
            return blocks[0]
        return EpochBlock(
            **{
                f.name: np.concatenate([getattr(b, f.name) for b in blocks])
                for f in fields(EpochBlock)
            }
        )


def features(t_s: F64, accel_g: NDArray[np.floating], *, rate_hz: float) -> EpochBlock:
    """Features of every epoch touched by samples at times `t_s` (sorted), shape (n,) and (n, 3).

    `accel_g` may be float32 or float64; the features are float64.
    """
    if t_s.size == 0:
        return EpochBlock.empty()
    sec = np.floor(t_s + _EPS)
    new = np.empty(t_s.size, dtype=bool)
    new[0] = True
    np.not_equal(sec[1:], sec[:-1], out=new[1:])
    starts = np.flatnonzero(new)
    n = np.diff(np.append(starts, t_s.size)).astype(np.float64)
    a = np.asarray(accel_g)
    sq = a * a
    mean = np.add.reduceat(a, starts, axis=0, dtype=np.float64) / n[:, None]
    var = np.add.reduceat(sq, starts, axis=0, dtype=np.float64) / n[:, None] - mean * mean
    mag = np.sqrt(sq.sum(axis=1, dtype=np.float64))
    mag_mean = np.add.reduceat(mag, starts) / n
    mag_var = np.add.reduceat(mag * mag, starts) / n - mag_mean * mag_mean
    return EpochBlock(
        t_s=sec[starts],
        fill=n / rate_hz,
        mean_g=mean,
        sd_g=np.sqrt(np.maximum(var, 0.0)),
        range_g=(
            np.maximum.reduceat(a, starts, axis=0) - np.minimum.reduceat(a, starts, axis=0)
        ).astype(np.float64),
        enmo_g=np.add.reduceat(np.maximum(mag - 1.0, 0.0), starts) / n,
        mag_sd_g=np.sqrt(np.maximum(mag_var, 0.0)),
        mag_bins_g=_bins(t_s, sec, new, mag, mag_mean),
    )


def _bins(
    t_s: F64, sec: F64, new_sec: NDArray[np.bool_], mag: F64, mag_mean: F64
) -> NDArray[np.float64]:
    """Mean |a| per eighth of each epoch, shape (k, BINS); empty bins take the epoch mean."""
    which = np.minimum(((t_s - sec + _EPS) * BINS).astype(np.intp), BINS - 1)
    new = new_sec.copy()
    new[1:] |= which[1:] != which[:-1]
    starts = np.flatnonzero(new)
    counts = np.diff(np.append(starts, t_s.size))
    row = np.cumsum(new_sec)[starts] - 1
    out = np.repeat(mag_mean[:, None], BINS, axis=1)
    out[row, which[starts]] = np.add.reduceat(mag, starts) / counts
    return out


class Epocher:
    """Turns a stream of sample batches from one sensor into complete epochs.

    An epoch is complete once a sample of a later second arrives; `flush` completes the last one.
    Samples older than the epoch being filled are dropped and counted in `late_samples`.
    """

    def __init__(self) -> None:
        self._t: list[F64] = []
        self._a: list[NDArray[np.floating]] = []
        self._rate_hz = 1.0
        self._current = -np.inf  # index of the epoch being filled
        self.late_samples = 0

    def push(self, t_s: F64, accel_g: NDArray[np.floating], *, rate_hz: float) -> EpochBlock:
        """Add samples at times `t_s` (sorted); return the epochs they complete."""
        if t_s.size == 0:
            return EpochBlock.empty()
        if t_s[0] + _EPS < self._current:
            keep = np.floor(t_s + _EPS) >= self._current
            self.late_samples += int((~keep).sum())
            t_s, accel_g = t_s[keep], accel_g[keep]
            if t_s.size == 0:
                return EpochBlock.empty()
        self._rate_hz = rate_hz
        last = float(np.floor(t_s[-1] + _EPS))
        if last == self._current:  # still filling the same second
            self._t.append(t_s)
            self._a.append(accel_g)
            return EpochBlock.empty()
        split = int(np.searchsorted(t_s, last - _EPS, side="left"))
        self._t.append(t_s[:split])
        self._a.append(accel_g[:split])
        t, a = _joined(self._t, self._a)
        self._t, self._a, self._current = [t_s[split:]], [accel_g[split:]], last
        return features(t, a, rate_hz=rate_hz)

    def flush(self) -> EpochBlock:
        """Complete the epoch being filled."""
        t, a = _joined(self._t, self._a)
        self._t, self._a = [], []
        return features(t, a, rate_hz=self._rate_hz)


def _joined(ts: list[F64], accs: list[NDArray[np.floating]]) -> tuple[F64, NDArray[np.floating]]:
    if len(ts) == 1:
        return ts[0], accs[0]
    if not ts:
        return np.zeros(0), np.zeros((0, 3))
    return np.concatenate(ts), np.concatenate(accs)
