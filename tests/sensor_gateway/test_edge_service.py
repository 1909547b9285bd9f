"""The edge service applies what is said about a wearer: commands from when they were heard and
with end times, busy states and desk heights (those said before the first data wait for it),
desk commands only through the desk mover, the wearer's own language, and learned nudge timing
it can use."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence

import pytest

from analytics.messages import BusyUpdate, Command, DeskHeight, WearerInput
from analytics.monitor import Output
from analytics.params import AnalyticsParams, NudgePolicy
from analytics.records import Event, EventKind, Placement, WearerState
from sensor_gateway.service import EdgeService, SensorKey
from tests.synthetic import Part, trace

T0 = 1_790_000_000.0
W = "w1"
KEY = SensorKey(W, Placement.TRUNK)
POLICY = NudgePolicy(sitting_s=120.0, repeat_s=60.0, response_s=60.0, slouch=False)
SIT_FROM_S = 40 + 10 + 2  # walk, stand, stand-to-sit
TRACE = trace(
    [Part("walk", 40), Part("stand", 10), Part("down"), Part("sit", 500), Part("up")],
    start_s=T0,
    seed=7,
)


class FakeSink:
    """Records what the service publishes."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def publish_output(self, wearer_id: str, output: Output) -> None:
        self.events += output.events

    def publish_state(self, state: WearerState, **_live: object) -> None:
        pass


def run(
    service: EdgeService, said: Sequence[tuple[float, WearerInput]] = ()
) -> tuple[list[Event], FakeSink]:
    """Stream the trace, applying each `said` once the data reach its time (None: before)."""
    sink = service.sink
    assert isinstance(sink, FakeSink)
    pending = sorted(said, key=lambda x: x[0])
    for batch in TRACE.batches(sensor_id="s", max_s=1.0):
        while pending and pending[0][0] <= batch.t0:
            service.apply(pending.pop(0)[1])
        service.on_batch(KEY, batch)
    service.finish()
    return [e for e in sink.events if e.kind is EventKind.NUDGE], sink


def service(**kwargs: object) -> EdgeService:
    return EdgeService(
        {W: [Placement.TRUNK]},
        FakeSink(),
        params=AnalyticsParams(nudges=POLICY),
        **kwargs,  # type: ignore[arg-type]
    )


def into_sitting(nudges: list[Event]) -> list[float]:
    return [round(e.start_s - T0 - SIT_FROM_S) for e in nudges]


def test_nudges_come_every_minute_after_two_minutes_of_sitting() -> None:
    nudges, _ = run(service())
    assert into_sitting(nudges)[:3] == pytest.approx([120, 180, 240], abs=10)


def test_a_busy_state_said_before_the_first_data_waits_for_it() -> None:
    until = T0 + SIT_FROM_S + 300
    s = service()
    s.apply(BusyUpdate(W, "context:teams", busy=True, until_s=until))
    nudges, _ = run(s)
    assert min(into_sitting(nudges)) == pytest.approx(300, abs=2)


def test_a_busy_state_topic_holds_nudges_until_it_says_otherwise() -> None:
    sitting = T0 + SIT_FROM_S
    said = [
        (sitting + 60, BusyUpdate(W, "topic:cal", busy=True)),
        (sitting + 250, BusyUpdate(W, "topic:cal", busy=False)),
    ]
    nudges, _ = run(service(), said)
    assert min(into_sitting(nudges)) == pytest.approx(250, abs=3)


@pytest.mark.parametrize("name", ["snooze", "dnd"])
def test_a_snooze_or_do_not_disturb_until_a_time_ends_then(name: str) -> None:
    sitting = T0 + SIT_FROM_S
    until = sitting + 330
    command = Command(W, name, on=name == "dnd", until_s=until)
    nudges, _ = run(service(), [(sitting + 100, command)])
    assert min(into_sitting(nudges)) == pytest.approx(330, abs=3)


def test_a_command_heard_before_the_first_data_runs_from_when_it_was_heard() -> None:
    s = service()
    with pytest.raises(ValueError, match="no data yet"):  # no time to run from
        s.apply(Command(W, "snooze", minutes=5))
    s.apply(Command(W, "snooze", minutes=5), heard_s=T0 - 10)  # the data lag behind
    nudges, _ = run(s)
    assert min(into_sitting(nudges)) == pytest.approx(290 - SIT_FROM_S, abs=2)


def test_a_snooze_of_more_than_a_day_is_refused() -> None:
    s = service()
    run(s)
    with pytest.raises(ValueError, match="at most 24 h"):
        s.apply(Command(W, "snooze", until_s=T0 + 3 * 86400))


def test_a_desk_height_said_before_the_data_becomes_time_at_that_height() -> None:
    s = service()
    s.apply(DeskHeight(W, 72.0))
    _, sink = run(s, [(T0 + 300, DeskHeight(W, 72.0)), (T0 + 400, DeskHeight(W, 108.0))])
    desk = [e for e in sink.events if e.kind is EventKind.DESK]
    assert [(e.start_s - T0, e.values["height_cm"]) for e in desk] == [
        (0.0, 72.0),
        (pytest.approx(400, abs=1), 108.0),
    ]


def test_the_desk_moves_only_through_the_desk_mover() -> None:
    moved: list[tuple[str, str]] = []
    s = service(move_desk=lambda wearer, position: moved.append((wearer, position)))
    s.apply(Command(W, "desk", position="stand"))
    assert moved == [(W, "stand")]
    with pytest.raises(ValueError, match="moves no desks"):
        service().apply(Command(W, "desk", position="sit"))


def test_a_wearers_own_language() -> None:
    german = AnalyticsParams(nudges=dataclasses.replace(POLICY, language="de"))
    nudges, _ = run(service(wearer_params={W: german}))
    assert nudges
    assert {e.values["language"] for e in nudges} == {"de"}


def test_learned_nudge_timing_is_taken_up_or_else_learned_anew(
    caplog: pytest.LogCaptureFixture,
) -> None:
    adaptive = AnalyticsParams(
        nudges=NudgePolicy(adaptive=True, adaptive_min_s=1200.0, adaptive_max_s=2700.0)
    )
    learned = {"version": 1, "arms": {"1200": [2.0, 1.0], "1800": [0.0, 3.0]}}
    kept = EdgeService(
        {W: [Placement.TRUNK]}, FakeSink(), params=adaptive, nudge_states={W: learned}
    )
    assert kept.monitors[W].nudge_state() == {
        "version": 1,
        "arms": {"1200": [2.0, 1.0], "1800": [0.0, 3.0], "2700": [0.0, 0.0]},
    }
    with caplog.at_level(logging.WARNING):
        fresh = EdgeService(
            {W: [Placement.TRUNK]}, FakeSink(), params=adaptive, nudge_states={W: {"version": 9}}
        )
    assert "learning nudge timing anew wearer=w1" in caplog.text
    state = fresh.monitors[W].nudge_state()
    assert state is not None
    assert all(pair == [0.0, 0.0] for pair in state["arms"].values())
