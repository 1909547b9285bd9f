"""Posture, calibration and re-wear on synthetic traces; invariances on real recordings."""

from __future__ import annotations

import functools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analytics.monitor import Output, WearerMonitor
from analytics.offline import analyze
from analytics.params import AnalyticsParams, Mounting
from analytics.records import EventKind, Placement, Posture, SampleBatch, Trace
from analytics.segments import EVENT, Segmenter
from analytics.timeline import POSTURES
from sensor_gateway.traces import read_trace
from tests.conftest import dataset_files
from tests.synthetic import Part, rotation, trace, truth

TILTED = rotation((1.0, 2.0, 3.0), 70.0)


def postures(out: Output) -> np.ndarray:
    return np.array([POSTURES[c].value for c in out.timeline.posture])


def agreement(parts: list[Part], out: Output, label: str) -> float:
    pred = postures(out)
    true = truth(parts)[: pred.size]
    return float(np.mean(pred[true == label] == label))


def test_sitting_as_upright_as_standing_is_found_from_the_transitions() -> None:
    parts = [
        Part("walk", 60),
        Part("stand", 30, lean_deg=3),
        Part("down"),
        Part("sit", 300, lean_deg=3),  # the same tilt as standing
        Part("up"),
        Part("stand", 30, lean_deg=3),
        Part("walk", 60),
    ]
    out = analyze({Placement.TRUNK: trace(parts, mount=TILTED)}).output
    assert agreement(parts, out, "sitting") > 0.97
    assert agreement(parts, out, "standing") > 0.8
    assert agreement(parts, out, "walking") > 0.95


def test_a_long_sitting_bout_before_the_first_walk_is_found_from_a_cold_start() -> None:
    parts = [Part("sit", 900, lean_deg=25), Part("up"), Part("stand", 20, 3), Part("walk", 60)]
    out = analyze({Placement.TRUNK: trace(parts, mount=TILTED)}).output
    assert agreement(parts, out, "sitting") > 0.98
    bouts = [e for e in out.events if e.kind is EventKind.SITTING_BOUT]
    assert len(bouts) == 1
    assert bouts[0].start_s == 0.0


def test_a_sensor_taken_off_and_put_back_differently_is_recalibrated() -> None:
    parts = [
        Part("walk", 60),
        Part("down"),
        Part("sit", 120, lean_deg=20),
        Part("up"),
        Part("walk", 30),
        Part("desk", 1500),  # taken off for lunch
        Part("walk", 60),  # put back on upside down and askew
        Part("stand", 20, lean_deg=3),
        Part("down"),
        Part("sit", 300, lean_deg=25),
        Part("up"),
        Part("walk", 60),
    ]
    flipped = rotation((0.0, 1.0, 0.0), 120.0)
    tr = trace(parts, mount=TILTED, remount_after=6, remount=flipped)
    out = analyze({Placement.TRUNK: tr}).output
    sources = [e.values["source"] for e in out.events if e.kind is EventKind.CALIBRATION]
    assert sources == ["walking", "rewear"]
    assert agreement(parts, out, "not_worn") == 1.0
    assert agreement(parts, out, "sitting") > 0.97
    after = out.timeline.t_s >= 1800
    flexion = out.timeline.flexion_deg[after & (postures(out) == "sitting")]
    assert 15 < float(np.nanmedian(flexion)) < 40  # read with the new reference


def test_sideways_bending_is_measured_and_counted_against_iso_11226() -> None:
    from sensor_gateway.simulator import Activity, simulate_day

    p = Posture
    walks = [Activity(p.WALKING, 60), Activity(p.SITTING, 60), Activity(p.STANDING, 20)]
    schedule = [*walks, *walks, Activity(p.WALKING, 40)]
    bent = [Activity(p.SITTING, 300, lateral_deg=sign * 25.0) for sign in (1, -1)]
    day = simulate_day(seed=8, schedule=[*schedule, bent[0], Activity(p.WALKING, 30), bent[1]])
    out = analyze({Placement.TRUNK: day.traces[Placement.TRUNK]}).output
    tl = out.timeline
    right = slice(len(tl) - 330 - 120, len(tl) - 330)  # the last 2 min of each bend
    left = slice(len(tl) - 120, len(tl))
    assert 15 < float(np.nanmedian(tl.lateral_deg[right])) < 35  # right positive
    assert -35 < float(np.nanmedian(tl.lateral_deg[left])) < -15
    assert float(np.nanmedian(tl.slouch_deg[left])) > 20  # a sideways slouch
    assert tl.slouched[left].any()
    assert sum(m.lateral_s for m in out.minutes) > 240


