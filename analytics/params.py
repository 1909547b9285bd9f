"""Parameters of the analytics, with the defaults and sources of DESIGN.md section 4.

Plain frozen dataclasses: the settings object nests them, so configuration never flows upward
into the core. Each checks its own values in `__post_init__`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .records import Posture


def _positive(name: str, value: float) -> None:
    if not value > 0:
        raise ValueError(f"{name} must be positive, got {value}")


def _default_min_bout_s() -> dict[Posture, int]:
    # ActiMotus minimum bout durations
    return {Posture.SITTING: 5, Posture.STANDING: 2, Posture.WALKING: 2, Posture.LYING: 1}


@dataclass(frozen=True, slots=True)
class Thresholds:
    """How raw accelerations become postures."""

    lying_deg: float = 60.0  # trunk this far from upright is lying
    thigh_sitting_deg: float = 45.0  # thigh this far from vertical is sitting (or lying)
    walking_mag_sd_g: float = 0.10  # per-second SD of |a| above which the wearer is moving
    still_sd_g: float = 0.013  # per-axis SD below which a second is still (GGIR: 13 mg)
    still_range_g: float = 0.050  # range of the still period on 2+ axes (GGIR: 50 mg)
    not_worn_min_s: float = 20 * 60  # stillness this long is not-worn, back-dated to its start
    min_bout_s: dict[Posture, int] = field(default_factory=_default_min_bout_s)
    calibration_offset_deg: float = 6.0  # ActiMotus: walking median minus 6 deg

    def __post_init__(self) -> None:
        # a partial table (from configuration) overrides the defaults it names
        object.__setattr__(self, "min_bout_s", {**_default_min_bout_s(), **self.min_bout_s})
        for name in ("lying_deg", "thigh_sitting_deg", "walking_mag_sd_g", "still_sd_g"):
            _positive(name, getattr(self, name))
        _positive("still_range_g", self.still_range_g)
        _positive("not_worn_min_s", self.not_worn_min_s)
        for posture, seconds in self.min_bout_s.items():
            if seconds < 0:
                raise ValueError(f"min_bout_s.{posture} must be >= 0, got {seconds}")


@dataclass(frozen=True, slots=True)
class BoutRules:
    """What counts as a sitting bout, a break and prolonged sitting."""

    break_min_s: float = 60.0  # upright this long ends a sitting bout
    prolonged_s: float = 30 * 60.0  # sitting bouts this long are prolonged

    def __post_init__(self) -> None:
        _positive("break_min_s", self.break_min_s)
        _positive("prolonged_s", self.prolonged_s)


@dataclass(frozen=True, slots=True)
class SlouchRules:
    """When forward flexion while sitting becomes a slouch episode."""

    threshold_deg: float = 20.0  # ISO 11226 / EN 1005-4 neutral band edge
    hold_s: float = 60.0
    hysteresis_deg: float = 5.0  # an episode ends below threshold - hysteresis

    def __post_init__(self) -> None:
        _positive("threshold_deg", self.threshold_deg)
        _positive("hold_s", self.hold_s)
        if not 0 <= self.hysteresis_deg < self.threshold_deg:
            raise ValueError(
                f"hysteresis_deg must be in [0, threshold_deg), got {self.hysteresis_deg}"
            )


@dataclass(frozen=True, slots=True)
class AnalyticsParams:
    """Everything the per-wearer engine needs to know."""

    thresholds: Thresholds = field(default_factory=Thresholds)
    bouts: BoutRules = field(default_factory=BoutRules)
    slouch: SlouchRules = field(default_factory=SlouchRules)
