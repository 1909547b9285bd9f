"""The posture decider: segmented seconds in, each second's posture out (analytics/decider.py).

Inputs are small seeded synthetic traces (tests/synthetic.py) cut into pieces by the segmenter;
the body frame is x forward, y left, z up, so a trunk or thigh worn as rendered has its upright
along +z.
"""

from __future__ import annotations

import functools
from dataclasses import replace
from itertools import pairwise

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray

from analytics.align import Aligner
from analytics.decider import Decided, PostureDecider
from analytics.epochs import Epocher
from analytics.orientation import Calibration
from analytics.params import AnalyticsParams, Mounting, Thresholds, TrunkRules
from analytics.records import Placement
from analytics.segments import Segmented, segment
from analytics.timeline import POSTURES
from tests.synthetic import Part, trace, truth, up_vector

TRUNK, THIGH = Placement.TRUNK, Placement.THIGH
RATE_HZ = 25.0
PARAMS = AnalyticsParams()
SEEDS = {TRUNK: 7, THIGH: 8}
UPRIGHT = {TRUNK: Calibration(t_s=0.0, up=np.array([0.0, 0.0, 1.0]), source="restored")}


def segmented(
    parts: dict[Placement, list[Part]],
    params: AnalyticsParams = PARAMS,
    *,
    silent: tuple[float, float] | None = None,
) -> Segmented:
    """The pieces of the rendered parts (one list per sensor, of the same durations), with no
    samples at all in the `silent` (start, end) seconds."""
    epochers = {p: Epocher() for p in parts}
    for placement, sensor_parts in parts.items():
        tr = trace(sensor_parts, rate_hz=RATE_HZ, seed=SEEDS[placement])
        keep = (
            np.ones(len(tr), dtype=bool)
            if silent is None
            else ~((tr.t_s >= silent[0]) & (tr.t_s < silent[1]))
        )
        epochers[placement].push(tr.t_s[keep], tr.accel_g[keep], rate_hz=RATE_HZ)
    blocks = Aligner(epochers).flush()
    return segment(blocks, params.thresholds, params.trunk)


def decided(
    seg: Segmented,
    params: AnalyticsParams = PARAMS,
    *,
    calibrations: dict[Placement, Calibration] | None = None,
    cuts: tuple[int, ...] = (),
) -> Decided:
    """Every second decided, pushing `seg` in pieces cut at the seconds `cuts`, then the end."""
    decider = PostureDecider(tuple(seg.blocks), params, calibrations=calibrations)
    edges = sorted({0, len(seg), *cuts})
    out = [decider.push(seg.take(slice(a, b)))[0] for a, b in pairwise(edges)]
    out.append(decider.push(None, final=True)[0])
    parts = [d for d in out if d is not None]
    return Decided(
        seg=Segmented.concat([d.seg for d in parts]),
        posture=np.concatenate([d.posture for d in parts]),
        inclination_deg=np.concatenate([d.inclination_deg for d in parts]),
        flexion_deg=np.concatenate([d.flexion_deg for d in parts]),
        lateral_deg=np.concatenate([d.lateral_deg for d in parts]),
        slouch_deg=np.concatenate([d.slouch_deg for d in parts]),
    )


def names(d: Decided) -> NDArray[np.str_]:
    return np.array([POSTURES[c].value for c in d.posture])


def share(said: NDArray[np.str_], parts: list[Part], label: str) -> float:
    """The share of the seconds that are truly `label` that were said to be."""
    true = truth(parts)[: said.size]
    return float(np.mean(said[true == label] == label))


def test_every_second_is_decided_once_in_order() -> None:
    parts = [
        Part("walk", 40),
        Part("down"),
        Part("sit", 60, lean_deg=20),
        Part("up"),
        Part("walk", 30),
    ]
    seg = segmented({TRUNK: parts})
    d = decided(seg, cuts=(17, 50, 51, 90))
    np.testing.assert_array_equal(d.seg.t_s, seg.t_s)
    assert len(d.posture) == len(seg)


def test_walking_is_upright_so_a_still_lean_right_after_a_walk_is_standing() -> None:
    """Leaning 20 deg from upright speaks for sitting, but not against a walk just before it
    with no sit-down in between: walking is upright, and the posture changes at movements."""
    walk_lean = {TRUNK: replace(UPRIGHT[TRUNK], up=up_vector(np.array([5.0]))[0])}
    lean = [Part("stand", 120, lean_deg=25)]
    alone = names(decided(segmented({TRUNK: lean}), calibrations=walk_lean))
    assert set(alone.tolist()) == {"sitting"}
    parts = [Part("walk", 60), *lean]
    said = names(decided(segmented({TRUNK: parts}), calibrations=walk_lean))
    assert share(said, parts, "walking") > 0.95
    assert set(said[60:].tolist()) == {"standing"}


