"""Parameters of the analytics, with the defaults and sources of docs/architecture.md section 6.

Plain frozen dataclasses: the settings object nests them, so configuration never flows upward
into the core. Each checks its own values in `__post_init__`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .records import Placement, Posture


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
    walking_mag_sd_g: float = 0.08  # per-second SD of |a| above which a second may be gait
    gait_gap_s: int = 2  # pauses this short inside walking are still walking
    gait_min_s: int = 4  # walking needs this long a run of gait seconds
    gait_min_steps: int = 4  # ... and this many steps in the 5 s around each of its seconds
    still_sd_g: float = 0.013  # per-axis SD below which a second is still (GGIR: 13 mg)
    still_range_g: float = 0.050  # range of the still period on 2+ axes (GGIR: 50 mg)
    not_worn_min_s: float = 20 * 60  # stillness this long is not-worn, back-dated to its start
    breathing_ratio: float = 1.4  # ... unless a trunk sensor shows breathing (analytics/notworn.py)
    min_bout_s: dict[Posture, int] = field(default_factory=_default_min_bout_s)
    calibration_offset_deg: float = 6.0  # ActiMotus: walking median minus 6 deg

    def __post_init__(self) -> None:
        # a partial table (from configuration) overrides the defaults it names
        object.__setattr__(self, "min_bout_s", {**_default_min_bout_s(), **self.min_bout_s})
        for name in ("lying_deg", "thigh_sitting_deg", "walking_mag_sd_g", "still_sd_g"):
            _positive(name, getattr(self, name))
        for name in ("gait_gap_s", "gait_min_s", "gait_min_steps"):
            _positive(name, getattr(self, name))
        _positive("still_range_g", self.still_range_g)
        _positive("not_worn_min_s", self.not_worn_min_s)
        _positive("breathing_ratio", self.breathing_ratio)
        for posture, seconds in self.min_bout_s.items():
            if seconds < 0:
                raise ValueError(f"min_bout_s.{posture} must be >= 0, got {seconds}")


@dataclass(frozen=True, slots=True)
class BoutRules:
    """What counts as a sitting bout, a break and prolonged sitting."""

    break_min_s: float = 60.0  # upright this long ends a sitting bout
    prolonged_s: float = 30 * 60.0  # sitting bouts this long are prolonged
    # research exports' bout table: another posture for up to this long does not end a bout
    # (as in the harmonised thigh-sensor pipelines)
    interruption_max_s: float = 20.0

    def __post_init__(self) -> None:
        _positive("break_min_s", self.break_min_s)
        _positive("prolonged_s", self.prolonged_s)
        if self.interruption_max_s < 0:
            raise ValueError(f"interruption_max_s must be 0 or more, got {self.interruption_max_s}")


SLOUCH_SENSITIVITY_DEG = {"low": 25.0, "medium": 20.0, "high": 15.0}


@dataclass(frozen=True, slots=True)
class SlouchRules:
    """When the trunk's deviation from upright while sitting becomes a slouch episode.

    `sensitivity` ("low", "medium" or "high") sets `threshold_deg` to 25, 20 or 15 deg, as
    posture trainers offer; leave it unset to give `threshold_deg` directly.
    """

    threshold_deg: float = 20.0  # ISO 11226 / EN 1005-4 neutral band edge
    hold_s: float = 60.0
    hysteresis_deg: float = 5.0  # an episode ends below threshold - hysteresis
    sensitivity: str | None = None

    def __post_init__(self) -> None:
        if self.sensitivity is not None:
            level = SLOUCH_SENSITIVITY_DEG.get(self.sensitivity)
            if level is None:
                names = ", ".join(SLOUCH_SENSITIVITY_DEG)
                raise ValueError(f"sensitivity must be one of {names}, got {self.sensitivity!r}")
            if self.threshold_deg not in (20.0, level):
                raise ValueError("give either sensitivity or threshold_deg, not both")
            object.__setattr__(self, "threshold_deg", level)
        _positive("threshold_deg", self.threshold_deg)
        _positive("hold_s", self.hold_s)
        if not 0 <= self.hysteresis_deg < self.threshold_deg:
            raise ValueError(
                f"hysteresis_deg must be in [0, threshold_deg), got {self.hysteresis_deg}"
            )


@dataclass(frozen=True, slots=True)
class TrunkRules:
    """How a trunk sensor alone tells sitting from standing (analytics/trunk.py).

    Speeds are the peak vertical speed of a movement estimated from |a|; the chance that a
    movement changed the posture rises with its speed and with how far the trunk turned.
    Defaults were chosen on the HAPT data set's labelled transitions and checked on the other
    trunk data sets (bench/accuracy.py reports the sensitivity of the results to them).
    """

    active_mag_sd_g: float = 0.02  # a second with more |a| variation than this is active
    active_speed_m_s: float = 0.3  # ... or with a faster vertical movement
    event_speed_m_s: float = 0.4  # an active burst this fast may be a posture change
    event_turn_deg: float = 8.0  # ... or one that turns the trunk this far
    event_max_s: int = 12  # longer bursts are cut into pieces of this length
    change_speed_m_s: float = 0.5  # speed at which a burst is as likely a change as not ...
    change_speed_slope: float = 6.0  # ... with this logistic slope per m/s
    change_turn_slope: float = 1.0  # logistic slope per 10 deg of trunk turn beyond event_turn
    change_bias: float = 1.0  # logistic offset of the change probability
    direction_slope: float = 6.0  # logistic slope of up vs down on log(peak up / peak down)
    direction_max: float = 0.99  # ... and the surest a burst's direction can be
    quiet_change: float = 0.02  # chance of a posture change with no burst between pieces
    walk_change: float = 0.1  # ... next to walking (the stand-up may merge into the walk)
    sit_tilt_deg: float = 15.0  # a trunk tilt beyond this from upright favours sitting ...
    sit_tilt_weight: float = 3.0  # ... by this many log-odds per 10 deg (capped at 2x)
    upright_tilt_weight: float = 0.3  # a tilt below sit_tilt_deg favours standing (at most)
    short_sit_s: float = 10.0  # a still piece shorter than this is unlikely to be sitting ...
    short_sit_weight: float = 2.0  # ... by up to this many log-odds
    to_lying: tuple[float, float] = (0.4, 0.6)  # P(standing, sitting -> lying | a change)
    from_lying: tuple[float, float] = (0.3, 0.7)  # P(lying -> standing, sitting | a change)
    hold_s: float = 300.0  # undecided seconds are decided at the latest after this long
    cold_hold_s: float = 7200.0  # ... or this long while no upright reference is known

    def __post_init__(self) -> None:
        for name in ("active_mag_sd_g", "active_speed_m_s", "event_speed_m_s", "hold_s"):
            _positive(name, getattr(self, name))
        _positive("cold_hold_s", self.cold_hold_s)
        if self.event_max_s < 2:
            raise ValueError(f"event_max_s must be at least 2, got {self.event_max_s}")
        if not 0.5 <= self.direction_max < 1:
            raise ValueError(f"direction_max must be in [0.5, 1), got {self.direction_max}")
        for name in ("quiet_change", "walk_change"):
            if not 0 < getattr(self, name) < 1:
                raise ValueError(f"{name} must be in (0, 1), got {getattr(self, name)}")
        for name in ("to_lying", "from_lying"):
            pair = getattr(self, name)
            if len(pair) != 2 or min(pair) <= 0 or abs(sum(pair) - 1) > 1e-6:
                raise ValueError(f"{name} must be two positive chances adding up to 1")


@dataclass(frozen=True, slots=True)
class CalibrationRules:
    """How each sensor's upright reference is learned (analytics/orientation.py)."""

    every_s: int = 30  # the walking reference is updated after this many walking seconds ...
    window_s: int = 120  # ... from the median of the last this many walking seconds
    min_walk_s: int = 10  # walking needed before a first reference
    report_deg: float = 5.0  # a calibration event is emitted when the reference moves this far
    rewear_deg: float = 20.0  # a new reference this far from the old one after a break: re-worn;
    # a thigh's gravity jumping this far across a gap makes its reference stale
    stale_gap_s: float = 600.0  # after a data gap this long the reference must be confirmed
    manual_s: float = 5.0  # a manual calibration averages this long ("sit tall")

    def __post_init__(self) -> None:
        for name in ("every_s", "window_s", "min_walk_s", "report_deg", "rewear_deg"):
            _positive(name, getattr(self, name))
        _positive("stale_gap_s", self.stale_gap_s)
        _positive("manual_s", self.manual_s)


