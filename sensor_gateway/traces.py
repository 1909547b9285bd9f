"""Recorded traces: CSV or Parquet files with the columns `t_s, ax, ay, az` (seconds, and
acceleration in g; other columns are ignored), and research devices' own files (Axivity `.cwa`,
GENEActiv `.bin`, ActiGraph `.gt3x`).

Reading validates everything and reports the first problem as a `TraceError`: one line naming
the file and, where there is one, the line (CSV), row (Parquet) or sample (device file). What is
refused, and the limits (docs/traces.md lists them for users):

- anything but a regular file (a directory, a device, a FIFO), and CSV files over
  `csvtrace.MAX_CSV_BYTES`, before anything is read; binary, UTF-16 and other non-UTF-8 text;
- a missing column, text in a number, NaN or infinity, time going backwards or standing still;
- accelerations beyond any accelerometer's range (|a| > `MAX_ACCEL_G`), times outside
  `TIME_RANGE_S` (seconds from the recording's start, or unix seconds up to 2100), sample rates
  outside `RATE_RANGE_HZ`.

Sampling jitter is resampled onto a uniform grid; gaps longer than `MAX_BRIDGE_S` are kept as
gaps, never filled with invented samples.
"""

from __future__ import annotations

import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np
from numpy.typing import NDArray

from analytics.records import Trace

COLUMNS: Final = ("t_s", "ax", "ay", "az")
MAX_BRIDGE_S: Final = 1.0  # shorter holes are interpolated over, longer ones stay gaps
JITTER_TOLERANCE: Final = 0.05  # sample intervals within 5 % of nominal are taken as regular
MAX_ACCEL_G: Final = 64.0  # beyond the range of any body-worn accelerometer (+-16 g is usual)
TIME_RANGE_S: Final = (0.0, 4_102_444_800.0)  # up to 2100-01-01 in unix seconds
RATE_RANGE_HZ: Final = (1.0, 5000.0)
MAX_GROWTH: Final = 4  # resampling may not make more than this many times the samples read
PARQUET_SUFFIXES: Final = (".parquet", ".pq")
DEVICE_SUFFIXES: Final = (".cwa", ".bin", ".gt3x")  # Axivity, GENEActiv, ActiGraph


class TraceError(ValueError):
    """A trace file that cannot be used, with the reason and where."""


Where = Callable[[int], str]  # a sample's index -> where it is in the file ("line 12")


def _nominal_rate(dt: NDArray[np.float64]) -> float:
    """The sample rate from the median interval, snapped to a round number within 1 %.

    Reorders `dt` (no copy of a day's intervals is made)."""
    rate = 1.0 / float(np.median(dt, overwrite_input=True))
    for step in (10.0, 1.0, 0.1):
        snapped = round(rate / step) * step
        if snapped and abs(snapped - rate) / rate < 0.01:
            return snapped
    return rate


def _check(path: Path, t: NDArray[np.float64], a: NDArray[np.floating], where: Where) -> None:
    """Finite values, accelerations and times within range (their order: `_timing`)."""
    if t.size == 0:
        raise TraceError(f"{path}: no samples")
    # min and max first (no temporaries: a day at 50 Hz is 4 million rows); find the row after
    lo_t, hi_t, lo_a, hi_a = (float(f(x)) for x in (t, a) for f in (np.min, np.max))
    if not np.isfinite([lo_t, hi_t, lo_a, hi_a]).all():  # NaN and infinity show in min or max
        for name, column in zip(COLUMNS, (t, a[:, 0], a[:, 1], a[:, 2]), strict=True):
            finite = np.isfinite(column)
            if not finite.all():
                i = int(np.argmin(finite))
                raise TraceError(f"{path} {where(i)}: {name} is {column[i]} (must be finite)")
    if max(-lo_a, hi_a) > MAX_ACCEL_G:
        i, k = (int(v) for v in np.argwhere(np.abs(a) > MAX_ACCEL_G)[0])
        raise TraceError(
            f"{path} {where(i)}: {COLUMNS[k + 1]} is {float(a[i, k]):g} g, beyond any "
            f"accelerometer's range (+-{MAX_ACCEL_G:g} g): are the units g?"
        )
    lo, hi = TIME_RANGE_S
    if lo_t < lo or hi_t > hi:
        i = int(np.argmax((t < lo) | (t > hi)))
        raise TraceError(
            f"{path} {where(i)}: t_s is {t[i]:g}, outside {lo:g} to {hi:.0f} (seconds from "
            "the recording's start, or unix seconds up to 2100)"
        )


@dataclass(frozen=True, slots=True)
class _Timing:
    rate_hz: float
    gaps: NDArray[np.intp]  # indexes of the samples that start a new segment
    jitter: float  # largest deviation of an interval from the period, as a fraction of it


