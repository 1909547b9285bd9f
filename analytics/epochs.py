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
_BIN_OFFSETS = np.arange(BINS) / BINS

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
    mean_var_g2: F64  # (k,) variance of mean_g from the samples' own scatter: sum(sd^2) / n

    def __len__(self) -> int:
        return int(self.t_s.shape[0])

    def take(self, index: slice | NDArray[np.intp] | NDArray[np.bool_]) -> EpochBlock:
        """The epochs selected by `index`."""
        return EpochBlock(**{name: getattr(self, name)[index] for name in _NAMES})

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
            mean_var_g2=z,
        )

    @staticmethod
    def concat(blocks: list[EpochBlock]) -> EpochBlock:
        blocks = [b for b in blocks if len(b)]
        if not blocks:
            return EpochBlock.empty()
        if len(blocks) == 1:
            return blocks[0]
        return EpochBlock(
            **{name: np.concatenate([getattr(b, name) for b in blocks]) for name in _NAMES}
        )


_NAMES = tuple(f.name for f in fields(EpochBlock))


def features(t_s: F64, accel_g: NDArray[np.floating], *, rate_hz: float) -> EpochBlock:
    """Features of every epoch touched by samples at times `t_s` (sorted), shape (n,) and (n, 3).

    `accel_g` may be float32 or float64; the features are float64.
    """
    if t_s.size == 0:
        return EpochBlock.empty()
    first, last = np.floor(t_s[0] + _EPS), np.floor(t_s[-1] + _EPS)
    seconds = np.arange(first, last + 1.0)
    edges = np.searchsorted(t_s, (seconds[:, None] + _BIN_OFFSETS).ravel() - _EPS)
    edges = edges.reshape(seconds.size, BINS)
    bounds = np.append(edges[:, 0], t_s.size)
    counts = np.diff(bounds)
    present = counts > 0
    starts = edges[present, 0]
    n = counts[present].astype(np.float64)
    a = np.asarray(accel_g, dtype=np.float64)
    x, y, z = a[:, 0], a[:, 1], a[:, 2]
    m2 = x * x
    m2 += y * y
    m2 += z * z
    mag = np.sqrt(m2)
    mean = np.add.reduceat(a, starts, axis=0) / n[:, None]
    var = np.add.reduceat(a * a, starts, axis=0) / n[:, None] - mean * mean
    mag_mean = np.add.reduceat(mag, starts) / n
    mag_var = np.add.reduceat(m2, starts) / n - mag_mean * mag_mean
    excess = mag - 1.0
    np.maximum(excess, 0.0, out=excess)
    var = np.maximum(var, 0.0)
    return EpochBlock(
        t_s=seconds[present],
        fill=n / rate_hz,
        mean_g=mean,
        sd_g=np.sqrt(var),
        range_g=np.maximum.reduceat(a, starts, axis=0) - np.minimum.reduceat(a, starts, axis=0),
        enmo_g=np.add.reduceat(excess, starts) / n,
        mag_sd_g=np.sqrt(np.maximum(mag_var, 0.0)),
        mag_bins_g=_bins(
            mag,
            edges[present],
            np.append(edges[present, 1:], bounds[1:][present, None], axis=1),
            mag_mean,
        ),
        mean_var_g2=var.sum(axis=1) / n,
    )


def _bins(mag: F64, lo: NDArray[np.intp], hi: NDArray[np.intp], mag_mean: F64) -> F64:
    """Mean |a| per eighth of each epoch, (k, BINS), from bin bounds [lo, hi) into `mag`.

    Empty bins take the epoch's mean.
    """
    counts = (hi - lo).ravel()
    full = counts > 0
    sums = np.add.reduceat(mag, lo.ravel()[full])
    out = np.repeat(mag_mean[:, None], BINS, axis=1).ravel()
    out[full] = sums / counts[full]
    return out.reshape(lo.shape)


class Epocher:
    """Holds one sensor's samples until the aligner takes their complete epochs.

    Every second before the one being filled (`filling_s`) is complete. Samples of seconds
    already taken, or not later than the latest sample already pushed (a clock that stepped
    back), are dropped and counted in `late_samples`: time never goes backwards.
    """

    def __init__(self) -> None:
        self._t: list[F64] = []
        self._a: list[NDArray[np.floating]] = []
        self._rate_hz = 1.0
        self.filling_s = -np.inf  # the second the latest samples belong to
        self.first_s = np.inf  # the first second held
        self._taken_s = -np.inf  # seconds before this were taken
        self._latest_t = -np.inf  # time of the latest sample pushed
        self.late_samples = 0

    def push(self, t_s: F64, accel_g: NDArray[np.floating], *, rate_hz: float) -> None:
        """Add samples at times `t_s` (sorted)."""
        if t_s.size == 0:
            return
        if t_s[0] <= self._latest_t or t_s[0] + _EPS < self._taken_s:
            keep = (t_s > self._latest_t) & (np.floor(t_s + _EPS) >= self._taken_s)
            self.late_samples += int((~keep).sum())
            t_s, accel_g = t_s[keep], accel_g[keep]
            if t_s.size == 0:
                return
        self._latest_t = float(t_s[-1])
        self._rate_hz = rate_hz
        self._t.append(t_s)
        self._a.append(accel_g)
        self.filling_s = float(np.floor(t_s[-1] + _EPS))
        self.first_s = min(self.first_s, float(np.floor(t_s[0] + _EPS)))

    def take(self, until_s: float) -> EpochBlock:
        """The epochs of the seconds before `until_s`, which are then let go."""
        self._taken_s = max(self._taken_s, until_s)
        if not self._t:
            return EpochBlock.empty()
        t, a = _joined(self._t, self._a)
        split = int(np.searchsorted(t, until_s - _EPS, side="left"))
        self._t, self._a = ([t[split:]], [a[split:]]) if split < t.size else ([], [])
        self.first_s = float(np.floor(t[split] + _EPS)) if split < t.size else np.inf
        return features(t[:split], a[:split], rate_hz=self._rate_hz)


def _joined(ts: list[F64], accs: list[NDArray[np.floating]]) -> tuple[F64, NDArray[np.floating]]:
    if len(ts) == 1:
        return ts[0], accs[0]
    return np.concatenate(ts), np.concatenate(accs)