AXES = {"x": 0, "y": 1, "z": 2}


def parse_mount(text: str) -> tuple[tuple[float, float, float], tuple[float, float, float]] | None:
    """The sensor-frame (up, out) unit axes of a declared mount, or None for "auto".

    `text` is "auto" or two signed axes, "<axis pointing up> <axis pointing out>", for example
    "+x -z": the sensor's +x points up along the limb (towards the hip on a thigh, towards the
    head on a trunk) and its -z points away from the body. Raises ValueError otherwise.

    >>> parse_mount("+x -z")
    ((1.0, 0.0, 0.0), (0.0, 0.0, -1.0))
    """
    words = str(text).lower().split()
    if words == ["auto"]:
        return None
    axes = []
    for word in words:
        match = re.fullmatch(r"([+-]?)([xyz])", word)
        if match is None:
            break
        vector = [0.0, 0.0, 0.0]
        vector[AXES[match[2]]] = -1.0 if match[1] == "-" else 1.0
        axes.append((vector[0], vector[1], vector[2]))
    if len(words) != 2 or len(axes) != 2 or words[0][-1] == words[1][-1]:
        raise ValueError(
            f'a mount is "auto" or two different signed axes such as "+x -z", got {text!r}'
        )
    return axes[0], axes[1]


@dataclass(frozen=True, slots=True)
class Mounting:
    """How each sensor is worn: "auto" (learned from walking) or declared (docs/mounting.md).

    A declared mount gives postures from the first second, needs no walking and is kept when
    the sensor is taken off and put back (it is strapped on the same way again).
    """

    thigh: str = "auto"  # "<axis along the thigh pointing up> <axis pointing out of the body>"
    trunk: str = "auto"  # "<axis along the spine pointing up> <axis pointing forward>"

    def __post_init__(self) -> None:
        for name in ("thigh", "trunk"):
            parse_mount(getattr(self, name))

    def axes(
        self, placement: Placement
    ) -> tuple[tuple[float, float, float], tuple[float, float, float]] | None:
        """The declared (up, out) axes of the sensor at `placement`, None if "auto"."""
        return parse_mount(self.thigh if placement is Placement.THIGH else self.trunk)


