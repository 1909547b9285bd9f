"""A simulated wearer who answers nudges: office days with a meeting calendar, in closed loop with
the streaming engine, to measure what the nudge policy does against a known truth.

The wearer arrives walking, works at the desk, and leaves walking. At the desk they stand up
for a break now and then by themselves: a constant chance per second of desk work, so a bout
lasts `mean_sitting_s` on average whatever came before. Meetings come from a seeded calendar:
at the desk (online: sitting on, no breaks of their own) or in a room (walking there before it
starts and back in its last minute). A movement-break nudge the wearer gets is answered with
probability `respond_probability` by a walk `response_delay_s` later.

The engine runs on the sensors' samples as they are rendered, tick by tick, with the calendar
as busy contexts; the wearer reacts only to nudges the engine has released by then, as in life.
Because the simulator knows, for every moment, the chance that the wearer would have started a
break within the response window anyway (`natural_chance`), it knows the true effect of each
decision point: `respond_probability * (1 - natural_chance)`; `true_effect` averages it over the
decision points the engine made.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from analytics.monitor import Output, WearerMonitor
from analytics.params import AnalyticsParams
from analytics.records import Context, Event, EventKind, Placement, Posture, SampleBatch

from .simulator import NOISE_G, Activity, Renderer

ARRIVE_S = 180.0  # walking in, and out at the end of the day
TO_ROOM_S = 120.0  # walking to a meeting room, ending as the meeting starts
BACK_S = 180.0  # walking back, starting a minute before the meeting ends
DAY_S = 86400.0


@dataclass(frozen=True, slots=True)
class Habits:
    """How the simulated wearer behaves."""

    respond_probability: float = 0.6  # of answering a movement-break nudge with a break
    response_delay_s: tuple[float, float] = (150.0, 270.0)  # from the nudge to standing up
    break_s: tuple[float, float] = (150.0, 300.0)  # how long a break (a walk) lasts
    mean_sitting_s: float = 40 * 60.0  # desk bouts end by themselves after this on average
    meetings: tuple[int, int] = (1, 4)  # meetings a day, at least and at most
    room_share: float = 0.5  # of meetings in a room (the others at the desk)

    def __post_init__(self) -> None:
        if not 0.0 <= self.respond_probability <= 1.0:
            raise ValueError(
                f"respond_probability must be in [0, 1], got {self.respond_probability}"
            )


@dataclass(frozen=True, slots=True)
class Meeting:
    """A calendar entry: busy from start to end."""

    start_s: float
    end_s: float
    room: bool  # in a room (walking there and back), else at the desk


def meeting_calendar(
    rng: np.random.Generator, day_start_s: float, *, hours: float, habits: Habits
) -> list[Meeting]:
    """Non-overlapping meetings on a quarter-hour grid, between half an hour after arriving and
    an hour before leaving."""
    lo, hi = habits.meetings
    count = int(rng.integers(lo, hi + 1))
    slots = np.arange(day_start_s + 1800.0, day_start_s + hours * 3600 - 3600.0, 900.0)
    out: list[Meeting] = []
    for start in sorted(rng.choice(slots, size=min(count, slots.size), replace=False).tolist()):
        end = start + 60.0 * float(rng.choice([30, 45, 60, 90]))
        clear = all(end + TO_ROOM_S <= m.start_s or start >= m.end_s + BACK_S for m in out)
        if clear and end <= day_start_s + hours * 3600 - 1800:
            out.append(Meeting(start, end, room=bool(rng.random() < habits.room_share)))
    return out


@dataclass(slots=True)
class NudgedDays:
    """What the engine made of the simulated days, and what the simulator knows."""

    output: Output
    meetings: list[Meeting]
    days: list[tuple[float, float]]  # (arrival, leaving) of each day
    habits: Habits
    response_s: float  # the policy's response window
    late_responses: int = 0  # answers the wearer could give only after they were due
    responses: list[float] = field(default_factory=list)  # when the wearer answered a nudge

    @property
    def decisions(self) -> list[Event]:
        return [e for e in self.output.events if e.kind is EventKind.NUDGE_DECISION]

    def natural_chance(self, t_s: float) -> float:
        """The chance that a break the wearer takes anyway starts within the response window
        after `t_s` (while sitting at the desk): 1 if one is planned then (walking to a meeting
        room, going home), else from the constant chance per second of desk work."""
        end = t_s + self.response_s
        planned = [m.start_s - TO_ROOM_S for m in self.meetings if m.room]
        planned += [leave for _, leave in self.days]
        if any(t_s <= p < end for p in planned):
            return 1.0
        desk = [(m.start_s, m.end_s) for m in self.meetings if not m.room]
        busy = sum(max(0.0, min(end, b) - max(t_s, a)) for a, b in desk)
        return 1.0 - math.exp(-(self.response_s - busy) / self.habits.mean_sitting_s)

    def true_effect(self, decisions: Iterable[Event]) -> float:
        """The mean true effect of these (movement-break) decision points on the chance of a
        break within the response window."""
        effects = [
            self.habits.respond_probability * (1.0 - self.natural_chance(e.start_s))
            for e in decisions
        ]
        return float(np.mean(effects)) if effects else 0.0


class _Loop:
    """Renders the wearer's day and feeds the engine, tick by tick."""

    def __init__(
        self,
        monitor: WearerMonitor,
        renderer: Renderer,
        rng: np.random.Generator,
        *,
        habits: Habits,
        tick_s: float,
    ) -> None:
        self.monitor = monitor
        self.renderer = renderer
        self.rng = rng
        self.habits = habits
        self.tick_s = tick_s
        self.parts: list[Output] = []
        self.fed_s = 0.0  # samples before this have gone to the engine
        self._pending: dict[Placement, tuple[np.ndarray, np.ndarray]] = {}  # times, accel
        self._seen: set[float] = set()  # nudges the wearer has seen
        self.answer_s: float | None = None  # the wearer will stand up for a break then
        self.late = 0
        self.answers: list[float] = []
        self._seq = 0
        self._read = 0  # outputs already looked at for nudges

    def render(self, posture: Posture, duration_s: float, *, slouch_deg: float = 0.0) -> float:
        """Render an activity from where the rendering is; returns its end."""
        start = self.renderer.t_next
        parts = self.renderer.render(Activity(posture, duration_s, slouch_deg))
        for placement in self.monitor.placements:
            accel = self.renderer.accel(parts[placement], placement)
            accel = accel + self.rng.normal(scale=NOISE_G, size=accel.shape)
            t = start + np.arange(accel.shape[0]) / self.renderer.rate_hz
            if placement in self._pending:
                t0, a0 = self._pending[placement]
                t, accel = np.concatenate((t0, t)), np.concatenate((a0, accel))
            self._pending[placement] = (t, accel)
        return self.renderer.t_next

    def feed(self, until_s: float, *, watch: bool = False) -> float:
        """Feed what is rendered up to `until_s`; with `watch`, stop early where the wearer
        answers a nudge (what was rendered after that is dropped). Returns where it stopped."""
        while self.fed_s < until_s:
            stop = min(self.fed_s + self.tick_s, until_s)
            if watch and self.answer_s is not None and self.answer_s < stop:
                stop = max(self.answer_s, self.fed_s)
                self._feed_to(stop)
                self.drop_after(stop)
                return stop
            self._feed_to(stop)
            if watch:
                self._read_nudges()
            else:
                self._read = len(self.parts)
        return until_s

    def _feed_to(self, stop: float) -> None:
        rate = self.renderer.rate_hz
        for placement, (t, accel) in self._pending.items():
            n = int(np.searchsorted(t, stop - 0.5 / rate))
            if n:
                batch = SampleBatch(placement.value, self._seq, float(t[0]), rate, accel[:n])
                self.parts.append(self.monitor.feed(placement, batch))
                self._pending[placement] = (t[n:], accel[n:])
        self._seq += 1
        self.fed_s = stop

    def drop_after(self, t_s: float) -> None:
        """The wearer did something else from `t_s` on: forget what was rendered after it."""
        for placement, (t, accel) in self._pending.items():
            n = int(np.searchsorted(t, t_s - 0.5 / self.renderer.rate_hz))
            self._pending[placement] = (t[:n], accel[:n])
        self.renderer.t_next = t_s
        self.renderer.previous = Posture.SITTING

    def _read_nudges(self) -> None:
        h = self.habits
        fresh, self._read = self.parts[self._read :], len(self.parts)
        for part in fresh:
            for e in part.events:
                if e.kind is not EventKind.NUDGE or e.values.get("reason") != "sitting":
                    continue
                if e.start_s in self._seen:
                    continue
                self._seen.add(e.start_s)
                if self.answer_s is None and self.rng.random() < h.respond_probability:
                    at = e.start_s + float(self.rng.uniform(*h.response_delay_s))
                    if at < self.fed_s:
                        self.late += 1
                        at = self.fed_s
                    self.answer_s = at
                    self.answers.append(at)