def test_a_declared_trunk_mount_gives_signed_angles_from_the_first_second() -> None:
    from sensor_gateway.simulator import Activity, simulate_day

    mount = "+x -z"  # +x up the spine, -z forward (out of the chest)
    schedule = [Activity(Posture.SITTING, 200, slouch_deg=25.0, lateral_deg=15.0)]
    trunk = Placement.TRUNK
    day = simulate_day(seed=9, schedule=schedule, placements=(trunk,), mounts={trunk: mount})
    params = AnalyticsParams(mounting=Mounting(trunk=mount))
    tl = analyze({trunk: day.traces[trunk]}, params=params).output.timeline
    assert np.isfinite(tl.flexion_deg[:5]).all()
    assert 20 < float(np.median(tl.flexion_deg[-30:])) < 30
    assert 10 < float(np.median(tl.lateral_deg[-30:])) < 20


@pytest.mark.parametrize("breathe_deg", [0.3, 1.0])
def test_lying_still_and_breathing_is_never_not_worn(breathe_deg: float) -> None:
    parts = [Part("walk", 60), Part("lie", 1800, breathe_deg=breathe_deg), Part("walk", 30)]
    out = analyze({Placement.TRUNK: trace(parts, mount=TILTED)}).output
    assert "not_worn" not in set(postures(out).tolist())
    assert agreement(parts, out, "lying") > 0.99


def test_a_recording_that_starts_on_a_desk_is_not_worn_from_its_first_second() -> None:
    parts = [Part("desk", 1500), Part("walk", 60), Part("down"), Part("sit", 120, lean_deg=20)]
    out = analyze({Placement.TRUNK: trace(parts, mount=TILTED)}).output
    said = postures(out)
    assert (said[:1500] == "not_worn").all()
    assert "not_worn" not in set(said[1500:].tolist())


def test_a_breathless_still_sensor_is_not_worn_but_a_thigh_is_judged_by_stillness_alone() -> None:
    parts = [Part("walk", 60), Part("lie", 1500), Part("walk", 30)]
    out = analyze({Placement.TRUNK: trace(parts, mount=TILTED)}).output
    assert agreement([*parts[:1], Part("desk", 1500), *parts[2:]], out, "not_worn") == 1.0
    thigh = [Part("walk", 60, thigh=True), Part("lie", 1500, breathe_deg=1.0, thigh=True)]
    out = analyze({Placement.THIGH: trace(thigh)}).output
    assert (postures(out)[60:1560] == "not_worn").mean() > 0.99


def test_manual_calibration_sets_the_upright_without_walking() -> None:
    parts = [Part("sit", 10, lean_deg=0), Part("sit", 400, lean_deg=30)]
    tr = trace(parts, mount=TILTED)
    calibrated = analyze({Placement.TRUNK: tr}, calibrate_first_s=5.0).output
    sources = [e.values["source"] for e in calibrated.events if e.kind is EventKind.CALIBRATION]
    assert sources == ["manual"]
    incl = calibrated.timeline.inclination_deg[calibrated.timeline.t_s >= 20]
    assert 25 < float(np.median(incl)) < 35
    uncalibrated = analyze({Placement.TRUNK: tr}).output
    assert np.isnan(uncalibrated.timeline.inclination_deg).all()


def test_thigh_sitting_works_upside_down_and_at_20_hz() -> None:
    parts = [
        Part("walk", 60, thigh=True),
        Part("stand", 30, thigh=True),
        Part("down", thigh=True),
        Part("sit", 200, thigh=True),
        Part("up", thigh=True),
        Part("walk", 60, thigh=True),
    ]
    upside_down = TILTED @ rotation((1.0, 0.0, 0.0), 180.0)  # put back the other way up
    for rate in (20.0, 100.0):
        tr = trace(parts, rate_hz=rate, mount=TILTED)
        turned = trace(parts, rate_hz=rate, mount=TILTED, remount_after=2, remount=upside_down)
        for t in (tr, turned):
            out = analyze({Placement.THIGH: t}).output
            assert agreement(parts, out, "sitting") > 0.97
            assert agreement(parts, out, "standing") > 0.9


@pytest.mark.parametrize("resolved_by", ["down", "walk"])
def test_a_thigh_sensor_put_back_differently_gets_a_new_reference(resolved_by: str) -> None:
    later = [Part("down", thigh=True), Part("sit", 100, thigh=True), Part("up", thigh=True)]
    if resolved_by == "walk":
        later = [Part("walk", 30, thigh=True), *later]
    parts = [
        Part("walk", 60, thigh=True),
        Part("stand", 30, thigh=True),
        Part("stand", 60, thigh=True),  # the phone out of the pocket: no data
        Part("stand", 40, thigh=True),
        *later,
        Part("stand", 30, thigh=True),
    ]
    reseated = TILTED @ rotation((0.0, 0.0, 1.0), 90.0) @ rotation((1.0, 0.0, 0.0), 60.0)
    tr = trace(parts, mount=TILTED, remount_after=3, remount=reseated)
    kept = (tr.t_s < 90.0) | (tr.t_s >= 150.0)
    tr = Trace(t_s=tr.t_s[kept], accel_g=tr.accel_g[kept], rate_hz=tr.rate_hz)
    out = analyze({Placement.THIGH: tr}).output
    sources = [e.values["source"] for e in out.events if e.kind is EventKind.CALIBRATION]
    assert sources == ["walking", "rewear"]
    said = postures(out)
    true = truth(parts)[: said.size]
    for label in ("sitting", "standing"):
        mask = (true == label) & (np.arange(said.size) >= 150)
        assert float(np.mean(said[mask] == label)) > 0.9, label


