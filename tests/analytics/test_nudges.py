"""The nudge policy: breaks, slouch, time windows, snooze, do-not-disturb and outcomes."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from analytics.nudges import Nudger
from analytics.params import BoutRules, NudgePolicy
from analytics.records import Event, EventKind, Posture
from analytics.schedule import Schedule
from analytics.summary import summarise
from analytics.timeline import Timeline
from tests.synthetic import timeline

BERLIN = ZoneInfo("Europe/Berlin")


def at(text: str) -> float:
    """Unix time of a wall-clock time in Berlin, e.g. "2024-03-05 11:20"."""
    return datetime.fromisoformat(text).replace(tzinfo=BERLIN).timestamp()


def run(tl: Timeline, policy: NudgePolicy | None = None, *, chunk: int = 0) -> list[Event]:
    nudger = Nudger("w1", policy or NudgePolicy(), BoutRules(), hold_s=60.0)
    step = chunk or len(tl)
    events = []
    for i in range(0, len(tl), step):
        events += nudger.push(tl.take(slice(i, i + step)))
    return events + nudger.flush()


def nudges(events: list[Event]) -> list[tuple[float, str]]:
    return [(e.start_s, str(e.values["reason"])) for e in events if e.kind is EventKind.NUDGE]


def outcomes(events: list[Event]) -> list[tuple[float, bool, float | None]]:
    return [
        (e.start_s, bool(e.values["responded"]), e.values.get("response_s"))  # type: ignore[misc]
        for e in events
        if e.kind is EventKind.NUDGE_OUTCOME
    ]


T0 = at("2024-03-05 09:00")  # a Tuesday


def test_a_movement_nudge_at_30_min_and_again_every_15_min_while_sitting() -> None:
    events = run(timeline(T0, (Posture.SITTING, 50), (Posture.WALKING, 5)))
    assert nudges(events) == [(T0 + 1800, "sitting"), (T0 + 2700, "sitting")]
    # the first went unanswered; the second was followed by a walk 5 min later
    assert outcomes(events) == [(T0 + 1800, False, None), (T0 + 2700, True, 300.0)]


def test_a_short_stand_is_not_a_break_and_does_not_reset_the_bout() -> None:
    events = run(
        timeline(T0, (Posture.SITTING, 20), (Posture.STANDING, 0.5), (Posture.SITTING, 15))
    )
    assert nudges(events) == [(T0 + 1800, "sitting")]


def test_a_break_resets_the_bout() -> None:
    events = run(timeline(T0, (Posture.SITTING, 20), (Posture.WALKING, 2), (Posture.SITTING, 25)))
    assert nudges(events) == []


def test_the_outcome_needs_a_whole_break_started_within_the_window() -> None:
    events = run(
        timeline(T0, (Posture.SITTING, 31), (Posture.STANDING, 0.5), (Posture.SITTING, 10))
    )
    assert outcomes(events)[0] == (T0 + 1800, False, None)
    events = run(timeline(T0, (Posture.SITTING, 34), (Posture.STANDING, 1.5)))
    assert outcomes(events)[0] == (T0 + 1800, True, 240.0)


def test_quiet_hours_in_the_wearers_time_zone_delay_the_nudge() -> None:
    policy = NudgePolicy(timezone="Europe/Berlin", quiet_hours=(("12:00", "13:00"),))
    start = at("2024-03-05 11:20")
    events = run(timeline(start, (Posture.SITTING, 130)), policy)
    assert nudges(events) == [
        (at("2024-03-05 11:50"), "sitting"),
        (at("2024-03-05 13:00"), "sitting"),  # due 12:05, quiet until 13:00
        (at("2024-03-05 13:15"), "sitting"),
    ]


def test_quiet_hours_set_by_command_apply_from_then_on() -> None:
    start = at("2024-03-05 11:20")
    nudger = Nudger("w1", NudgePolicy(timezone="Europe/Berlin"), BoutRules(), hold_s=60.0)
    nudger.schedule.quiet_hours(at("2024-03-05 11:55"), [("12:00", "13:00")])
    events = nudger.push(timeline(start, (Posture.SITTING, 130))) + nudger.flush()
    assert nudges(events) == [
        (at("2024-03-05 11:50"), "sitting"),  # before the command
        (at("2024-03-05 13:00"), "sitting"),
        (at("2024-03-05 13:15"), "sitting"),
    ]
    cleared = Schedule(NudgePolicy(timezone="Europe/Berlin", quiet_hours=(("12:00", "13:00"),)))
    cleared.quiet_hours(at("2024-03-05 08:00"), [])
    assert cleared.next_allowed(at("2024-03-05 12:30")) == at("2024-03-05 12:30")
    with pytest.raises(ValueError, match="HH:MM"):
        cleared.quiet_hours(at("2024-03-05 08:00"), [("noon", "13:00")])


def test_outside_working_hours_and_days_there_are_no_nudges() -> None:
    policy = NudgePolicy(
        timezone="Europe/Berlin", working_hours=("08:00", "18:00"), working_days=(0, 1, 2, 3, 4)
    )
    assert nudges(run(timeline(at("2024-03-05 19:00"), (Posture.SITTING, 60)), policy)) == []
    assert nudges(run(timeline(at("2024-03-09 10:00"), (Posture.SITTING, 60)), policy)) == []
    evening = run(timeline(at("2024-03-05 17:00"), (Posture.SITTING, 60)), policy)
    assert nudges(evening) == [
        (at("2024-03-05 17:30"), "sitting"),
        (at("2024-03-05 17:45"), "sitting"),
    ]


def test_working_hours_follow_daylight_saving_time() -> None:
    schedule = Schedule(NudgePolicy(timezone="Europe/Berlin", working_hours=("08:00", "18:00")))
    # the night the clocks go forward: 07:00 local on the 31st is 05:00 UTC, not 06:00
    assert schedule.next_allowed(at("2024-03-31 03:30")) == at("2024-03-31 08:00")
    assert schedule.next_allowed(at("2024-03-31 08:30")) == at("2024-03-31 08:30")


def test_snooze_and_do_not_disturb() -> None:
    tl = timeline(T0, (Posture.SITTING, 70))
    nudger = Nudger("w1", NudgePolicy(), BoutRules(), hold_s=60.0)
    nudger.schedule.snooze(T0 + 1700, T0 + 2000)
    nudger.schedule.dnd(T0 + 2600, on=True)
    nudger.schedule.dnd(T0 + 3500, on=False)
    events = nudger.push(tl) + nudger.flush()
    assert nudges(events) == [(T0 + 2000, "sitting"), (T0 + 3500, "sitting")]


def test_slouch_nudges_are_rate_limited() -> None:
    tl = timeline(T0, (Posture.SITTING, 20), slouch=(2, 4))
    tl2 = timeline(T0 + 1200, (Posture.SITTING, 20), slouch=(1, 3))
    tl3 = timeline(T0 + 2400, (Posture.SITTING, 40), slouch=(25, 35))
    nudger = Nudger("w1", NudgePolicy(sitting_s=1e6), BoutRules(), hold_s=60.0)
    events = []
    for part in (tl, tl2, tl3):
        events += nudger.push(part)
    events += nudger.flush()
    # the episode at 2 min is nudged after the hold time; the one 20 min later is too soon
    assert nudges(events) == [(T0 + 180, "slouch"), (T0 + 2400 + 26 * 60, "slouch")]
    assert outcomes(events)[0] == (T0 + 180, True, 60.0)  # sat up a minute later


@pytest.mark.parametrize("chunk", [1, 7, 60, 997])
def test_nudges_do_not_depend_on_how_the_seconds_arrive(chunk: int) -> None:
    tl = timeline(
        T0, (Posture.SITTING, 47), (Posture.STANDING, 3), (Posture.SITTING, 40), slouch=(60, 70)
    )
    policy = NudgePolicy(timezone="Europe/Berlin", quiet_hours=(("09:40", "09:50"),))
    assert run(tl, policy, chunk=chunk) == run(tl, policy)


def test_the_day_summary_counts_nudges_and_responses() -> None:
    events = run(timeline(T0, (Posture.SITTING, 50), (Posture.WALKING, 5)))
    summary = summarise(events, [])
    assert summary.nudges == 2
    assert summary.nudges_responded == 1
    assert summary.nudge_response_rate == 0.5
    assert summary.nudges_by_reason == {"sitting": 2}


@pytest.mark.parametrize(
    ("policy", "message"),
    [
        ({"timezone": "Mars/Olympus"}, "unknown timezone"),
        ({"working_hours": ("8", "18:00")}, "HH:MM"),
        ({"quiet_hours": (("12:00", "25:00"),)}, "out of range"),
        ({"working_days": (7,)}, "working_days"),
        ({"repeat_s": 0}, "repeat_s must be positive"),
    ],
)
def test_a_bad_policy_is_refused_with_the_reason(policy: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        NudgePolicy(**policy)  # type: ignore[arg-type]