def test_a_sit_to_stand_says_the_stillness_before_it_was_sitting() -> None:
    """Sitting as upright as standing: only the movement up tells the two apart."""
    still = [Part("sit", 120, lean_deg=3)]
    rising = [*still, Part("up"), Part("stand", 60, lean_deg=3)]
    alone = names(decided(segmented({TRUNK: still}), calibrations=UPRIGHT))
    assert (alone == "standing").all()  # no evidence of sitting without the movement
    said = names(decided(segmented({TRUNK: rising}), calibrations=UPRIGHT))
    assert (said[:120] == "sitting").all()
    assert (said[122:] == "standing").all()
    assert said[120:122].tolist() in (["sitting", "sitting"], ["sitting", "standing"])


def test_a_stand_to_sit_changes_standing_to_sitting() -> None:
    parts = [Part("stand", 120, lean_deg=3), Part("down"), Part("sit", 60, lean_deg=3)]
    said = names(decided(segmented({TRUNK: parts}), calibrations=UPRIGHT))
    assert (said[:120] == "standing").all()
    assert (said[122:] == "sitting").all()


@pytest.mark.parametrize(
    ("lean_deg", "sit_tilt_deg", "expected"),
    [
        (3.0, 15.0, "standing"),
        (25.0, 15.0, "sitting"),
        (40.0, 15.0, "sitting"),
        (25.0, 35.0, "standing"),
    ],
)
def test_a_trunk_leaning_beyond_sit_tilt_deg_for_long_is_sitting(
    lean_deg: float, sit_tilt_deg: float, expected: str
) -> None:
    params = replace(PARAMS, trunk=TrunkRules(sit_tilt_deg=sit_tilt_deg))
    seg = segmented({TRUNK: [Part("sit", 120, lean_deg=lean_deg)]}, params)
    said = names(decided(seg, params, calibrations=UPRIGHT))
    assert set(said.tolist()) == {expected}


@pytest.mark.parametrize(("lying_deg", "expected"), [(60.0, "lying"), (120.0, "sitting")])
def test_a_trunk_tilted_well_beyond_lying_deg_is_lying(lying_deg: float, expected: str) -> None:
    params = replace(PARAMS, thresholds=Thresholds(lying_deg=lying_deg))
    seg = segmented({TRUNK: [Part("lie", 120)]}, params)
    said = names(decided(seg, params, calibrations=UPRIGHT))
    assert set(said.tolist()) == {expected}  # at 90 deg and lying_deg 120: a strong lean


def test_without_an_upright_reference_nothing_tells_lying_from_upright() -> None:
    said = names(decided(segmented({TRUNK: [Part("lie", 120)]})))
    assert "lying" not in said


def test_a_horizontal_thigh_is_lying_when_the_trunk_is_beyond_lying_deg_too() -> None:
    thigh_up = Calibration(
        t_s=0.0, up=np.array([0.0, 0.0, 1.0]), source="restored", placement=THIGH
    )
    trunk = [Part("lie", 60), Part("sit", 60, lean_deg=5)]
    thigh = [Part("lie", 60, thigh=True), Part("sit", 60, thigh=True)]
    seg = segmented({TRUNK: trunk, THIGH: thigh})
    said = names(decided(seg, calibrations={**UPRIGHT, THIGH: thigh_up}))
    assert (said[:60] == "lying").all()
    assert (said[60:] == "sitting").all()


THIGH_DAY = [Part("sit", 60, thigh=True), Part("up", thigh=True), Part("stand", 60, thigh=True)]


@pytest.mark.parametrize("mount", ["+z +x", "-z +x"])
def test_a_declared_thigh_mount_decides_from_the_first_second(mount: str) -> None:
    """Upside down along the thigh reads the same: the thigh's axis decides, not its sign."""
    params = replace(PARAMS, mounting=Mounting(thigh=mount))
    seg = segmented({THIGH: THIGH_DAY}, params)
    first, _ = PostureDecider((THIGH,), params).push(seg)  # not the end: nothing is held back
    assert first is not None
    assert len(first.posture) == len(seg)
    said = names(first)
    assert (said[:60] == "sitting").all()
    assert (said[62:] == "standing").all()


def test_an_undeclared_thigh_sensor_without_a_walk_has_no_reference_to_decide_by() -> None:
    seg = segmented({THIGH: THIGH_DAY})
    decider = PostureDecider((THIGH,), PARAMS)
    assert decider.push(seg)[0] is None  # held: no reference yet
    said = names(decided(seg))
    assert set(said.tolist()) == {"unknown"}


