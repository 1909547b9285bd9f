"""The aligner: one dense grid of seconds for all of a wearer's sensors, however batches arrive."""

from __future__ import annotations

from dataclasses import fields
from itertools import pairwise

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray

from analytics.align import MAX_GAP_S, Aligner
from analytics.epochs import EpochBlock, Epocher, features
from analytics.records import Placement

TRUNK, THIGH = Placement.TRUNK, Placement.THIGH
RATE_HZ = 5.0
F64 = NDArray[np.float64]


def samples(*spans: tuple[float, float], seed: int = 1) -> tuple[F64, F64]:
    """Sample times at RATE_HZ over the [start, stop) spans, and seeded accelerations (n, 3)."""
    t = np.concatenate([np.arange(a * RATE_HZ, b * RATE_HZ) / RATE_HZ for a, b in spans])
    accel = np.random.default_rng(seed).normal([0.0, 0.0, 1.0], 0.05, size=(t.size, 3))
    return t, accel


def aligner(
    *, max_wait_s: float = 60.0, step_s: int = 1
) -> tuple[Aligner, dict[Placement, Epocher]]:
    epochers = {TRUNK: Epocher(), THIGH: Epocher()}
    return Aligner(epochers, max_wait_s=max_wait_s, step_s=step_s), epochers


def joined(parts: list[dict[Placement, EpochBlock]], placement: Placement) -> EpochBlock:
    return EpochBlock.concat([p[placement] for p in parts if p])


def assert_same(a: EpochBlock, b: EpochBlock) -> None:
    for f in fields(EpochBlock):
        np.testing.assert_array_equal(getattr(a, f.name), getattr(b, f.name), err_msg=f.name)


def test_every_second_from_the_first_sample_to_the_last_is_one_row_of_every_sensor() -> None:
    align, epochers = aligner()
    epochers[TRUNK].push(*samples((0, 30)), rate_hz=RATE_HZ)
    epochers[THIGH].push(*samples((5, 10), (15, 25), seed=2), rate_hz=RATE_HZ)
    out = align.flush()
    for placement in (TRUNK, THIGH):
        assert out[placement].t_s.tolist() == list(range(30))


def test_a_second_a_sensor_did_not_deliver_is_a_row_with_fill_0_and_nan_features() -> None:
    align, epochers = aligner()
    epochers[TRUNK].push(*samples((0, 30)), rate_hz=RATE_HZ)
    t, accel = samples((5, 10), (15, 25), seed=2)
    epochers[THIGH].push(t, accel, rate_hz=RATE_HZ)
    thigh = align.flush()[THIGH]
    had = np.isin(thigh.t_s, np.floor(t))
    assert had.sum() == 15
    assert (thigh.fill[~had] == 0.0).all()
    for f in fields(EpochBlock):
        if f.name not in ("t_s", "fill"):
            assert np.isnan(getattr(thigh, f.name)[~had]).all(), f.name
    assert_same(thigh.take(had), features(t, accel, rate_hz=RATE_HZ))


@pytest.mark.parametrize(("silent_s", "skipped"), [(MAX_GAP_S - 2, False), (MAX_GAP_S, True)])
def test_a_gap_longer_than_max_gap_s_in_every_sensor_is_skipped(
    silent_s: float, skipped: bool
) -> None:
    align, epochers = aligner()
    for placement in (TRUNK, THIGH):
        epochers[placement].push(*samples((0, 10), (10 + silent_s, 20 + silent_s)), rate_hz=RATE_HZ)
    out = align.flush()
    seconds = out[TRUNK].t_s
    inside = (seconds >= 10) & (seconds < 10 + silent_s)
    assert inside.sum() == (0 if skipped else silent_s)
    assert len(seconds) == 20 + (0 if skipped else silent_s)
    np.testing.assert_array_equal(out[THIGH].t_s, seconds)


def test_a_long_gap_is_skipped_whole_when_a_release_step_ends_inside_it() -> None:
    """Released in steps of 10 s, the grid must still judge the gap 60..3665 by its length."""
    align, epochers = aligner(step_s=10)
    resume = MAX_GAP_S + 65
    parts = []
    for t, accel in (
        samples((0, 60)),
        samples((resume, resume + 1)),
        samples((resume + 1, resume + 35)),
    ):
        for placement in (TRUNK, THIGH):
            epochers[placement].push(t, accel, rate_hz=RATE_HZ)
        parts.append(align.advance())
    parts.append(align.flush())
    seconds = joined(parts, TRUNK).t_s
    assert seconds.tolist() == [*range(60), *range(int(resume), int(resume) + 35)]


def test_a_long_gap_in_only_one_sensor_is_filled_second_by_second() -> None:
    align, epochers = aligner()
    epochers[TRUNK].push(*samples((0, MAX_GAP_S + 100)), rate_hz=RATE_HZ)
    epochers[THIGH].push(*samples((0, 10), (MAX_GAP_S + 50, MAX_GAP_S + 100)), rate_hz=RATE_HZ)
    thigh = align.flush()[THIGH]
    assert thigh.t_s.tolist() == list(range(int(MAX_GAP_S) + 100))
    assert (thigh.fill[10 : int(MAX_GAP_S) + 50] == 0.0).all()


