"""A wearer's classified seconds, column by column."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, fields

import numpy as np
from numpy.typing import NDArray

from .records import Epoch, Posture

POSTURES: tuple[Posture, ...] = tuple(Posture)
CODE = {p: np.int8(i) for i, p in enumerate(POSTURES)}

F64 = NDArray[np.float64]


@dataclass(frozen=True, slots=True, eq=False)
class Timeline:
    """Consecutive classified seconds of one wearer (gaps longer than an hour may be skipped)."""

    t_s: F64  # (k,) start of each second
    posture: NDArray[np.int8]  # (k,) index into POSTURES
    flexion_deg: F64  # (k,) forward trunk flexion from upright; NaN when unknown
    inclination_deg: F64  # (k,) trunk angle from upright in any direction; NaN when unknown
    still: NDArray[np.bool_]  # (k,) no movement beyond sensor noise
    gravity_g: F64  # (k, 3) mean acceleration of the deciding sensor (for stillness drift)
    enmo_g: F64  # (k,) mean of max(|a| - 1, 0), NaN when no data
    slouched: NDArray[np.bool_]  # (k,) inside a slouch episode
    lateral_deg: F64  # (k,) sideways trunk tilt from upright (right positive); NaN when unknown
    steps: NDArray[np.int64]  # (k,) steps counted while walking
    slouch_deg: F64  # (k,) deviation the slouch detector thresholds (analytics/slouch.py)
    mean_var_g2: F64  # (k,) sampling variance of gravity_g (analytics/epochs.py), for breathing

    def __len__(self) -> int:
        return int(self.t_s.shape[0])

    def take(self, index: slice | NDArray[np.intp] | NDArray[np.bool_]) -> Timeline:
        return Timeline(**{name: getattr(self, name)[index] for name in _NAMES})

    def replace(self, **columns: NDArray[np.generic]) -> Timeline:
        """A copy with some columns replaced."""
        values = {name: getattr(self, name) for name in _NAMES}
        values.update(columns)
        return Timeline(**values)

    @staticmethod
    def empty() -> Timeline:
        """No seconds (one shared instance: its arrays hold nothing to change)."""
        return _EMPTY

    @staticmethod
    def _make_empty() -> Timeline:
        z = np.zeros(0)
        return Timeline(
            t_s=z,
            posture=np.zeros(0, dtype=np.int8),
            flexion_deg=z,
            inclination_deg=z,
            still=np.zeros(0, dtype=bool),
            gravity_g=np.zeros((0, 3)),
            enmo_g=z,
            slouched=np.zeros(0, dtype=bool),
            lateral_deg=z,
            steps=np.zeros(0, dtype=np.int64),
            slouch_deg=z,
            mean_var_g2=z,
        )

    @staticmethod
    def concat(parts: list[Timeline]) -> Timeline:
        parts = [p for p in parts if len(p)]
        if not parts:
            return Timeline.empty()
        if len(parts) == 1:
            return parts[0]
        return Timeline(
            **{name: np.concatenate([getattr(p, name) for p in parts]) for name in _NAMES}
        )

    def epochs(self) -> Iterator[Epoch]:
        """The seconds as `Epoch` records."""
        for t, code, flex, incl in zip(
            self.t_s.tolist(),
            self.posture.tolist(),
            self.flexion_deg.tolist(),
            self.inclination_deg.tolist(),
            strict=True,
        ):
            yield Epoch(
                t_s=t,
                posture=POSTURES[code],
                flexion_deg=None if np.isnan(flex) else flex,
                inclination_deg=None if np.isnan(incl) else incl,
            )


_NAMES = tuple(f.name for f in fields(Timeline))
_EMPTY = Timeline._make_empty()
