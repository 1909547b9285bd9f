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
    dot = np.sum(a * b, axis=-1)
    norm = np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        cos = np.clip(dot / norm, -1.0, 1.0)
    return np.asarray(np.degrees(np.arccos(cos)), dtype=np.float64)


def unit(v: NDArray[np.float64]) -> NDArray[np.float64]:
    """Vectors along the last axis scaled to length 1 (zero vectors stay zero).

    >>> unit(np.array([3.0, 0.0, 4.0])).tolist()
    [0.6, 0.0, 0.8]
    """
    norm = np.linalg.norm(v, axis=-1, keepdims=True)
    out: NDArray[np.float64] = np.divide(v, norm, out=np.zeros_like(v), where=norm > 0)
    return out
