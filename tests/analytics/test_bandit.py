"""Adaptive timing: the bandit stays within the ergonomist's bounds, learns what works, and its
state survives a restart."""

from __future__ import annotations

import json

import numpy as np
import pytest

from analytics.bandit import IntervalBandit, explain
from analytics.monitor import WearerMonitor
from analytics.nudges import Nudger
from analytics.params import AnalyticsParams, BoutRules, NudgePolicy
from analytics.records import Event, EventKind, Placement, Posture
from tests.synthetic import timeline

T0 = 1_709_625_600.0
S, W = Posture.SITTING, Posture.WALKING


def test_the_policy_offers_only_intervals_within_the_bounds() -> None:
    policy = NudgePolicy(adaptive=True, adaptive_min_s=25 * 60, adaptive_max_s=50 * 60)
    assert policy.arms_s == (1800.0, 2700.0)
    with pytest.raises(ValueError, match="no interval"):
        NudgePolicy(adaptive=True, adaptive_min_s=61 * 60, adaptive_max_s=90 * 60)


def test_each_bout_gets_an_allowed_interval_and_every_one_is_tried() -> None:
    policy = NudgePolicy(adaptive=True, adaptive_min_s=20 * 60, adaptive_max_s=45 * 60)
    n = Nudger("w1", policy, BoutRules(), hold_s=60.0)
    events = n.push(timeline(T0, *[(S, 70.0), (W, 3.0)] * 60)) + n.flush()
    firsts = [e for e in events if e.kind is EventKind.NUDGE_DECISION and "interval_s" in e.values]
    assert len(firsts) == 60
    chosen = {float(e.values["interval_s"]) for e in firsts}  # type: ignore[arg-type]
    assert chosen == {1200.0, 1800.0, 2700.0}
    for e in firsts:  # the first nudge of the bout comes after the chosen interval
        assert e.values["bout_s"] == e.values["interval_s"]


def test_the_bandit_learns_the_interval_that_is_followed_by_breaks() -> None:
    bandit = IntervalBandit((1200.0, 1800.0, 2700.0, 3600.0))
    rng = np.random.default_rng(3)
    works = {1200.0: 0.1, 1800.0: 0.2, 2700.0: 0.7, 3600.0: 0.2}
    picks = []
    for _ in range(400):
        arm = bandit.choose(rng)
        picks.append(arm)
        bandit.update(arm, success=bool(rng.random() < works[arm]))
    late = picks[-100:]
    assert late.count(2700.0) > 70
    assert bandit.mean(2700.0) > max(bandit.mean(a) for a in (1200.0, 1800.0, 3600.0))


def test_the_state_round_trips_through_json_and_respects_new_bounds() -> None:
    bandit = IntervalBandit((1200.0, 1800.0, 2700.0))
    for _ in range(5):
        bandit.update(1800.0, success=True)
    bandit.update(2700.0, success=False)
    state = json.loads(json.dumps(bandit.state()))
    again = IntervalBandit((1200.0, 1800.0, 2700.0), state=state)
    assert again.state() == bandit.state()
    narrower = IntervalBandit((1800.0,), state=state)  # the ergonomist narrowed the bounds
    assert narrower.arms_s == (1800.0,)
    assert narrower.mean(1800.0) == bandit.mean(1800.0)


@pytest.mark.parametrize(
    "state",
    [
        {"version": 2, "arms": {}},
        {"version": 1, "arms": []},
        {"version": 1, "arms": {"1800": ["x", 1]}},
        {"version": 1, "arms": {"1800": [-1, 0]}},
        {"version": 1, "arms": {"1800": [1.0]}},
    ],
)
def test_a_bad_state_is_refused(state: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="state"):
        IntervalBandit((1800.0,), state=state)


def test_the_monitor_carries_the_learned_timing_across_a_restart() -> None:
    policy = NudgePolicy(adaptive=True)
    fresh = WearerMonitor("w1", params=AnalyticsParams(nudges=policy))
    assert fresh.nudge_state() == IntervalBandit(policy.arms_s).state()
    n = Nudger("w1", policy, BoutRules(), hold_s=60.0)
    n.push(timeline(T0, *[(S, 65.0), (W, 3.0)] * 10))
    assert n.bandit is not None
    state = n.bandit.state()
    assert state != IntervalBandit(policy.arms_s).state()
    restored = WearerMonitor(
        "w1",
        placements=(Placement.TRUNK,),
        params=AnalyticsParams(nudges=policy),
        nudge_state=state,
    )
    assert restored.nudge_state() == state
    assert WearerMonitor("w1").nudge_state() is None  # not adaptive: nothing to keep


def test_the_timing_is_explained_in_plain_words() -> None:
    def decision(t: float, interval: float, responded: bool) -> Event:
        values = {
            "reason": "sitting",
            "decision": "sent",
            "responded": responded,
            "interval_s": interval,
        }
        return Event("w1", EventKind.NUDGE_DECISION, t, t + 300, values=values)

    events = [
        decision(1.0, 1800.0, False),
        decision(2.0, 2700.0, True),
        decision(3.0, 2700.0, True),
    ]
    text = explain(events)
    assert text is not None
    assert text.startswith("Your movement-break nudges now come after 45 min of sitting because")
    assert "after 2 nudges at that time you took a break 2 times" in text
    assert "(at other times: 30 min: 0 of 1)" in text
    assert explain([]) is None