def _natural_end(
    rng: np.random.Generator, t_s: float, habits: Habits, desk: list[Meeting]
) -> float:
    """When the wearer would stand up by themselves: an exponential amount of desk work (time
    outside desk meetings) after `t_s`."""
    left = float(rng.exponential(habits.mean_sitting_s))
    t = t_s
    for m in sorted(desk, key=lambda m: m.start_s):
        if m.end_s <= t:
            continue
        work = max(0.0, m.start_s - t)
        if left <= work:
            return t + left
        left -= work
        t = max(t, m.end_s)
    return t + left


def simulate_nudged_days(
    *,
    days: int = 10,
    seed: int = 1234,
    habits: Habits | None = None,
    params: AnalyticsParams | None = None,
    hours: float = 8.0,
    rate_hz: float = 25.0,
    start_s: float = 1_790_000_000.0,
    placements: tuple[Placement, ...] = (Placement.THIGH,),
    tick_s: float = 60.0,
    wearer_id: str = "sim",
) -> NudgedDays:
    """Simulate `days` office days (one a calendar day from `start_s`) of a wearer with these
    habits, the engine running with `params` (its nudge policy) in closed loop."""
    habits = habits or Habits()
    params = params or AnalyticsParams()
    rng = np.random.default_rng(seed)
    monitor = WearerMonitor(wearer_id, placements=placements, params=params, max_wait_s=120.0)
    loop = _Loop(monitor, Renderer(rng, rate_hz=rate_hz), rng, habits=habits, tick_s=tick_s)
    meetings: list[Meeting] = []
    spans: list[tuple[float, float]] = []
    for day in range(days):
        arrive = start_s + day * DAY_S
        leave = arrive + hours * 3600.0
        calendar = meeting_calendar(rng, arrive, hours=hours, habits=habits)
        for m in calendar:
            monitor.busy(Context(m.start_s, m.end_s, "calendar"))
        meetings += calendar
        spans.append((arrive, leave))
        _day(loop, arrive=arrive, leave=leave, calendar=calendar)
    loop.parts.append(monitor.finish())
    return NudgedDays(
        output=Output.merge(loop.parts),
        meetings=meetings,
        days=spans,
        habits=habits,
        response_s=params.nudges.response_s,
        late_responses=loop.late,
        responses=loop.answers,
    )


