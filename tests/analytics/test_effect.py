"""The measured effect of nudges: intervals match the published values, decisions are counted."""

from __future__ import annotations

import pytest

from analytics.effect import describe, effect, newcombe, wilson
from analytics.records import Event, EventKind


@pytest.mark.parametrize(
    ("k", "n", "lo", "hi"),
    # Newcombe (1998), Statistics in Medicine 17:857-872, table I, method 3 (Wilson score)
    [
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0, 0.1611),
        (1, 29, 0.0061, 0.1718),
    ],
)
def test_wilson_intervals_match_the_published_ones(k: int, n: int, lo: float, hi: float) -> None:
    got = wilson(k, n)
    assert got == pytest.approx((lo, hi), abs=5e-5)


@pytest.mark.parametrize(
    ("k1", "n1", "k0", "n0", "lo", "hi"),
    # Newcombe (1998), Statistics in Medicine 17:873-890, table II, method 10 (hybrid score)
    [
        (56, 70, 48, 80, 0.0524, 0.3339),
        (9, 10, 3, 10, 0.1705, 0.8090),
        (5, 56, 0, 29, -0.0381, 0.1926),
    ],
)
def test_newcombe_intervals_match_the_published_ones(  # noqa: PLR0917 (pytest passes them)
    k1: int, n1: int, k0: int, n0: int, lo: float, hi: float
) -> None:
    assert newcombe(k1, n1, k0, n0) == pytest.approx((lo, hi), abs=5e-5)


def decision(
    wearer: str, t: float, decision: str, *, responded: bool, reason: str = "sitting"
) -> Event:
    values: dict[str, str | bool | float] = {"reason": reason, "decision": decision}
    if decision != "dropped":
        values["responded"] = responded
        if responded:
            values |= {"response_s": 60.0, "break_s": 180.0}
    return Event(wearer, EventKind.NUDGE_DECISION, t, t + 300, values=values)


def test_the_effect_counts_breaks_after_sent_and_withheld_decisions() -> None:
    events = [
        *(decision("w1", 100.0 * i, "sent", responded=i < 6) for i in range(10)),
        *(decision("w2", 5000.0 + 100 * i, "withheld", responded=i < 2) for i in range(8)),
        decision("w2", 9000.0, "dropped", responded=False),
        decision("w3", 9100.0, "sent", responded=True, reason="slouch"),  # another kind
        Event("w1", EventKind.NUDGE, 100.0, 100.0, {"reason": "sitting"}),  # not a decision
    ]
    e = effect(events)
    assert (e.sent.breaks, e.sent.decisions, e.withheld.breaks, e.withheld.decisions) == (
        6,
        10,
        2,
        8,
    )
    assert (e.dropped, e.wearers) == (1, 2)
    assert e.difference == pytest.approx(0.6 - 0.25)
    assert e.interval == pytest.approx(newcombe(6, 10, 2, 8))
    assert e.sent.mean_break_s == 180.0
    words = " ".join(describe(e))
    assert "After 10 movement-break nudges sent, the wearer took a break" in words
    assert "6 times (60 %" in words
    assert "2 times (25 %" in words
    assert "35 % more breaks" in words
    assert "1 nudge was due but not sent" in words


def test_without_withheld_decisions_there_is_no_difference() -> None:
    e = effect([decision("w1", 0.0, "sent", responded=True)])
    assert e.difference is None
    assert e.interval is None
    assert "No movement-break nudge was withheld." in describe(e)
