"""Per-second posture from aligned trunk and thigh epochs.

First version: the upright reference of each sensor comes from walking; the trunk angle from it
separates lying from upright and, crudely, leaning (sitting) from upright (standing); with a thigh
sensor, the thigh angle decides sitting. Seconds before the first calibration are `unknown`
unless the wearer is walking.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from .arrays import angle_deg
from .epochs import EpochBlock
from .orientation import Calibration, UprightReference, moving
from .params import Thresholds
from .records import Placement, Posture
from .timeline import CODE, Timeline

SIT_LEAN_DEG = 15.0  # trunk-only first version: leaning this far from upright counts as sitting


def still(block: EpochBlock, thresholds: Thresholds) -> NDArray[np.bool_]:
    """Seconds with no movement beyond sensor noise on at least two axes."""
    with np.errstate(invalid="ignore"):
        quiet = (block.sd_g < thresholds.still_sd_g) & (block.range_g < thresholds.still_range_g)
    result: NDArray[np.bool_] = (quiet.sum(axis=1) >= 2) & (block.fill >= 0.5)
    return result


class Classifier:
    """Turns aligned epochs into a timeline of postures, learning each sensor's upright."""

    def __init__(self, placements: tuple[Placement, ...], thresholds: Thresholds) -> None:
        self.thresholds = thresholds
        self.references = {p: UprightReference() for p in placements}

    def push(self, aligned: dict[Placement, EpochBlock]) -> tuple[Timeline, list[Calibration]]:
        if not aligned:
            return Timeline.empty(), []
        th = self.thresholds
        walking = {p: moving(b, mag_sd_g=th.walking_mag_sd_g) for p, b in aligned.items()}
        refs: dict[Placement, NDArray[np.float64]] = {}
        calibrations: list[Calibration] = []
        for placement, block in aligned.items():
            refs[placement], cals = self.references[placement].update(block, walking[placement])
            calibrations.extend(cals)

        trunk = aligned.get(Placement.TRUNK)
        thigh = aligned.get(Placement.THIGH)
        main = trunk if trunk is not None else thigh
        assert main is not None
        k = len(main)
        incl = (
            angle_deg(trunk.mean_g, refs[Placement.TRUNK])
            if trunk is not None
            else np.full(k, np.nan)
        )
        thigh_incl = (
            angle_deg(thigh.mean_g, refs[Placement.THIGH])
            if thigh is not None
            else np.full(k, np.nan)
        )
        is_walking = np.logical_or.reduce(list(walking.values()))
        has_data = np.logical_and.reduce([b.fill >= 0.5 for b in aligned.values()])

        posture = np.full(k, CODE[Posture.UNKNOWN], dtype=np.int8)
        with np.errstate(invalid="ignore"):
            if thigh is not None:
                posture[thigh_incl < th.thigh_sitting_deg] = CODE[Posture.STANDING]
                posture[thigh_incl >= th.thigh_sitting_deg] = CODE[Posture.SITTING]
            else:
                posture[incl < SIT_LEAN_DEG] = CODE[Posture.STANDING]
                posture[incl >= SIT_LEAN_DEG] = CODE[Posture.SITTING]
            posture[incl >= th.lying_deg] = CODE[Posture.LYING]
            upright = posture != CODE[Posture.SITTING]
            posture[is_walking & upright & ~(incl >= th.lying_deg)] = CODE[Posture.WALKING]
        posture[~has_data] = CODE[Posture.UNKNOWN]

        timeline = Timeline(
            t_s=main.t_s,
            posture=posture,
            flexion_deg=incl,
            inclination_deg=incl,
            still=np.logical_and.reduce([still(b, th) for b in aligned.values()]),
            gravity_g=main.mean_g,
            enmo_g=main.enmo_g,
            slouched=np.zeros(k, dtype=bool),
        )
        return timeline, calibrations