# Research defaults for movement-break nudges (docs/nudges.md has the sources): a prompt after
# 30 min of continuous sitting; 20, 30, 45 and 60 min are the intervals offered.
INTERVALS_S: Final = (20 * 60.0, 30 * 60.0, 45 * 60.0, 60 * 60.0)
# What a nudge asks for: a break of 1-2 min upright, or (preset "walk5") a 5 min walk.
BREAK_TARGETS_S: Final = {"break": 120.0, "walk5": 300.0}
LANGUAGES: Final = ("en", "de")


@dataclass(frozen=True, slots=True)
class NudgePolicy:
    """When the wearer is nudged, and how a nudge's effect is judged (analytics/nudges.py).

    Times of day are "HH:MM" in `timezone` (an IANA name); `working_hours` None nudges at any
    time, and `quiet_hours` are (start, end) pairs, which may wrap past midnight.
    """

    sitting_s: float = 30 * 60.0  # a movement-break nudge when a sitting bout is this long ...
    repeat_s: float = 15 * 60.0  # ... and again after this long while still sitting
    preset: str = "break"  # what the nudge asks for: "break" (2 min upright) or "walk5"
    standing: bool = False  # opt-in: nudge after a long spell of standing still ...
    standing_s: float = 45 * 60.0  # ... this long (sit-stand desk users)
    slouch: bool = True  # nudge when a slouch episode is confirmed ...
    slouch_every_s: float = 30 * 60.0  # ... at most once per this long
    response_s: float = 5 * 60.0  # a break must start within this long to count as a response
    defer_max_s: float = 10 * 60.0  # a deferred nudge goes out this soon after the wait ends
    context_max_s: float = 4 * 3600.0  # a busy context ends after this long at the latest
    withhold_probability: float = 0.0  # opt-in: share of break nudges withheld (a study)
    seed: int = 0  # of the reproducible random choices (withholding, messages, adaptation)
    adaptive: bool = False  # opt-in: learn each wearer's interval (a Thompson-sampling bandit)
    intervals_s: tuple[float, ...] = INTERVALS_S  # ... among these intervals ...
    adaptive_min_s: float = 20 * 60.0  # ... within these bounds (set by the ergonomist)
    adaptive_max_s: float = 60 * 60.0
    language: str = "en"  # of the messages: "en" or "de"
    timezone: str = "UTC"
    working_hours: tuple[str, str] | None = None  # e.g. ("08:00", "18:00")
    working_days: tuple[int, ...] = (0, 1, 2, 3, 4, 5, 6)  # 0 = Monday
    quiet_hours: tuple[tuple[str, str], ...] = ()  # e.g. (("12:00", "13:00"),)

    def __post_init__(self) -> None:
        for name in ("sitting_s", "repeat_s", "slouch_every_s", "response_s", "standing_s"):
            _positive(name, getattr(self, name))
        for name in ("defer_max_s", "context_max_s"):
            _positive(name, getattr(self, name))
        if self.preset not in BREAK_TARGETS_S:
            raise ValueError(
                f"preset must be one of {', '.join(BREAK_TARGETS_S)}, got {self.preset!r}"
            )
        if not 0.0 <= self.withhold_probability < 1.0:
            raise ValueError(
                f"withhold_probability must be in [0, 1), got {self.withhold_probability}"
            )
        if self.language not in LANGUAGES:
            raise ValueError(
                f"language must be one of {', '.join(LANGUAGES)}, got {self.language!r}"
            )
        object.__setattr__(self, "intervals_s", tuple(float(x) for x in self.intervals_s))
        for x in self.intervals_s:
            _positive("intervals_s", x)
        if self.adaptive and not self.arms_s:
            raise ValueError(
                f"no interval of intervals_s lies within adaptive_min_s..adaptive_max_s "
                f"({self.adaptive_min_s:g}..{self.adaptive_max_s:g} s)"
            )
        object.__setattr__(self, "working_days", tuple(self.working_days))
        object.__setattr__(self, "quiet_hours", tuple(tuple(q) for q in self.quiet_hours))
        if any(not 0 <= d <= 6 for d in self.working_days):
            raise ValueError(f"working_days must be 0 (Monday) to 6, got {self.working_days}")
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown timezone {self.timezone!r}") from None
        spans = ([self.working_hours] if self.working_hours else []) + list(self.quiet_hours)
        for span in spans:
            if len(span) != 2:
                raise ValueError(f"a time span must be (start, end), got {span!r}")
            for text in span:
                clock_minutes(text)

    @property
    def target_s(self) -> float:
        """How long a break the nudge asks for (the preset's)."""
        return BREAK_TARGETS_S[self.preset]

    @property
    def arms_s(self) -> tuple[float, ...]:
        """The intervals an adaptive policy may choose: `intervals_s` within the bounds."""
        lo, hi = self.adaptive_min_s, self.adaptive_max_s
        return tuple(sorted(x for x in set(self.intervals_s) if lo <= x <= hi))


