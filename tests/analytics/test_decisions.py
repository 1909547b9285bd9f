"""Decision points: each moment a nudge is due is logged with what was decided and what
followed; withholding is random, reproducible and at the configured rate; standing nudges."""

from __future__ import annotations

import pytest
from scipy.stats import binomtest

from analytics.nudges import BREAK_CAP_S, Nudger
from analytics.params import BoutRules, NudgePolicy
from analytics.records import Event, EventKind, Posture
from analytics.timeline import Timeline
from tests.synthetic import timeline

T0 = 1_709_625_600.0  # 2024-03-05 08:00 UTC
S, W, ST, L = Posture.SITTING, Posture.WALKING, Posture.STANDING, Posture.LYING


def run(policy: NudgePolicy, *parts: tuple[Posture, float], wearer: str = "w1") -> list[Event]:
    n = Nudger(wearer, policy, BoutRules(), hold_s=60.0)
    return n.push(timeline(T0, *parts)) + n.flush()


def decisions(events: list[Event]) -> list[Event]:
    return [e for e in events if e.kind is EventKind.NUDGE_DECISION]


def test_a_sent_nudge_is_logged_with_the_break_that_followed_and_its_length() -> None:
    events = run(NudgePolicy(), (S, 33), (ST, 1), (W, 3), (S, 10))
    (nudge,) = [e for e in events if e.kind is EventKind.NUDGE]
    (outcome,) = [e for e in events if e.kind is EventKind.NUDGE_OUTCOME]
    (d,) = decisions(events)
    assert nudge.start_s == outcome.start_s == d.start_s == T0 + 1800
    assert outcome.end_s == T0 + 33 * 60 + 60  # the break is confirmed after break_min_s ...
    assert d.end_s == T0 + 37 * 60  # ... and measured until the wearer sits again
    assert dict(d.values) == {
        "reason": "sitting",
        "decision": "sent",
        "delay_s": 0.0,
        "bout_s": 1800.0,
        "responded": True,
        "response_s": 180.0,
        "break_s": 240.0,
    }


def test_a_long_break_is_measured_up_to_the_cap_and_a_gap_ends_it() -> None:
    (d,) = decisions(run(NudgePolicy(), (S, 31), (W, 90)))
    assert d.values["break_s"] == BREAK_CAP_S
    (d,) = decisions(run(NudgePolicy(), (S, 31), (W, 10)))  # the data end during the break
    assert d.values["break_s"] == 600.0
    (d,) = decisions(run(NudgePolicy(), (S, 31), (L, 10)))  # lying down is not a break
    assert d.values["responded"] is False
    assert "break_s" not in d.values


def test_withheld_decision_points_are_logged_but_not_sent() -> None:
    policy = NudgePolicy(withhold_probability=0.5, seed=11)
    parts = [(S, 35.0), (W, 3.0)] * 40
    events = run(policy, *parts)
    made = decisions(events)
    withheld = [d for d in made if d.values["decision"] == "withheld"]
    sent = {e.start_s for e in events if e.kind is EventKind.NUDGE}
    assert withheld
    assert sent
    assert not {d.start_s for d in withheld} & sent
    assert {d.start_s for d in made} - {d.start_s for d in withheld} == sent
    # a withheld moment is followed like a sent one: here every bout ends with a walk
    assert all(d.values["responded"] is True for d in withheld)


def test_withholding_happens_at_the_configured_rate() -> None:
    """400 decision points at p = 0.3: the withheld count is what a fair coin with p = 0.3
    gives (a binomial test at the 0.1 % level), for two wearers and two seeds."""
    parts = [(S, 32.0), (W, 2.0)] * 200
    for wearer, seed in (("w1", 0), ("w2", 7)):
        made = decisions(
            run(NudgePolicy(withhold_probability=0.3, seed=seed), *parts, wearer=wearer)
        )
        assert len(made) == 200
        k = sum(d.values["decision"] == "withheld" for d in made)
        assert binomtest(k, len(made), 0.3).pvalue > 1e-3, k
    none = decisions(run(NudgePolicy(), *parts[:20]))
    assert {d.values["decision"] for d in none} == {"sent"}


def test_withholding_is_reproducible_from_the_seed() -> None:
    parts = [(S, 32.0), (W, 2.0)] * 30

    def withheld(seed: int, wearer: str = "w1") -> list[float]:
        policy = NudgePolicy(withhold_probability=0.5, seed=seed)
        return [
            d.start_s
            for d in decisions(run(policy, *parts, wearer=wearer))
            if d.values["decision"] == "withheld"
        ]

    assert withheld(1) == withheld(1)
    assert withheld(1) != withheld(2)
    assert withheld(1) != withheld(1, "w2")  # each wearer has draws of their own


def test_standing_still_nudges_are_opt_in() -> None:
    parts = ((ST, 50.0), (W, 0.5), (ST, 10.0), (S, 5.0))
    assert decisions(run(NudgePolicy(), *parts)) == []
    made = decisions(run(NudgePolicy(standing=True), *parts))
    # due after 45 min of standing (a short walk does not end the spell), then every 15 min;
    # sitting down half a minute after the second counts as a response
    assert [(d.start_s - T0, d.values["reason"], d.values["responded"]) for d in made] == [
        (2700.0, "standing", False),
        (3600.0, "standing", True),
    ]
    assert made[1].values["response_s"] == 30.0


def test_at_most_one_decision_a_second() -> None:
    """A slouch nudge due in the same second as a movement break waits a second."""
    n = Nudger("w1", NudgePolicy(), BoutRules(), hold_s=60.0)
    events = n.push(timeline(T0, (S, 40), slouch=(29, 35))) + n.flush()
    times = [d.start_s - T0 for d in decisions(events)]
    assert times == [1800.0, 1801.0]
    assert [d.values["reason"] for d in decisions(events)] == ["sitting", "slouch"]


@pytest.mark.parametrize("bad", [{"withhold_probability": 1.0}, {"withhold_probability": -0.1}])
def test_a_withhold_probability_outside_0_to_1_is_refused(bad: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="withhold_probability"):
        NudgePolicy(**bad)  # type: ignore[arg-type]


def test_slouch_nudges_are_never_withheld() -> None:
    """Withholding is for the break nudges, whose effect is a break; a slouch nudge is feedback."""
    n = Nudger("w1", NudgePolicy(withhold_probability=0.9, sitting_s=1e6), BoutRules(), hold_s=60.0)
    spells = [timeline(T0 + 2400 * i, (S, 40), slouch=(2, 5)) for i in range(20)]
    events = n.push(Timeline.concat(spells)) + n.flush()
    made = decisions(events)
    assert len(made) >= 15
    assert {(d.values["reason"], d.values["decision"]) for d in made} == {("slouch", "sent")}
