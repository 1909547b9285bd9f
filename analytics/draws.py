"""Reproducible random draws, each keyed by what it decides.

A draw is a hash of the policy's seed and the decision's identity (wearer, kind, data time), so
the same data and seed always give the same choices, whatever came before and however the data
were chunked, and no random state has to be kept or persisted.
"""

from __future__ import annotations

import hashlib

import numpy as np

_SCALE = float(2**64)


def uniform(*key: object) -> float:
    """A number in [0, 1) determined by `key`.

    >>> uniform(0, "w1", 1800.0) == uniform(0, "w1", 1800.0)
    True
    >>> 0.0 <= uniform("anything") < 1.0
    True
    """
    digest = hashlib.sha256("|".join(map(str, key)).encode()).digest()
    return int.from_bytes(digest[:8], "little") / _SCALE


def generator(*key: object) -> np.random.Generator:
    """A numpy generator seeded by `key` (for draws from other distributions)."""
    digest = hashlib.sha256("|".join(map(str, key)).encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:16], "little"))
