"""The simulated wearer who answers nudges: the effect the analytics measure with half the
decision points withheld is within its 95 % interval of the simulator's truth, meetings are
never interrupted, and deferred nudges go out in time."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy.stats import binomtest

from analytics.effect import effect
from analytics.params import AnalyticsParams, NudgePolicy
from analytics.records import EventKind, Placement
from sensor_gateway.nudged_wearer import (
    Habits,
    Meeting,
    NudgedDays,
    _natural_end,
    meeting_calendar,
    simulate_nudged_days,
)

POLICY = NudgePolicy(withhold_probability=0.5, defer_max_s=300.0, seed=4)


@pytest.fixture(scope="module")
def days() -> NudgedDays:
    return simulate_nudged_days(
        days=10,
        seed=100,
        habits=Habits(respond_probability=0.6),
        params=AnalyticsParams(nudges=POLICY),
        placements=(Placement.TRUNK, Placement.THIGH),
    )


@pytest.mark.slow
def test_the_measured_effect_is_within_its_interval_of_the_truth(days: NudgedDays) -> None:
    assert days.late_responses == 0  # every answer could come when the wearer meant it to
    made = [
        d
        for d in days.decisions
        if d.values["reason"] == "sitting" and d.values["decision"] in ("sent", "withheld")
    ]
    assert len(made) >= 60
    withheld = sum(d.values["decision"] == "withheld" for d in made)
    assert binomtest(withheld, len(made), 0.5).pvalue > 1e-3
    measured = effect(days.output.events)
    truth = days.true_effect(made)
    assert measured.interval is not None
    lo, hi = measured.interval
    assert lo <= truth <= hi, (truth, measured.difference, lo, hi)
    assert hi - lo < 0.5  # an interval narrow enough to say something


@pytest.mark.slow
def test_no_nudge_during_a_meeting_and_deferred_ones_in_time_after(days: NudgedDays) -> None:
    nudges = [e for e in days.output.events if e.kind is EventKind.NUDGE]
    assert nudges
    for e in nudges:
        assert not any(m.start_s <= e.start_s < m.end_s for m in days.meetings), e
    waited = [
        d
        for d in days.decisions
        if d.values.get("deferred_by") == "busy" and d.values["decision"] != "dropped"
    ]
    assert waited, "no nudge fell into a meeting"
    for d in waited:
        ended = max(m.end_s for m in days.meetings if m.end_s <= d.start_s)
        assert d.start_s - ended < POLICY.defer_max_s


def test_the_calendar_has_no_overlapping_meetings_within_working_hours() -> None:
    rng = np.random.default_rng(5)
    for day in range(50):
        start = 1e9 + day * 86400
        calendar = meeting_calendar(rng, start, hours=8.0, habits=Habits(meetings=(3, 6)))
        for a, b in itertools.pairwise(calendar):
            assert a.end_s <= b.start_s
        assert all(start + 1800 <= m.start_s and m.end_s <= start + 7.5 * 3600 for m in calendar)


def test_the_wearer_takes_no_break_of_their_own_in_a_desk_meeting() -> None:
    habits = Habits(mean_sitting_s=600.0)
    desk = [Meeting(1000.0, 4000.0, room=False)]
    rng = np.random.default_rng(1)
    ends = [_natural_end(rng, 0.0, habits, desk) for _ in range(2000)]
    assert not any(1000.0 < t < 4000.0 for t in ends)
    # desk work is memoryless: the part that falls before the meeting is as the mean says
    assert np.mean([t < 1000.0 for t in ends]) == pytest.approx(1 - math.exp(-1000 / 600), abs=0.03)


def test_the_chance_of_a_break_anyway_knows_the_calendar() -> None:
    sim = NudgedDays(
        output=None,  # type: ignore[arg-type]
        meetings=[Meeting(10_000.0, 12_000.0, room=True), Meeting(20_000.0, 21_000.0, room=False)],
        days=[(0.0, 30_000.0)],
        habits=Habits(mean_sitting_s=2400.0),
        response_s=300.0,
    )
    assert sim.natural_chance(1000.0) == pytest.approx(1 - math.exp(-300 / 2400))
    assert sim.natural_chance(10_000.0 - 120 - 100) == 1.0  # walking to the room then
    assert sim.natural_chance(29_800.0) == 1.0  # going home
    assert sim.natural_chance(20_100.0) == 0.0  # an online meeting all through
    assert sim.natural_chance(19_900.0) == pytest.approx(1 - math.exp(-100 / 2400))
