"""Per-minute metrics: what each number counts (seconds without data: test_minutes_nodata.py)."""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analytics.minutes import MinuteAggregator, summarise
from analytics.records import MinuteMetrics, Posture
from analytics.timeline import CODE, POSTURES, Timeline
from tests.synthetic import seconds

T0 = 1_800_000_000.0  # a whole minute
P = Posture
WORKING = (P.SITTING, P.STANDING, P.WALKING)


def minute(*parts: tuple[Posture, int], start_s: float = T0, **columns: object) -> Timeline:
    """Consecutive seconds from `start_s`: each part is (posture, seconds); `columns` as given."""
    codes = np.concatenate([np.full(n, CODE[p], dtype=np.int8) for p, n in parts])
    return seconds(codes, start_s=start_s, **columns)


def one(timeline: Timeline) -> MinuteMetrics:
    (metrics,) = summarise("w1", timeline)
    return metrics


@pytest.mark.parametrize("other", [P.LYING, P.NOT_WORN, P.UNKNOWN])
def test_flexion_counts_only_sitting_standing_and_walking_seconds(other: Posture) -> None:
    flexion = np.repeat([10.0, 30.0, 20.0, 85.0], 15)
    m = one(minute(*((p, 15) for p in (*WORKING, other)), flexion_deg=flexion))
    assert m.flexion_mean_deg == 20.0
    assert m.flexion_max_deg == 30.0


def test_a_minute_without_a_working_second_with_flexion_has_none() -> None:
    lying = one(minute((P.LYING, 60), flexion_deg=np.full(60, 80.0)))
    assert (lying.flexion_mean_deg, lying.flexion_max_deg) == (None, None)
    unknown_angle = one(minute((P.SITTING, 60)))  # no upright reference yet: NaN
    assert (unknown_angle.flexion_mean_deg, unknown_angle.flexion_max_deg) == (None, None)


def test_exposure_bands_split_the_inclination_of_working_seconds_at_20_and_60_deg() -> None:
    incl = np.array([0.0, 19.99, 20.0, 59.99, 60.0, 120.0, np.nan] + [40.0] * 53)
    postures = [(P.SITTING, 3), (P.STANDING, 2), (P.WALKING, 2), (P.LYING, 53)]
    m = one(minute(*postures, inclination_deg=incl, flexion_deg=np.zeros(60)))
    assert m.band_s == (2, 2, 2)


def test_sideways_bending_beyond_10_deg_either_way_counts_only_in_working_postures() -> None:
    lateral = np.array([10.0, 10.01, -10.01, -25.0, np.nan, 30.0] + [0.0] * 54)
    m = one(
        minute((P.SITTING, 3), (P.WALKING, 2), (P.LYING, 1), (P.STANDING, 54), lateral_deg=lateral)
    )
    assert m.lateral_s == 3


def test_enmo_is_the_mean_over_the_seconds_with_data_in_milli_g() -> None:
    enmo = np.concatenate([np.full(30, 0.01), np.full(10, 0.03), np.full(20, np.nan)])
    assert one(minute((P.SITTING, 60), enmo_g=enmo)).enmo_mg == 15.0
    assert one(minute((P.SITTING, 60))).enmo_mg == 0.0  # no data at all


def test_steps_and_slouched_seconds_add_up_per_minute() -> None:
    steps = np.zeros(120, dtype=np.int64)
    steps[[0, 59, 60, 61]] = [2, 1, 3, 2]
    slouched = np.zeros(120, dtype=bool)
    slouched[50:70] = True
    first, second = summarise("w1", minute((P.WALKING, 120), steps=steps, slouched=slouched))
    assert (first.steps, second.steps) == (3, 5)
    assert (first.slouch_s, second.slouch_s) == (10, 10)


def test_posture_seconds_add_up_to_60_when_seconds_are_missing_anywhere_in_the_minute() -> None:
    t = T0 + np.concatenate(
        [np.arange(10, 20), np.arange(30, 50)]
    )  # none before 10, in 20..30, after 50
    tl = minute((P.SITTING, 12), (P.LYING, 8), (P.UNKNOWN, 3), (P.WALKING, 7), t_s=t)
    m = one(tl)
    assert sum(m.posture_s.values()) == 60
    assert m.start_s == T0
    assert {p: n for p, n in m.posture_s.items() if n} == {
        P.SITTING: 12,
        P.LYING: 8,
        P.WALKING: 7,
        P.UNKNOWN: 3 + 30,
    }


def test_a_minute_is_released_once_a_second_of_a_later_minute_has_arrived() -> None:
    aggregator = MinuteAggregator("w1")
    assert aggregator.push(minute((P.SITTING, 59))) == []
    assert aggregator.push(minute((P.SITTING, 1), start_s=T0 + 59)) == []
    (done,) = aggregator.push(minute((P.STANDING, 1), start_s=T0 + 60))
    assert done.start_s == T0
    assert done.posture_s[P.SITTING] == 60
    (last,) = aggregator.flush()
    assert last.start_s == T0 + 60
    assert last.posture_s[P.STANDING] == 1
    assert aggregator.flush() == []


def test_minutes_begin_on_whole_minutes_whenever_the_data_begin() -> None:
    out = summarise("w1", minute((P.SITTING, 100), start_s=T0 + 45))
    assert [m.start_s for m in out] == [T0, T0 + 60, T0 + 120]
    assert [m.posture_s[P.SITTING] for m in out] == [15, 60, 25]


@settings(max_examples=100, deadline=None)
@given(
    codes=st.lists(st.integers(0, len(POSTURES) - 1), min_size=1, max_size=300),
    drop=st.lists(st.integers(0, 299), max_size=60),
    cuts=st.lists(st.integers(0, 300), max_size=6),
    seed=st.integers(0, 2**16),
)
def test_streaming_in_any_chunks_gives_the_minutes_of_all_at_once_and_each_adds_up(
    codes: list[int], drop: list[int], cuts: list[int], seed: int
) -> None:
    rng = np.random.default_rng(seed)
    k = len(codes)
    keep = np.ones(k, dtype=bool)
    keep[[i % k for i in drop]] = False
    keep[0] = True
    noisy = {
        "flexion_deg": rng.uniform(-20, 90, k),
        "inclination_deg": rng.uniform(0, 120, k),
        "lateral_deg": rng.uniform(-30, 30, k),
        "enmo_g": np.where(rng.random(k) < 0.2, np.nan, rng.uniform(0, 0.5, k)),
        "steps": rng.integers(0, 3, k),
        "slouched": rng.random(k) < 0.3,
    }
    tl = minute(*((POSTURES[c], 1) for c in codes), start_s=T0 + 17, **noisy).take(keep)
    whole = summarise("w1", tl)
    aggregator = MinuteAggregator("w1")
    n = len(tl)
    edges = sorted({0, n, *(c % (n + 1) for c in cuts)})
    streamed = [m for a, b in pairwise(edges) for m in aggregator.push(tl.take(slice(a, b)))]
    assert streamed + aggregator.flush() == whole
    for m in whole:
        inside = (tl.t_s >= m.start_s) & (tl.t_s < m.start_s + 60)
        for p in POSTURES:
            expected = int((tl.posture[inside] == CODE[p]).sum())
            if p is P.UNKNOWN:
                expected += 60 - int(inside.sum())
            assert m.posture_s[p] == expected