@dataclass(frozen=True, slots=True)
class DeskRules:
    """How a sit-stand desk's height speaks for sitting or standing (analytics/desk.py)."""

    standing_cm: float = 90.0  # a desk at least this high is at standing height
    weight: float = 2.0  # log-odds a still stretch at a known desk height adds (trunk only)

    def __post_init__(self) -> None:
        _positive("standing_cm", self.standing_cm)
        if self.weight < 0:
            raise ValueError(f"weight must be >= 0, got {self.weight}")


def clock_minutes(text: str) -> int:
    """Minutes after midnight of "HH:MM"; raises ValueError otherwise.

    >>> clock_minutes("08:30")
    510
    """
    hours, sep, minutes = str(text).partition(":")
    if not sep or not (hours.isdigit() and minutes.isdigit()) or len(minutes) != 2:
        raise ValueError(f"time of day must be HH:MM, got {text!r}")
    if (
        not (0 <= int(hours) <= 24 and 0 <= int(minutes) < 60)
        or int(hours) * 60 + int(minutes) > 1440
    ):
        raise ValueError(f"time of day out of range: {text!r}")
    return int(hours) * 60 + int(minutes)


@dataclass(frozen=True, slots=True)
class AnalyticsParams:
    """Everything the per-wearer engine needs to know."""

    thresholds: Thresholds = field(default_factory=Thresholds)
    bouts: BoutRules = field(default_factory=BoutRules)
    slouch: SlouchRules = field(default_factory=SlouchRules)
    trunk: TrunkRules = field(default_factory=TrunkRules)
    calibration: CalibrationRules = field(default_factory=CalibrationRules)
    mounting: Mounting = field(default_factory=Mounting)
    nudges: NudgePolicy = field(default_factory=NudgePolicy)
    desk: DeskRules = field(default_factory=DeskRules)
    release_step_s: int = 10  # downstream stages run on whole steps of this many seconds

    def __post_init__(self) -> None:
        if not 1 <= self.release_step_s <= 60:
            raise ValueError(f"release_step_s must be 1 to 60, got {self.release_step_s}")
