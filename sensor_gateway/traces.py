"""Recorded traces in CSV form: `t_s, ax, ay, az` in g (extra columns are ignored).

Reading validates everything (columns, numbers, finite values, time order) and reports the first
problem as a `TraceError` naming the file and line. Sampling jitter is resampled onto a uniform
grid; gaps longer than `MAX_BRIDGE_S` are kept as gaps, never filled with invented samples.
"""

from __future__ import annotations

import csv
import re
import warnings
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from analytics.records import Trace

COLUMNS = ("t_s", "ax", "ay", "az")
MAX_BRIDGE_S = 1.0  # shorter holes are interpolated over, longer ones stay gaps
JITTER_TOLERANCE = 0.05  # sample intervals within 5 % of nominal are taken as regular
_NUMPY_ROW = re.compile(r"at row (\d+), column (\d+)")


class TraceError(ValueError):
    """A trace file that cannot be used, with the reason and where."""


def _nominal_rate(dt: NDArray[np.float64]) -> float:
    """The sample rate from the median interval, snapped to a round number within 1 %."""
    rate = 1.0 / float(np.median(dt))
    for step in (10.0, 1.0, 0.1):
        snapped = round(rate / step) * step
        if snapped and abs(snapped - rate) / rate < 0.01:
            return snapped
    return rate


def _header(path: Path) -> list[str]:
    with path.open(newline="") as f:
        try:
            first = next(csv.reader(f))
        except StopIteration:
            raise TraceError(f"{path}: empty file") from None
    header = [h.strip() for h in first]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise TraceError(
            f"{path}: missing column(s) {', '.join(missing)} (needs {', '.join(COLUMNS)}; "
            f"header has {', '.join(header) or 'nothing'})"
        )
    return header


def _load(path: Path, header: list[str]) -> NDArray[np.float64]:
    cols = [header.index(c) for c in COLUMNS]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "input contained no data": checked below
            data = np.loadtxt(
                path, delimiter=",", skiprows=1, usecols=cols, dtype=np.float64, ndmin=2
            )
    except ValueError as err:
        match = _NUMPY_ROW.search(str(err))
        if match is None:
            raise TraceError(f"{path}: {str(err).splitlines()[0]}") from None
        row, col = int(match[1]), int(match[2])  # data row from 0, file column from 1
        line = row + 2
        bad = str(err).split("'")[1] if "'" in str(err) else "?"
        name = header[col - 1] if 0 < col <= len(header) else f"column {col}"
        raise TraceError(f"{path} line {line}: {name} is not a number: {bad!r}") from None
    if data.shape[0] == 0:
        raise TraceError(f"{path}: no samples after the header")
    return data


def _check(path: Path, data: NDArray[np.float64]) -> None:
    finite = np.isfinite(data)
    if not finite.all():
        row, col = np.argwhere(~finite)[0]
        raise TraceError(
            f"{path} line {row + 2}: {COLUMNS[col]} is {data[row, col]} (must be finite)"
        )
    dt = np.diff(data[:, 0])
    if (dt <= 0).any():
        i = int(np.argmax(dt <= 0))
        raise TraceError(
            f"{path} line {i + 3}: time goes {'backwards' if dt[i] < 0 else 'nowhere'} "
            f"(t_s {data[i + 1, 0]:g} after {data[i, 0]:g})"
        )
    if data.shape[0] < 2:
        raise TraceError(f"{path}: a trace needs at least two samples")


def _regularise(
    t: NDArray[np.float64], a: NDArray[np.float64], rate: float
) -> tuple[NDArray[np.float64], NDArray[np.float64], list[str]]:
    """Samples on the grid t0 + i / rate, segment by segment between gaps."""
    period = 1.0 / rate
    dt = np.diff(t)
    gaps = np.flatnonzero(dt > MAX_BRIDGE_S) + 1
    bounds = np.concatenate(([0], gaps, [t.size]))
    notes = []
    if gaps.size:
        notes.append(f"{gaps.size} gap(s) longer than {MAX_BRIDGE_S:g} s kept as gaps")
    jitter = float(np.max(np.abs(dt[dt <= MAX_BRIDGE_S] - period)) / period) if dt.size else 0.0
    if jitter > JITTER_TOLERANCE:
        notes.append(
            f"irregular sampling (jitter up to {jitter:.0%}) resampled onto a {rate:g} Hz grid"
        )
    t_out, a_out = [], []
    for lo, hi in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True):
        ts, seg = t[lo:hi], a[lo:hi]
        n = int(np.floor((ts[-1] - ts[0]) * rate + 1e-6)) + 1
        grid = ts[0] + np.arange(n) * period
        if jitter > JITTER_TOLERANCE or n != ts.size:  # jitter, or short holes to bridge
            seg = np.column_stack([np.interp(grid, ts, seg[:, k]) for k in range(3)])
        t_out.append(grid)
        a_out.append(seg)
    return np.concatenate(t_out), np.concatenate(a_out), notes


def read_trace(path: Path | str) -> tuple[Trace, list[str]]:
    """Read and validate a trace; returns it and notes on what was repaired.

    Raises `TraceError` for a file that cannot be used, `OSError` for one that cannot be read.
    """
    path = Path(path)
    if not path.is_file():
        raise TraceError(f"{path}: no such file")
    header = _header(path)
    data = _load(path, header)
    _check(path, data)
    t, a = data[:, 0], data[:, 1:4]
    rate = _nominal_rate(np.diff(t))
    t, a, notes = _regularise(t, a, rate)
    return Trace(t_s=t, accel_g=a, rate_hz=rate, source=str(path)), notes


def write_trace(path: Path | str, trace: Trace) -> None:
    """Write `trace` in the CSV form that `read_trace` reads."""
    data = np.column_stack((trace.t_s, trace.accel_g))
    np.savetxt(
        Path(path),
        data,
        fmt=("%.3f", "%.4f", "%.4f", "%.4f"),
        delimiter=",",
        header=",".join(COLUMNS),
        comments="",
    )
