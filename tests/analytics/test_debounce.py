"""Minimum bout durations: short runs take the posture before them, whatever the chunking."""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analytics.debounce import Debouncer
from analytics.params import Thresholds
from analytics.records import Posture
from analytics.timeline import CODE, POSTURES, Timeline
from tests.synthetic import seconds

MIN_BOUT_S = Thresholds().min_bout_s  # ActiMotus: sitting 5, standing 2, walking 2, lying 1
P = Posture


def runs(*parts: tuple[Posture, int], start_s: float = 0.0) -> Timeline:
    """Consecutive seconds: each part is (posture, seconds)."""
    codes = np.concatenate([np.full(n, CODE[p], dtype=np.int8) for p, n in parts])
    return seconds(codes, start_s=start_s)


def named(timeline: Timeline) -> list[Posture]:
    return [POSTURES[c] for c in timeline.posture]


def debounced(timeline: Timeline, min_bout_s: dict[Posture, int] = MIN_BOUT_S) -> Timeline:
    debouncer = Debouncer(min_bout_s)
    return Timeline.concat([debouncer.push(timeline), debouncer.flush()])


@pytest.mark.parametrize("posture", [p for p, n in MIN_BOUT_S.items() if n > 1])
def test_a_run_shorter_than_its_postures_minimum_takes_the_posture_before_it(
    posture: Posture,
) -> None:
    other = P.WALKING if posture is not P.WALKING else P.STANDING
    short = MIN_BOUT_S[posture] - 1
    out = debounced(runs((other, 30), (posture, short), (other, 30)))
    assert named(out) == [other] * (60 + short)


@pytest.mark.parametrize("posture", [P.SITTING, P.STANDING, P.WALKING, P.LYING])
def test_a_run_as_long_as_its_postures_minimum_stands(posture: Posture) -> None:
    other = P.WALKING if posture is not P.WALKING else P.STANDING
    n = MIN_BOUT_S[posture]
    out = debounced(runs((other, 30), (posture, n), (other, 30)))
    assert named(out) == [other] * 30 + [posture] * n + [other] * 30


def test_the_minimums_are_taken_from_the_table_it_is_given() -> None:
    timeline = runs((P.STANDING, 30), (P.SITTING, 8), (P.STANDING, 30))
    assert named(debounced(timeline, {P.SITTING: 10})).count(P.SITTING) == 0
    assert named(debounced(timeline, {P.SITTING: 8})).count(P.SITTING) == 8


def test_short_runs_in_a_row_all_take_the_posture_of_the_last_run_that_stood() -> None:
    timeline = runs((P.SITTING, 30), (P.STANDING, 1), (P.WALKING, 1), (P.SITTING, 2), (P.LYING, 9))
    assert named(debounced(timeline)) == [P.SITTING] * 34 + [P.LYING] * 9


def test_a_short_run_at_the_very_start_keeps_its_posture_having_nothing_before_it() -> None:
    out = debounced(runs((P.SITTING, 3), (P.STANDING, 30)))
    assert named(out) == [P.SITTING] * 3 + [P.STANDING] * 30


def test_a_short_run_at_the_end_of_the_data_takes_the_posture_before_it() -> None:
    out = debounced(runs((P.STANDING, 30), (P.SITTING, 3)))
    assert named(out) == [P.STANDING] * 33


def test_a_skipped_gap_ends_a_run_and_a_short_run_after_it_keeps_its_posture() -> None:
    before = runs((P.STANDING, 30), (P.SITTING, 3))
    after = runs((P.SITTING, 3), (P.STANDING, 30), start_s=10_000.0)
    out = debounced(Timeline.concat([before, after]))
    # 3 + 3 sitting seconds are two runs, not one of 6: the first becomes standing, and the
    # one after the gap has nothing before it to take
    assert named(out) == [P.STANDING] * 33 + [P.SITTING] * 3 + [P.STANDING] * 30


def test_the_last_run_is_held_until_it_is_long_enough_to_stand() -> None:
    debouncer = Debouncer(MIN_BOUT_S)
    first = debouncer.push(runs((P.STANDING, 30), (P.SITTING, 3)))
    assert len(first) == 30  # the sitting run may still grow into a bout
    second = debouncer.push(runs((P.SITTING, 2), start_s=33.0))
    assert named(second) == [P.SITTING] * 5  # now it stands, and is released whole
    assert second.t_s.tolist() == list(range(30, 35))
    assert len(debouncer.flush()) == 0


def test_columns_other_than_the_posture_pass_through_unchanged() -> None:
    timeline = runs((P.STANDING, 30), (P.SITTING, 3), (P.STANDING, 30))
    timeline = timeline.replace(flexion_deg=np.arange(63, dtype=np.float64))
    out = debounced(timeline)
    np.testing.assert_array_equal(out.t_s, timeline.t_s)
    np.testing.assert_array_equal(out.flexion_deg, timeline.flexion_deg)


postures = st.sampled_from(list(POSTURES))


@settings(max_examples=200, deadline=None)
@given(
    parts=st.lists(st.tuples(postures, st.integers(1, 8)), min_size=1, max_size=25),
    gap_at=st.integers(0, 200),
    cuts=st.lists(st.integers(0, 200), max_size=10),
)
def test_streaming_in_any_chunks_gives_what_all_at_once_gives(
    parts: list[tuple[Posture, int]], gap_at: int, cuts: list[int]
) -> None:
    timeline = runs(*parts)
    k = len(timeline)
    t = timeline.t_s.copy()
    t[gap_at % k :] += 5000.0  # a skipped gap somewhere (none if at 0)
    timeline = timeline.replace(t_s=t)
    whole = debounced(timeline)
    debouncer = Debouncer(MIN_BOUT_S)
    edges = sorted({0, k, *(c % (k + 1) for c in cuts)})
    streamed = [debouncer.push(timeline.take(slice(a, b))) for a, b in pairwise(edges)]
    out = Timeline.concat([*streamed, debouncer.flush()])
    np.testing.assert_array_equal(out.t_s, timeline.t_s)  # every second once, in order
    assert out.posture.tolist() == whole.posture.tolist()
