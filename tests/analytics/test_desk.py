"""A sit-stand desk's height: evidence for sitting or standing with a trunk sensor alone, and the
time spent at each height."""

from __future__ import annotations

import numpy as np
import pytest

from analytics.desk import DeskTrack
from analytics.monitor import Output, WearerMonitor
from analytics.params import DeskRules
from analytics.records import Context, EventKind, Placement, Posture
from analytics.timeline import POSTURES
from tests.synthetic import Part, rotation, timeline, trace

MOUNT = rotation((0.3, -1.0, 0.4), 50.0)
T0 = 1_000_000_000.0


def sitting_seconds(parts: list[Part], heights: list[tuple[float, float]]) -> tuple[int, Output]:
    """Seconds classified sitting, trunk only, with the desk at these (time, cm) heights."""
    tr = trace(parts, mount=MOUNT, start_s=T0)
    m = WearerMonitor("w", placements=(Placement.TRUNK,))
    for t, cm in heights:
        m.desk_height(cm, t_s=T0 + t)
    out = Output.merge(
        [m.feed(Placement.TRUNK, b) for b in tr.batches(sensor_id="s", max_s=5)] + [m.finish()]
    )
    postures = np.array([POSTURES[c] for c in out.timeline.posture])
    return int((postures == Posture.SITTING).sum()), out


def day(transition_s: float) -> list[Part]:
    return [
        Part("walk", 120),
        Part("down", transition_s),
        Part("sit", 900, lean_deg=3),
        Part("up", transition_s),
        Part("stand", 900, lean_deg=10),
        Part("walk", 60),
    ]


def test_the_desk_height_finds_sitting_the_trunk_alone_misses() -> None:
    """Slow sit-downs and stand-ups (12 s) leave the trunk-only model no movement to go by; a
    desk at sitting height, then raised, says what the wearer did."""
    parts = day(12.0)
    alone, _ = sitting_seconds(parts, [])
    assert alone == 0
    with_desk, out = sitting_seconds(parts, [(0.0, 72.0), (120 + 12 + 900, 110.0)])
    assert with_desk == pytest.approx(900, abs=15)
    desk = [e for e in out.events if e.kind is EventKind.DESK]
    assert [(e.values["position"], e.values["height_cm"]) for e in desk] == [
        ("sitting", 72.0),
        ("standing", 110.0),
    ]
    assert desk[0].values["sitting_s"] == pytest.approx(900, abs=15)
    assert sum(e.duration_s for e in desk) == len(out.timeline)


def test_clear_movements_outweigh_a_desk_left_at_standing_height() -> None:
    parts = day(2.0)
    plain, _ = sitting_seconds(parts, [])
    wrong, _ = sitting_seconds(parts, [(0.0, 110.0)])
    assert plain == wrong == pytest.approx(900, abs=10)


def test_desk_stretches_are_cut_at_new_heights_and_gaps() -> None:
    track = DeskTrack("w", DeskRules())
    track.report(T0 + 60, 74.0)
    track.report(T0 + 120, 74.0)  # the same height again: one stretch
    track.report(T0 + 600, 105.0)
    tl = timeline(T0, (Posture.SITTING, 10), (Posture.STANDING, 5))
    events = track.push(tl.take(slice(0, 400))) + track.push(tl.take(slice(400, None)))
    events += track.push(timeline(T0 + 3600, (Posture.STANDING, 2)))  # after a gap
    events += track.flush()
    got = [
        (e.start_s - T0, e.end_s - T0, e.values["position"], e.values["sitting_s"]) for e in events
    ]
    assert got == [
        (60.0, 600.0, "sitting", 540.0),
        (600.0, 900.0, "standing", 0.0),
        (3600.0, 3720.0, "standing", 0.0),
    ]


@pytest.mark.parametrize("cm", [float("nan"), 5.0, 400.0, float("inf")])
def test_an_impossible_height_is_refused(cm: float) -> None:
    with pytest.raises(ValueError, match="desk height"):
        DeskTrack("w", DeskRules()).report(T0, cm)


def test_evidence_weighs_the_seconds_at_each_height() -> None:
    track = DeskTrack("w", DeskRules(standing_cm=90.0, weight=2.0))
    t = T0 + np.arange(100, dtype=np.float64)
    assert track.evidence(t) == 0.0  # nothing known yet
    track.report(T0 + 50, 72.0)
    assert track.evidence(t) == pytest.approx(-1.0)  # half the seconds at sitting height
    track.report(T0 + 75, 110.0)
    assert track.evidence(t) == pytest.approx(0.0)


@pytest.mark.parametrize("batch_s", [1.0, 7.0, 600.0])
def test_desk_heights_and_contexts_give_the_same_output_however_the_samples_arrive(
    batch_s: float,
) -> None:
    tr = trace(day(12.0), mount=MOUNT, start_s=T0, rate_hz=25.0)

    def streamed(max_s: float) -> Output:
        m = WearerMonitor("w", placements=(Placement.TRUNK,), max_wait_s=1300.0)
        m.desk_height(72.0, t_s=T0)
        m.desk_height(110.0, t_s=T0 + 1032.0)
        m.busy(Context(T0 + 300.0, T0 + 700.0, "calendar"))
        return Output.merge(
            [m.feed(Placement.TRUNK, b) for b in tr.batches(sensor_id="s", max_s=max_s)]
            + [m.finish()]
        )

    whole, parts = streamed(1200.0), streamed(batch_s)
    assert np.array_equal(whole.timeline.posture, parts.timeline.posture)
    assert sorted(whole.events, key=repr) == sorted(parts.events, key=repr)
    assert [e.kind for e in whole.events if e.kind is EventKind.DESK] == [EventKind.DESK] * 2
