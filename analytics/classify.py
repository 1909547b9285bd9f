"""Per-second posture from aligned trunk and thigh epochs.

    aligned epochs -> Segmenter (pieces: gait, movements, still stretches, gaps)
                   -> PostureDecider (thigh angle, or the trunk-only model; references learned)
                   -> Timeline

See analytics/segments.py, analytics/decider.py and analytics/hmm.py for the rules.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from .decider import Decided, PostureDecider
from .desk import DeskTrack
from .epochs import EpochBlock
from .orientation import Calibration, UprightReference
from .params import AnalyticsParams
from .records import Placement
from .segments import Segmenter
from .timeline import Timeline


class Classifier:
    """Turns aligned epochs into a timeline of postures, learning each sensor's upright."""

    def __init__(
        self,
        placements: tuple[Placement, ...],
        params: AnalyticsParams,
        *,
        calibrations: Mapping[Placement, Calibration] | None = None,
    ) -> None:
        self._segmenter = Segmenter(placements, params.thresholds, params.trunk)
        self._decider = PostureDecider(placements, params, calibrations=calibrations)

    @property
    def references(self) -> dict[Placement, UprightReference]:
        return self._decider.references

    def use_desk(self, desk: DeskTrack) -> None:
        """Weigh this desk's heights as evidence for sitting or standing (trunk only)."""
        self._decider.desk = desk

    def calibrate(self, start_s: float) -> None:
        """Manual calibration: the wearer sits (or stands) tall from `start_s` on."""
        self._decider.calibrate(start_s)

    def push(
        self, aligned: dict[Placement, EpochBlock], *, final: bool = False
    ) -> tuple[Timeline, list[Calibration]]:
        """Classify aligned seconds; return the seconds now decided and new calibrations."""
        seg = self._segmenter.push(aligned, final=final)
        decided, calibrations = self._decider.push(seg, final=final)
        return (_timeline(decided) if decided is not None else Timeline.empty()), calibrations


def _timeline(d: Decided) -> Timeline:
    main = (
        d.seg.blocks[Placement.TRUNK]
        if Placement.TRUNK in d.seg.blocks
        else d.seg.blocks[Placement.THIGH]
    )
    return Timeline(
        t_s=main.t_s,
        posture=d.posture,
        flexion_deg=d.flexion_deg,
        inclination_deg=d.inclination_deg,
        still=d.seg.still,
        gravity_g=main.mean_g,
        enmo_g=main.enmo_g,
        slouched=np.zeros(len(d.posture), dtype=bool),
        lateral_deg=d.lateral_deg,
        steps=d.seg.steps,
        slouch_deg=d.slouch_deg,
        mean_var_g2=main.mean_var_g2,
    )