def _day(loop: _Loop, *, arrive: float, leave: float, calendar: list[Meeting]) -> None:
    """One day: arrive, desk work, breaks, meetings, leave."""
    rng, habits = loop.rng, loop.habits
    loop.renderer.t_next, loop.renderer.previous = arrive, None
    loop.fed_s = arrive
    loop.feed(loop.render(Posture.WALKING, ARRIVE_S))
    desk = [m for m in calendar if not m.room]
    rooms = [m for m in calendar if m.room]
    t = arrive + ARRIVE_S
    while t < leave:
        room = next((m for m in rooms if m.start_s - TO_ROOM_S >= t), None)
        planned = room.start_s - TO_ROOM_S if room is not None else leave
        natural = _natural_end(rng, t, habits, desk)
        end = min(natural, planned)
        loop.answer_s = None
        loop.render(Posture.SITTING, end - t, slouch_deg=float(rng.uniform(3, 10)))
        stop = loop.feed(end, watch=True)
        if stop < end or natural < planned:  # a break: answering a nudge, or of their own
            walk = float(rng.uniform(*habits.break_s))
            if room is not None and stop + walk + 60.0 > planned:  # on to the meeting room
                t = _meeting(loop, room, stop)
            else:
                t = loop.feed(loop.render(Posture.WALKING, walk))
        elif room is not None:
            t = _meeting(loop, room, planned)
        else:
            break
    loop.answer_s = None
    loop.feed(loop.render(Posture.WALKING, ARRIVE_S))


def _meeting(loop: _Loop, room: Meeting, walk_from: float) -> float:
    """Walk to the room, sit in the meeting, walk back from its last minute; returns the end."""
    loop.render(Posture.WALKING, room.start_s - walk_from)
    loop.render(Posture.SITTING, room.end_s - 60.0 - room.start_s, slouch_deg=5.0)
    return loop.feed(loop.render(Posture.WALKING, BACK_S))