def _timing(path: Path, t: NDArray[np.float64], where: Where) -> _Timing:
    """The sample rate, gaps and jitter of times that must increase (checked here)."""
    if t.size < 2:
        raise TraceError(f"{path}: a trace needs at least two samples")
    dt = np.diff(t)
    if float(np.min(dt)) <= 0:
        i = int(np.argmax(dt <= 0))
        raise TraceError(
            f"{path} {where(i + 1)}: time goes {'backwards' if dt[i] < 0 else 'nowhere'} "
            f"(t_s {t[i + 1]:g} after {t[i]:g})"
        )
    gaps = np.flatnonzero(dt > MAX_BRIDGE_S) + 1
    short = dt if gaps.size == 0 else dt[dt <= MAX_BRIDGE_S]
    lo, hi = (float(np.min(short)), float(np.max(short))) if short.size else (1.0, 1.0)
    rate = _nominal_rate(dt)  # reorders dt: nothing reads it after this
    rate_lo, rate_hi = RATE_RANGE_HZ
    if not rate_lo <= rate <= rate_hi:
        raise TraceError(
            f"{path}: a sample rate of {rate:g} Hz (from the median interval) is outside "
            f"{rate_lo:g} to {rate_hi:g} Hz"
        )
    jitter = max(hi - 1.0 / rate, 1.0 / rate - lo) * rate if short.size else 0.0
    return _Timing(rate, gaps, jitter)


def _regularise(
    path: Path, t: NDArray[np.float64], a: NDArray[np.floating], timing: _Timing
) -> tuple[NDArray[np.float64], NDArray[np.floating], list[str]]:
    """Samples on the grid t0 + i / rate, segment by segment between gaps."""
    rate, gaps, jitter = timing.rate_hz, timing.gaps, timing.jitter
    period = 1.0 / rate
    bounds = np.concatenate(([0], gaps, [t.size]))
    span = t[bounds[1:] - 1] - t[bounds[:-1]]  # a thousandth of a sample: rounding of unix times
    counts = np.floor(span * rate + 1e-3).astype(np.int64) + 1
    if counts.sum() > MAX_GROWTH * t.size + 1000:
        raise TraceError(
            f"{path}: irregular sampling: {t.size:,} samples would become "
            f"{int(counts.sum()):,} on a {rate:g} Hz grid"
        )
    notes = []
    if gaps.size:
        notes.append(f"{gaps.size} gap(s) longer than {MAX_BRIDGE_S:g} s kept as gaps")
    if jitter > JITTER_TOLERANCE:
        notes.append(
            f"irregular sampling (jitter up to {jitter:.0%}) resampled onto a {rate:g} Hz grid"
        )
    if gaps.size == 0 and counts[0] == t.size and jitter <= JITTER_TOLERANCE:
        grid = np.arange(t.size, dtype=np.float64)  # in place: a day is 4 million samples
        grid *= period
        grid += t[0]
        return grid, a, notes  # the samples themselves are not copied
    t_out, a_out = [], []
    for lo, hi, n in zip(bounds[:-1].tolist(), bounds[1:].tolist(), counts.tolist(), strict=True):
        ts, seg = t[lo:hi], a[lo:hi]
        grid = ts[0] + np.arange(n) * period
        if jitter > JITTER_TOLERANCE or n != ts.size:  # jitter, or short holes to bridge
            seg = np.column_stack([np.interp(grid, ts, seg[:, k]) for k in range(3)])
        t_out.append(grid)
        a_out.append(seg.astype(a.dtype, copy=False))
    return np.concatenate(t_out), np.concatenate(a_out), notes


def _regular_file(path: Path) -> None:
    """Raises `TraceError` unless `path` is a regular file (`OSError` if it cannot be looked at)."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise TraceError(f"{path}: no such file") from None
    if not stat.S_ISREG(mode):
        kind = "a directory" if stat.S_ISDIR(mode) else "a device, FIFO or socket"
        raise TraceError(f"{path}: not a regular file ({kind})")


def read_trace(path: Path | str) -> tuple[Trace, list[str]]:
    """Read and validate a trace; returns it and notes on what was repaired.

    Raises `TraceError` for a file that cannot be used, `OSError` for one that cannot be read.
    """
    path = Path(path)
    _regular_file(path)
    suffix = path.suffix.lower()
    notes: list[str] = []
    where: Where
    if suffix in PARQUET_SUFFIXES:
        from .parquettrace import read_parquet

        t, a = read_parquet(path)
        where = lambda i: f"row {i + 1}"  # noqa: E731
    elif suffix in DEVICE_SUFFIXES:
        from .devicefiles import read_device

        t, a, notes = read_device(path)
        where = lambda i: f"sample {i + 1}"  # noqa: E731
    else:
        from .csvtrace import line_of_row, read_csv

        t, a = read_csv(path)
        where = lambda i: f"line {line_of_row(path, i)}"  # noqa: E731
    _check(path, t, a, where)
    timing = _timing(path, t, where)
    t, a, more = _regularise(path, t, a, timing)
    return Trace(t_s=t, accel_g=a, rate_hz=timing.rate_hz, source=str(path)), notes + more


def write_trace(path: Path | str, trace: Trace) -> None:
    """Write `trace` in the form `read_trace` reads: Parquet for `.parquet`, else CSV."""
    path = Path(path)
    if path.suffix.lower() in PARQUET_SUFFIXES:
        from .parquettrace import write_parquet

        write_parquet(path, trace)
        return
    data = np.column_stack((trace.t_s, trace.accel_g))
    np.savetxt(
        path,
        data,
        fmt=("%.3f", "%.4f", "%.4f", "%.4f"),
        delimiter=",",
        header=",".join(COLUMNS),
        comments="",
    )
