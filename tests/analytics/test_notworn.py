"""Not-worn detection: long stillness back-dated to its start, unless a trunk sensor breathes."""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analytics.notworn import NotWornDetector
from analytics.params import Thresholds
from analytics.records import Posture
from analytics.timeline import CODE, POSTURES, Timeline
from tests.synthetic import seconds

MIN_S = 60  # a short not_worn_min_s keeps the traces small
SMALL = Thresholds(not_worn_min_s=MIN_S)
NOISE_G2 = 3e-6  # sampling variance of a second's mean gravity (0.001 g per axis)
BREATH_G = 0.004  # a breath's swing of the mean gravity (4 s a breath), well inside still_range_g


def stretch(
    n: int,
    *,
    still: bool = True,
    start_s: float = 0.0,
    breath_g: float = 0.0,
    shift_g: tuple[float, float, float] = (0.0, 0.0, 0.0),
    seed: int = 1,
) -> Timeline:
    """`n` sitting seconds of a sensor whose mean gravity scatters only as the sampling noise
    explains, plus a breath's swing and a constant `shift_g`."""
    rng = np.random.default_rng(seed)
    t = np.arange(n, dtype=np.float64)
    gravity = np.array([0.0, 0.0, 1.0]) + np.array(shift_g)
    gravity = gravity + rng.normal(0.0, np.sqrt(NOISE_G2 / 3), size=(n, 3))
    gravity[:, 0] += breath_g * np.sin(2 * np.pi * (start_s + t) / 4.0)
    return seconds(
        np.full(n, CODE[Posture.SITTING], dtype=np.int8),
        start_s=start_s,
        still=np.full(n, still),
        gravity_g=gravity,
        mean_var_g2=np.full(n, NOISE_G2),
    )


def then(*parts: Timeline) -> Timeline:
    """The parts one after another in time (each moved to start where the one before ended)."""
    out, t = [], 0.0
    for part in parts:
        out.append(part.replace(t_s=part.t_s - part.t_s[0] + t))
        t += len(part)
    return Timeline.concat(out)


def detect(
    timeline: Timeline, thresholds: Thresholds = SMALL, *, breathing: bool = False
) -> Timeline:
    detector = NotWornDetector(thresholds, breathing=breathing)
    return Timeline.concat([detector.push(timeline), detector.flush()])


def not_worn(timeline: Timeline) -> np.ndarray:
    return timeline.posture == CODE[Posture.NOT_WORN]


@pytest.mark.parametrize(("still_s", "off"), [(MIN_S - 1, False), (MIN_S, True), (5 * MIN_S, True)])
def test_stillness_lasting_not_worn_min_s_is_not_worn_from_its_first_second(
    still_s: int, off: bool
) -> None:
    timeline = then(stretch(30, still=False), stretch(still_s), stretch(30, still=False))
    out = detect(timeline)
    np.testing.assert_array_equal(out.t_s, timeline.t_s)
    expected = np.zeros(len(timeline), dtype=bool)
    expected[30 : 30 + still_s] = off
    np.testing.assert_array_equal(not_worn(out), expected)
    assert (out.posture[~expected] == CODE[Posture.SITTING]).all()


@pytest.mark.parametrize("minutes", [19.9, 20.0])
def test_the_default_is_twenty_minutes_of_stillness(minutes: float) -> None:
    assert Thresholds().not_worn_min_s == 20 * 60
    still_s = round(minutes * 60)
    out = detect(then(stretch(still_s), stretch(10, still=False)), Thresholds())
    assert not_worn(out).sum() == (still_s if minutes >= 20 else 0)


def test_still_seconds_are_held_until_the_run_ends_or_is_long_enough() -> None:
    detector = NotWornDetector(SMALL)
    assert len(detector.push(then(stretch(30, still=False), stretch(MIN_S - 10)))) == 30
    grown = detector.push(stretch(10, start_s=80.0))  # the run reaches MIN_S: all released
    assert grown.t_s.tolist() == list(range(30, 90))
    assert not_worn(grown).all()
    more = detector.push(stretch(5, start_s=90.0))  # the rest of the run as it arrives
    assert more.t_s.tolist() == list(range(90, 95))
    assert not_worn(more).all()
    moved = detector.push(stretch(3, still=False, start_s=95.0))
    assert moved.t_s.tolist() == [95, 96, 97]
    assert not not_worn(moved).any()


def test_a_still_run_that_ends_early_is_released_unchanged_when_it_ends() -> None:
    detector = NotWornDetector(SMALL)
    detector.push(then(stretch(30, still=False), stretch(MIN_S - 10)))
    out = detector.push(stretch(1, still=False, start_s=80.0))
    assert out.t_s.tolist() == list(range(30, 81))
    assert not not_worn(out).any()


