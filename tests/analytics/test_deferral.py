"""Context-aware deferral: busy contexts, "already upright", the bounded delay, and pauses that
end by themselves."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from analytics.nudges import Nudger
from analytics.params import BoutRules, NudgePolicy
from analytics.records import Event, EventKind, Posture
from analytics.schedule import Schedule
from analytics.timeline import Timeline
from tests.synthetic import timeline

BERLIN = ZoneInfo("Europe/Berlin")
T0 = datetime(2024, 3, 5, 9, 0, tzinfo=BERLIN).timestamp()  # a Tuesday, 09:00 in Berlin
S, W, ST = Posture.SITTING, Posture.WALKING, Posture.STANDING


def run(nudger: Nudger, tl: Timeline, *, chunk: int = 0) -> list[Event]:
    step = chunk or len(tl)
    events = []
    for i in range(0, len(tl), step):
        events += nudger.push(tl.take(slice(i, i + step)))
    return events + nudger.flush()


def of(events: list[Event], kind: EventKind) -> list[Event]:
    return [e for e in events if e.kind is kind]


def sent(events: list[Event]) -> list[float]:
    return [e.start_s - T0 for e in of(events, EventKind.NUDGE)]


def decisions(events: list[Event]) -> list[tuple[float, str, str]]:
    return [
        (e.start_s - T0, str(e.values["decision"]), str(e.values.get("deferred_by", "")))
        for e in of(events, EventKind.NUDGE_DECISION)
    ]


def nudger(**policy: object) -> Nudger:
    return Nudger("w1", NudgePolicy(**policy), BoutRules(), hold_s=60.0)  # type: ignore[arg-type]


def test_a_nudge_due_in_a_meeting_goes_out_when_it_ends() -> None:
    n = nudger()
    n.schedule.busy(T0 + 1700, T0 + 2300, "calendar")
    events = run(n, timeline(T0, (S, 50), (W, 5)))
    assert sent(events) == [2300.0]  # due at 1800; the next is due 15 min after this one
    (d,) = of(events, EventKind.NUDGE_DECISION)
    assert d.values["deferred_by"] == "busy"
    assert d.values["delay_s"] == 500.0


def test_a_nudge_due_while_briefly_up_goes_out_when_the_wearer_sits_again() -> None:
    events = run(nudger(), timeline(T0, (S, 29.5), (ST, 0.75), (S, 20)))
    assert sent(events) == [1815.0, 2715.0]
    assert decisions(events) == [(1815.0, "sent", "upright"), (2715.0, "sent", "")]


def test_no_nudge_for_a_wearer_already_up_for_a_break() -> None:
    events = run(nudger(), timeline(T0, (S, 29.5), (W, 3), (S, 20)))
    assert sent(events) == []
    assert decisions(events) == [(1830.0, "dropped", "upright")]  # the break ended the bout


def test_a_deferred_nudge_that_cannot_go_out_in_time_is_dropped() -> None:
    n = nudger(defer_max_s=30.0)
    n.schedule.busy(T0 + 1700, T0 + 2000, "calendar")
    # up when the meeting ends, for 50 s: too late to nudge when sitting down again
    events = run(n, timeline(T0, (S, 2000 / 60), (ST, 50 / 60), (S, 25)))
    assert decisions(events)[0] == (2030.0, "dropped", "busy")
    assert sent(events) == [2930.0]  # the next one, a repeat interval after the drop


@pytest.mark.parametrize("seed", range(6))
def test_no_nudge_inside_a_busy_interval_and_each_goes_out_in_time_after(seed: int) -> None:
    """Random calendars over a day of long sitting with short stands: nothing is sent while
    busy, and every nudge that waited for a meeting goes out within defer_max_s of its end."""
    rng = np.random.default_rng(seed)
    parts: list[tuple[Posture, float]] = []
    while sum(m for _, m in parts) < 8 * 60:
        parts += [(S, float(rng.uniform(20, 90))), (ST, float(rng.uniform(0.2, 0.9)))]
        if rng.random() < 0.3:
            parts.append((W, float(rng.uniform(2, 6))))
    policy = NudgePolicy(defer_max_s=120.0, withhold_probability=0.2)
    n = Nudger("w1", policy, BoutRules(), hold_s=60.0)
    meetings = []
    t = T0 + float(rng.uniform(600, 3600))
    while t < T0 + 8 * 3600:
        end = t + float(rng.uniform(15, 90)) * 60
        meetings.append((t, end))
        n.schedule.busy(t, end, "calendar")
        t = end + float(rng.uniform(5, 120)) * 60
    events = run(n, timeline(T0, *parts))
    made = [e for e in of(events, EventKind.NUDGE_DECISION) if e.values["decision"] != "dropped"]
    waited = [e for e in made if e.values.get("deferred_by") == "busy"]
    assert waited, "no nudge fell into a meeting: make the test's calendar busier"
    for e in made:
        assert not any(a <= e.start_s < b for a, b in meetings), e
    for e in waited:
        ended = max(b for a, b in meetings if b <= e.start_s)
        assert e.start_s - ended < policy.defer_max_s, e


def test_live_contexts_replace_what_their_source_said_before() -> None:
    s = Schedule(NudgePolicy(context_max_s=3600.0))
    s.context(T0, "teams", busy=True)
    s.busy(T0 + 600, T0 + 900, "calendar")
    s.context(T0 + 300, "teams", busy=False)
    assert s.wait(T0 + 100) == (T0 + 300, "busy")
    assert s.wait(T0 + 700) == (T0 + 900, "busy")  # the calendar still says so
    assert s.next_allowed(T0 + 1000) == T0 + 1000
    s.context(T0 + 2000, "teams", busy=True, until_s=T0 + 2600)
    assert s.next_allowed(T0 + 2100) == T0 + 2600
    s.context(T0 + 4000, "teams", busy=True)  # no end said: at most context_max_s
    assert s.next_allowed(T0 + 4100) == T0 + 4000 + 3600


def test_do_not_disturb_without_an_end_lasts_until_the_end_of_the_day() -> None:
    s = Schedule(NudgePolicy(timezone="Europe/Berlin"))
    s.dnd(T0 + 6 * 3600, on=True)  # 15:00
    midnight = datetime(2024, 3, 6, 0, 0, tzinfo=BERLIN).timestamp()
    assert s.wait(T0 + 7 * 3600) == (midnight, "dnd")
    s.dnd(midnight + 9 * 3600, on=True, until_s=midnight + 10 * 3600)
    assert s.next_allowed(midnight + 9.5 * 3600) == midnight + 10 * 3600
    s.dnd(midnight + 9.6 * 3600, on=False)
    assert s.next_allowed(midnight + 9.7 * 3600) == midnight + 9.7 * 3600


def test_a_new_snooze_replaces_the_one_before() -> None:
    s = Schedule(NudgePolicy())
    s.snooze(T0, T0 + 3600)
    s.snooze(T0 + 600, T0 + 900)  # "only 5 more minutes"
    assert s.wait(T0 + 300) == (T0 + 900, "snooze")  # the first, shortened, then the second
    assert s.next_allowed(T0 + 700) == T0 + 900
    assert s.next_allowed(T0 + 1000) == T0 + 1000


@pytest.mark.parametrize("chunk", [1, 7, 60, 997])
def test_decisions_do_not_depend_on_how_the_seconds_arrive(chunk: int) -> None:
    tl = timeline(
        T0,
        (S, 29.5),
        (ST, 0.75),
        (S, 47),
        (ST, 3),
        (S, 95),
        (ST, 50),
        (W, 2),
        slouch=(60, 70),
    )
    policy = NudgePolicy(
        timezone="Europe/Berlin",
        quiet_hours=(("11:40", "11:50"),),
        withhold_probability=0.4,
        standing=True,
        adaptive=True,
        defer_max_s=90.0,
        seed=5,
    )

    def fresh() -> Nudger:
        n = Nudger("w1", policy, BoutRules(), hold_s=60.0)
        n.schedule.busy(T0 + 2400, T0 + 3000, "calendar")
        n.schedule.busy(T0 + 1790, T0 + 1800.5, "calendar")
        n.schedule.busy(T0 + 4400, T0 + 4700, "calendar")  # ends after the bout did
        n.schedule.context(T0 + 6000, "teams", busy=True, until_s=T0 + 6400)
        return n

    whole = run(fresh(), tl)
    assert {str(e.values["decision"]) for e in of(whole, EventKind.NUDGE_DECISION)} >= {
        "sent",
        "withheld",
        "dropped",
    }
    assert {str(e.values["reason"]) for e in of(whole, EventKind.NUDGE_DECISION)} == {
        "sitting",
        "standing",
        "slouch",
    }

    def order(e: Event) -> tuple[float, float, str]:
        return e.end_s, e.start_s, e.kind.value

    assert sorted(run(fresh(), tl, chunk=chunk), key=order) == sorted(whole, key=order)