def test_nothing_is_released_before_every_sensor_has_moved_past_it() -> None:
    align, epochers = aligner(max_wait_s=60.0)
    epochers[TRUNK].push(*samples((0, 50)), rate_hz=RATE_HZ)
    assert align.advance() == {}  # the thigh has sent nothing yet
    epochers[THIGH].push(*samples((0, 10.5)), rate_hz=RATE_HZ)  # filling its second 10
    out = align.advance()
    assert out[TRUNK].t_s.tolist() == out[THIGH].t_s.tolist() == list(range(10))
    assert align.advance() == {}  # released once only


@pytest.mark.parametrize("max_wait_s", [30.0, 60.0])
def test_a_sensor_that_runs_ahead_is_released_max_wait_s_behind_it_without_the_other(
    max_wait_s: float,
) -> None:
    align, epochers = aligner(max_wait_s=max_wait_s)
    epochers[THIGH].push(*samples((0, 10.5)), rate_hz=RATE_HZ)
    epochers[TRUNK].push(*samples((0, 200.5)), rate_hz=RATE_HZ)  # filling its second 200
    out = align.advance()
    until = int(200 - max_wait_s)
    assert out[THIGH].t_s.tolist() == list(range(until))
    assert (out[THIGH].fill[11:] == 0.0).all()
    # the laggard's samples of seconds already released come too late and are counted
    epochers[THIGH].push(*samples((11, until + 5)), rate_hz=RATE_HZ)
    assert epochers[THIGH].late_samples == (until - 11) * RATE_HZ
    rest = align.flush()
    assert rest[THIGH].t_s[0] == until
    assert (rest[THIGH].fill[:5] > 0).all()


def test_seconds_are_released_in_whole_steps() -> None:
    align, epochers = aligner(step_s=10)
    for placement in (TRUNK, THIGH):
        epochers[placement].push(*samples((0, 37)), rate_hz=RATE_HZ)
    assert align.advance()[TRUNK].t_s.tolist() == list(range(30))
    for placement in (TRUNK, THIGH):
        epochers[placement].push(*samples((37, 39)), rate_hz=RATE_HZ)
    assert align.advance() == {}
    assert align.flush()[TRUNK].t_s.tolist() == list(range(30, 39))


def test_a_wearer_without_sensors_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one sensor"):
        Aligner({})


def _batches(t: F64, accel: F64, cuts: list[int]) -> list[tuple[F64, F64]]:
    """The samples cut into consecutive batches at the sample indices `cuts`."""
    edges = sorted({0, t.size, *(c % (t.size + 1) for c in cuts)})
    return [(t[a:b], accel[a:b]) for a, b in pairwise(edges) if b > a]


@settings(max_examples=60, deadline=None)
@given(
    trunk_cuts=st.lists(st.integers(0, 10_000), max_size=12),
    thigh_cuts=st.lists(st.integers(0, 10_000), max_size=12),
    order=st.lists(st.booleans(), min_size=30, max_size=30),
    thigh_gap=st.tuples(st.integers(0, 50), st.integers(0, 10)),
    silent_s=st.sampled_from([0.0, 30.0, MAX_GAP_S + 5]),
    step_s=st.sampled_from([1, 10]),
)
def test_the_result_does_not_depend_on_how_the_two_sensors_batches_interleave(
    *,
    trunk_cuts: list[int],
    thigh_cuts: list[int],
    order: list[bool],
    thigh_gap: tuple[int, int],
    silent_s: float,
    step_s: int,
) -> None:
    """Each sensor's samples in order, cut anywhere, interleaved anyhow (no sensor ahead by
    more than max_wait_s): the same seconds with the same features as all at once."""
    lo, n = thigh_gap
    data = {
        TRUNK: samples((0.3, 60), (60 + silent_s, 100 + silent_s)),
        THIGH: samples((0, lo), (lo + n, 60), (60 + silent_s, 97.1 + silent_s), seed=2),
    }
    whole, epochers = aligner(max_wait_s=1e9, step_s=step_s)
    for placement, (t, accel) in data.items():
        epochers[placement].push(t, accel, rate_hz=RATE_HZ)
    expected = whole.flush()

    align, epochers = aligner(max_wait_s=1e9, step_s=step_s)
    queues = {TRUNK: _batches(*data[TRUNK], trunk_cuts), THIGH: _batches(*data[THIGH], thigh_cuts)}
    parts = []
    turns = iter(order)
    while queues[TRUNK] or queues[THIGH]:
        placement = TRUNK if next(turns, True) else THIGH
        if not queues[placement]:
            placement = THIGH if placement is TRUNK else TRUNK
        t, accel = queues[placement].pop(0)
        epochers[placement].push(t, accel, rate_hz=RATE_HZ)
        parts.append(align.advance())
    parts.append(align.flush())
    for placement in (TRUNK, THIGH):
        assert_same(joined(parts, placement), expected[placement])
