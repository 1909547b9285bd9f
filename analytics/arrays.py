"""Small numpy helpers used across the analytics."""

from __future__ import annotations

from typing import Any, TypeVar

import numpy as np
from numpy.typing import NDArray

T = TypeVar("T", bound=np.generic)


def runs(values: NDArray[Any]) -> tuple[NDArray[np.intp], NDArray[np.intp], NDArray[Any]]:
    """Run-length encode a 1-D array.

    Returns (starts, lengths, values) of the maximal runs of equal values.

    >>> s, n, v = runs(np.array([1, 1, 2, 2, 2, 1]))
    >>> s.tolist(), n.tolist(), v.tolist()
    ([0, 2, 5], [2, 3, 1], [1, 2, 1])
    """
    if values.size == 0:
        empty = np.zeros(0, dtype=np.intp)
        return empty, empty, values[:0]
    change = np.flatnonzero(values[1:] != values[:-1]) + 1
    starts = np.concatenate(([0], change)).astype(np.intp)
    lengths = np.diff(np.concatenate((starts, [values.size]))).astype(np.intp)
    return starts, lengths, values[starts]


def angle_deg(a: NDArray[np.float64], b: NDArray[np.float64]) -> NDArray[np.float64]:
    """Angle between vectors along the last axis, in degrees (NaN where either is zero).

    >>> float(angle_deg(np.array([0.0, 0.0, 1.0]), np.array([0.0, 1.0, 1.0])).round(3))
    45.0
    """
    dot = _sum3(a * b)
    norm = np.sqrt(_sum3(a * a)) * np.sqrt(_sum3(b * b))
    with np.errstate(invalid="ignore", divide="ignore"):
        cos = np.clip(dot / norm, -1.0, 1.0)
    return np.asarray(np.degrees(np.arccos(cos)), dtype=np.float64)


def _sum3(x: NDArray[np.float64]) -> NDArray[np.float64]:
    """Sum over a last axis of length 3 in a fixed order (the same bits for any batch size)."""
    out: NDArray[np.float64] = x[..., 0] + x[..., 1] + x[..., 2]
    return out


def unit(v: NDArray[np.float64]) -> NDArray[np.float64]:
    """Vectors along the last axis scaled to length 1 (zero vectors stay zero).

    >>> unit(np.array([3.0, 0.0, 4.0])).tolist()
    [0.6, 0.0, 0.8]
    """
    norm = np.sqrt(_sum3(v * v))[..., None]
    out: NDArray[np.float64] = np.divide(v, norm, out=np.zeros_like(v), where=norm > 0)
    return out


def run_bounds(mask: NDArray[np.bool_]) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """(starts, ends) of the runs of True in `mask`, ends exclusive.

    >>> s, e = run_bounds(np.array([True, True, False, True]))
    >>> s.tolist(), e.tolist()
    ([0, 3], [2, 4])
    """
    edges = np.diff(mask.astype(np.int8), prepend=np.int8(0), append=np.int8(0))
    return np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)


def _starts(mask: NDArray[np.bool_], breaks: NDArray[np.bool_] | None) -> NDArray[np.bool_]:
    """Where a run of True begins: after a False, at index 0, or at a break."""
    first = mask.copy()
    first[1:] &= ~mask[:-1] if breaks is None else ~mask[:-1] | breaks[1:]
    return first


def keep_runs(
    mask: NDArray[np.bool_], min_len: int, *, breaks: NDArray[np.bool_] | None = None
) -> NDArray[np.bool_]:
    """`mask` with runs of True shorter than `min_len` cleared (runs end at breaks).

    >>> keep_runs(np.array([1, 1, 0, 1, 1, 1], dtype=bool), 3).astype(int).tolist()
    [0, 0, 0, 1, 1, 1]
    """
    first = _starts(mask, breaks)
    if not first.any():
        return mask.copy()
    ids = np.cumsum(first) - 1
    lengths = np.bincount(ids[mask], minlength=int(first.sum()))
    out: NDArray[np.bool_] = mask & (lengths[np.maximum(ids, 0)] >= min_len)
    return out


def close_gaps(
    mask: NDArray[np.bool_], max_gap: int, *, breaks: NDArray[np.bool_] | None = None
) -> NDArray[np.bool_]:
    """`mask` with runs of at most `max_gap` False between two Trues set to True.

    `breaks[i]` True means element i does not continue element i - 1 (a time jump): gaps
    that touch a break stay open.

    >>> close_gaps(np.array([1, 0, 0, 1, 0, 0, 0, 1], dtype=bool), 2).astype(int).tolist()
    [1, 1, 1, 1, 0, 0, 0, 1]
    """
    gap = ~mask
    first = _starts(gap, breaks)
    ids = np.cumsum(first) - 1
    count = int(first.sum())
    if count == 0:
        return mask.copy()
    lengths = np.bincount(ids[gap], minlength=count)
    start = np.flatnonzero(first)
    end = start + lengths  # exclusive
    ok = (start > 0) & (end < mask.size) & (lengths <= max_gap)
    if breaks is not None:
        ok &= ~breaks[start] & ~breaks[np.minimum(end, mask.size - 1)]
    out: NDArray[np.bool_] = mask | (gap & ok[np.maximum(ids, 0)])
    return out


def running_sum(total: NDArray[np.float64], rows: NDArray[np.float64]) -> NDArray[np.float64]:
    """`total` plus the rows (k, 3), added one after another: the same bits however the rows
    were split into calls (numpy's sum adds pairwise, which depends on the split).

    >>> running_sum(np.zeros(3), np.ones((2, 3))).tolist()
    [2.0, 2.0, 2.0]
    """
    if not len(rows):
        return total
    out: NDArray[np.float64] = np.cumsum(np.vstack((total, rows)), axis=0)[-1]
    return out