@functools.cache
def hapt() -> Trace:
    return read_trace(dataset_files("uci_hapt_waist")[0])[0]


def _rotated(tr: Trace, matrix: np.ndarray) -> Trace:
    return Trace(t_s=tr.t_s, accel_g=tr.accel_g @ matrix.T, rate_hz=tr.rate_hz)


@settings(max_examples=6, deadline=None)
@given(
    st.tuples(
        st.floats(-1, 1), st.floats(-1, 1), st.floats(0.1, 1), st.floats(min_value=0, max_value=360)
    )
)
def test_any_fixed_rotation_of_the_sensor_leaves_the_postures_unchanged(
    turn: tuple[float, float, float, float],
) -> None:
    matrix = rotation(turn[:3], turn[3])
    parts = [
        Part("walk", 40),
        Part("down"),
        Part("sit", 120, lean_deg=15),
        Part("up"),
        Part("stand", 20, 3),
        Part("walk", 30),
    ]
    for tr in (trace(parts), hapt()):
        base = analyze({Placement.TRUNK: tr}).output
        turned = analyze({Placement.TRUNK: _rotated(tr, matrix)}).output
        assert postures(turned).tolist() == postures(base).tolist()
        assert np.allclose(
            np.nan_to_num(turned.timeline.flexion_deg), np.nan_to_num(base.timeline.flexion_deg)
        )


def _stream(tr: Trace, placement: Placement, sizes: list[int]) -> Output:
    monitor = WearerMonitor("wearer", placements=(placement,))
    parts, i, k = [], 0, 0
    while i < len(tr):
        n = sizes[k % len(sizes)]
        k += 1
        batch = SampleBatch("s", k, float(tr.t_s[i]), tr.rate_hz, tr.accel_g[i : i + n])
        parts.append(monitor.feed(placement, batch))
        i += len(batch)
    parts.append(monitor.finish())
    return Output.merge(parts)


@settings(max_examples=5, deadline=None)
@given(st.lists(st.integers(min_value=5, max_value=600), min_size=1, max_size=5))
def test_streaming_a_real_recording_in_any_chunks_equals_the_offline_result(
    sizes: list[int],
) -> None:
    tr = hapt()
    offline = analyze({Placement.TRUNK: tr}).output
    streamed = _stream(tr, Placement.TRUNK, sizes)
    assert streamed.timeline.posture.tolist() == offline.timeline.posture.tolist()
    assert np.array_equal(
        streamed.timeline.flexion_deg, offline.timeline.flexion_deg, equal_nan=True
    )
    assert sorted(streamed.events, key=_order) == sorted(offline.events, key=_order)
    assert streamed.minutes == offline.minutes


def _order(e: object) -> tuple[float, float, str]:
    assert hasattr(e, "end_s")
    return (e.end_s, e.start_s, e.kind.value)  # type: ignore[attr-defined]


@pytest.mark.parametrize(("kind", "sign"), [("up", 1.0), ("down", -1.0)])
def test_a_sit_to_stand_moves_up_and_a_stand_to_sit_down(kind: str, sign: float) -> None:
    parts = [Part("stand", 20, 3), Part(kind), Part("stand", 30, 3)]
    tr = trace(parts, mount=TILTED)
    out = analyze({Placement.TRUNK: tr}).output
    assert len(out.timeline) == 52
    segmenter = Segmenter((Placement.TRUNK,), AnalyticsParams().thresholds, AnalyticsParams().trunk)
    from analytics.epochs import features

    seg = segmenter.push({Placement.TRUNK: features(tr.t_s, tr.accel_g, rate_hz=50.0)}, final=True)
    assert seg is not None
    events = seg.kind == EVENT
    assert events.any()
    assert np.sign(np.nanmax(seg.up_ratio[events] * sign)) == 1.0


def test_walking_seconds_count_steps_at_the_walking_cadence() -> None:
    parts = [Part("stand", 20, 3), Part("walk", 120), Part("stand", 20, 3)]
    out = analyze({Placement.TRUNK: trace(parts, mount=TILTED)}).output
    walks = [
        e
        for e in out.events
        if e.kind is EventKind.POSTURE_BOUT and e.values["posture"] == "walking"
    ]
    assert len(walks) == 1
    assert 1.6 * 60 < float(walks[0].values["cadence_spm"]) < 2.0 * 60  # 1.8 steps/s
    assert sum(m.steps for m in out.minutes) == walks[0].values["steps"]