def test_seconds_without_data_are_unknown() -> None:
    parts = [Part("walk", 60), Part("stand", 90, lean_deg=3), Part("walk", 60)]
    seg = segmented({TRUNK: parts}, silent=(80.0, 110.0))
    said = names(decided(seg, calibrations=UPRIGHT))
    assert (said[80:110] == "unknown").all()
    assert "unknown" not in said[:80]
    assert "unknown" not in said[110:]


@pytest.mark.parametrize("cold_hold_s", [60.0, 100.0])
def test_without_a_trusted_reference_a_second_waits_at_most_cold_hold_s(cold_hold_s: float) -> None:
    params = replace(PARAMS, trunk=TrunkRules(cold_hold_s=cold_hold_s))
    seg = segmented({TRUNK: [Part("sit", 200, lean_deg=20)]}, params)
    decider = PostureDecider((TRUNK,), params)
    n = int(cold_hold_s)
    assert decider.push(seg.take(slice(0, n)))[0] is None  # second 0 may still change
    d, _ = decider.push(seg.take(slice(n, n + 1)))  # the data reach second 0 + cold_hold_s
    assert d is not None
    assert d.seg.t_s[0] == 0.0


@pytest.mark.parametrize("hold_s", [30.0, 60.0])
def test_with_a_trusted_reference_an_undecided_second_waits_at_most_hold_s(hold_s: float) -> None:
    params = replace(PARAMS, trunk=TrunkRules(hold_s=hold_s))
    seg = segmented({TRUNK: [Part("stand", 200, lean_deg=3)]}, params)
    decider = PostureDecider((TRUNK,), params, calibrations=UPRIGHT)
    n = int(hold_s)
    assert decider.push(seg.take(slice(0, n)))[0] is None  # sitting or standing: not settled
    d, _ = decider.push(seg.take(slice(n, n + 1)))
    assert d is not None
    assert d.seg.t_s[0] == 0.0


def test_with_a_trusted_reference_a_walk_is_released_as_soon_as_nothing_can_change_it() -> None:
    seg = segmented({TRUNK: [Part("walk", 60), Part("stand", 60, lean_deg=3)]})
    d, _ = PostureDecider((TRUNK,), PARAMS, calibrations=UPRIGHT).push(seg)  # 120 s < hold_s
    assert d is not None
    assert (names(d)[:55] == "walking").all()


HOLDS = {"short": TrunkRules(hold_s=25.0, cold_hold_s=45.0), "default": TrunkRules()}


@functools.cache
def day(placements: tuple[Placement, ...], hold: str) -> Segmented:
    """A short day with every kind of piece: walks, sit-downs, stand-ups, lying, a data gap."""
    kinds = [
        ("walk", 40, 5),
        ("stand", 10, 3),
        ("down", 2, 0),
        ("sit", 90, 20),
        ("up", 2, 0),
        ("walk", 30, 5),
        ("stand", 60, 3),
        ("down", 2, 0),
        ("sit", 60, 5),
        ("lie", 80, 0),
        ("walk", 30, 5),
    ]
    parts = {
        p: [Part(k, s, lean_deg=lean, thigh=p is THIGH) for k, s, lean in kinds] for p in placements
    }
    params = AnalyticsParams(trunk=HOLDS[hold])
    return segmented(parts, params, silent=(200.0, 230.0))


@settings(max_examples=40, deadline=None)
@given(
    placements=st.sampled_from([(TRUNK,), (THIGH,), (TRUNK, THIGH)]),
    hold=st.sampled_from(sorted(HOLDS)),
    cuts=st.lists(st.integers(1, 400), max_size=12),
    calibrated=st.booleans(),
)
def test_pushing_the_seconds_in_any_pieces_gives_what_pushing_them_at_once_gives(
    placements: tuple[Placement, ...], hold: str, cuts: list[int], calibrated: bool
) -> None:
    seg = day(placements, hold)
    params = AnalyticsParams(trunk=HOLDS[hold])
    calibrations = (
        {p: replace(UPRIGHT[TRUNK], placement=p) for p in placements} if calibrated else None
    )
    whole = decided(seg, params, calibrations=calibrations)
    pieces = decided(seg, params, calibrations=calibrations, cuts=tuple(cuts))
    assert pieces.posture.tolist() == whole.posture.tolist()
    for name in ("inclination_deg", "flexion_deg", "lateral_deg", "slouch_deg"):
        np.testing.assert_array_equal(getattr(pieces, name), getattr(whole, name), err_msg=name)
