"""The upright reference of a sensor, learned from walking (DESIGN.md section 4, Calibration).

While walking, the trunk and the thigh are upright, so the mean gravity direction over walking
seconds tells which way the sensor's "up" points, whatever way it was put on. The reference is
updated after every `every` walking seconds from the last `window` of them, so it changes at the
same seconds however the samples were chunked.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from .arrays import angle_deg, unit
from .epochs import EpochBlock

F64 = NDArray[np.float64]


@dataclass(frozen=True, slots=True, eq=False)
class Calibration:
    """A new upright reference, valid from `t_s` on."""

    t_s: float
    up: F64  # (3,) unit vector in the sensor frame
    source: str  # "walking" or "manual"


def moving(block: EpochBlock, *, mag_sd_g: float) -> NDArray[np.bool_]:
    """Seconds with enough dynamic acceleration to be walking, per second of `block`."""
    with np.errstate(invalid="ignore"):
        return (block.fill >= 0.5) & (block.mag_sd_g > mag_sd_g) & (block.mag_sd_g < 1.0)


class UprightReference:
    """Learns and holds one sensor's upright direction."""

    def __init__(self, *, every: int = 10, window: int = 60, report_deg: float = 5.0) -> None:
        self.every = every
        self.window = window
        self.report_deg = report_deg  # a calibration is reported when the reference moves this far
        self._walking: list[F64] = []  # unit gravity vectors of recent walking seconds
        self._count = 0
        self.up: F64 | None = None

    def set_manual(self, t_s: float, up: F64) -> Calibration:
        """Take `up` (sensor frame) as the upright direction from `t_s` on."""
        self.up = unit(np.asarray(up, dtype=np.float64))
        return Calibration(t_s=t_s, up=self.up, source="manual")

    def update(
        self, block: EpochBlock, walking: NDArray[np.bool_]
    ) -> tuple[F64, list[Calibration]]:
        """Learn from the walking seconds of `block`.

        Returns the reference in force at each second of `block` (k, 3), NaN where none yet,
        and the calibrations that happened inside the block.
        """
        refs = np.full((len(block), 3), np.nan)
        calibrations: list[Calibration] = []
        start = 0
        for i in np.flatnonzero(walking).tolist():
            self._walking.append(unit(block.mean_g[i]))
            self._count += 1
            if self._count % self.every:
                continue
            if self.up is not None:
                refs[start : i + 1] = self.up
            recent = np.array(self._walking[-self.window :])
            self._walking = self._walking[-self.window :]
            before, self.up = self.up, unit(np.median(recent, axis=0))
            if before is None or float(angle_deg(before, self.up)) >= self.report_deg:
                calibrations.append(
                    Calibration(t_s=float(block.t_s[i]) + 1.0, up=self.up, source="walking")
                )
            start = i + 1
        if self.up is not None:
            refs[start:] = self.up
        return refs, calibrations