@pytest.mark.parametrize(("axes", "off"), [((0.06, 0.06, 0.0), False), ((0.06, 0.0, 0.0), True)])
def test_a_sensor_turned_beyond_still_range_g_on_two_axes_starts_a_new_run(
    axes: tuple[float, float, float], off: bool
) -> None:
    half = stretch(MIN_S - 10)
    turned = stretch(MIN_S - 10, shift_g=axes, seed=2)
    out = detect(then(half, turned, stretch(5, still=False)))
    assert not_worn(out).any() == off
    assert not_worn(out).sum() == (2 * MIN_S - 20 if off else 0)


def test_a_time_jump_ends_a_still_run() -> None:
    parts = stretch(MIN_S // 2 + 5), stretch(MIN_S // 2 + 5, start_s=10_000.0)
    assert not not_worn(detect(Timeline.concat(list(parts)))).any()
    assert not_worn(detect(then(*parts))).all()


def test_breathing_on_a_still_trunk_keeps_it_worn_however_long_it_lasts() -> None:
    timeline = then(stretch(10 * MIN_S, breath_g=BREATH_G), stretch(5, still=False))
    assert not not_worn(detect(timeline, breathing=True)).any()


def test_a_still_trunk_without_breathing_is_not_worn() -> None:
    timeline = then(stretch(10 * MIN_S), stretch(5, still=False))
    assert not_worn(detect(timeline, breathing=True)).sum() == 10 * MIN_S


def test_a_thigh_sensor_is_judged_by_stillness_alone_even_if_it_moves_with_breathing() -> None:
    timeline = then(stretch(10 * MIN_S, breath_g=BREATH_G), stretch(5, still=False))
    assert not_worn(detect(timeline, breathing=False)).sum() == 10 * MIN_S


def test_breathing_must_exceed_breathing_ratio_times_the_sampling_noise() -> None:
    timeline = then(stretch(10 * MIN_S, breath_g=BREATH_G), stretch(5, still=False))
    # the breath moves the mean gravity over 2 s about 6 times as much as the noise explains
    deaf = Thresholds(not_worn_min_s=MIN_S, breathing_ratio=10.0)
    assert not_worn(detect(timeline, deaf, breathing=True)).sum() == 10 * MIN_S
    keen = Thresholds(not_worn_min_s=MIN_S, breathing_ratio=4.0)
    assert not not_worn(detect(timeline, keen, breathing=True)).any()


@pytest.mark.parametrize("chunk_s", [10, 4 * MIN_S])
def test_breathing_is_judged_on_the_first_not_worn_min_s_seconds_of_a_run(chunk_s: int) -> None:
    """A sensor still and breathless for `not_worn_min_s` is off the body, whatever follows
    and however the seconds were chunked."""
    timeline = then(stretch(MIN_S), stretch(3 * MIN_S, breath_g=BREATH_G, seed=2))
    detector = NotWornDetector(SMALL, breathing=True)
    parts = [
        detector.push(timeline.take(slice(i, i + chunk_s))) for i in range(0, 4 * MIN_S, chunk_s)
    ]
    assert not_worn(Timeline.concat([*parts, detector.flush()])).all()


@settings(max_examples=120, deadline=None)
@given(
    parts=st.lists(
        st.tuples(st.booleans(), st.integers(1, 2 * MIN_S), st.booleans()), min_size=1, max_size=8
    ),
    jump_at=st.integers(0, 500),
    cuts=st.lists(st.integers(0, 1000), max_size=8),
    breathing=st.booleans(),
)
def test_streaming_in_any_chunks_gives_what_all_at_once_gives(
    parts: list[tuple[bool, int, bool]], jump_at: int, cuts: list[int], breathing: bool
) -> None:
    timeline = then(
        *(
            stretch(n, still=still, breath_g=BREATH_G if breathes else 0.0, seed=i)
            for i, (still, n, breathes) in enumerate(parts)
        )
    )
    k = len(timeline)
    t = timeline.t_s.copy()
    t[jump_at % k :] += 5000.0  # a skipped gap somewhere (none if at 0)
    timeline = timeline.replace(t_s=t)
    whole = detect(timeline, breathing=breathing)
    detector = NotWornDetector(SMALL, breathing=breathing)
    edges = sorted({0, k, *(c % (k + 1) for c in cuts)})
    streamed = [detector.push(timeline.take(slice(a, b))) for a, b in pairwise(edges)]
    out = Timeline.concat([*streamed, detector.flush()])
    np.testing.assert_array_equal(out.t_s, timeline.t_s)  # every second once, in order
    assert [POSTURES[c] for c in out.posture] == [POSTURES[c] for c in whole.posture]
