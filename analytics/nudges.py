"""The nudge policy: when to prompt a movement break or a posture check, and whether it worked.

- Movement break: when a sitting bout (analytics/bouts.py: sitting through interruptions shorter
  than `break_min_s`) reaches `sitting_s`, and again every `repeat_s` while it goes on.
- Slouch: when a slouch episode is confirmed (after the slouch hold time), at most once per
  `slouch_every_s`.
- A nudge that falls outside working hours, in quiet hours (both in the wearer's time zone),
  while snoozed or in do-not-disturb waits until it is allowed, if the reason still holds.
- Outcome: a movement-break nudge is answered if a break (upright for `break_min_s`) starts
  within `response_s`; a slouch nudge if the episode ends within `response_s`.

Each nudge gives a `nudge` event at issue time and a `nudge_outcome` event with the same start
once its outcome is known. Time is the data's own (unix seconds for live streams); commands are
stamped with data time too, so the same data and commands always give the same nudges.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from .arrays import runs
from .params import BoutRules, NudgePolicy, clock_minutes
from .records import UPRIGHT, Event, EventKind, Posture
from .timeline import CODE, Timeline

_SITTING = CODE[Posture.SITTING]
_UPRIGHT = frozenset(int(CODE[p]) for p in UPRIGHT)
_NEVER = float("inf")


class Schedule:
    """When nudges are allowed: working hours, quiet hours, snooze and do-not-disturb."""

    def __init__(self, policy: NudgePolicy) -> None:
        self.policy = policy
        self.zone = ZoneInfo(policy.timezone)
        self._work = (
            tuple(clock_minutes(x) for x in policy.working_hours) if policy.working_hours else None
        )
        initial = [_span(q) for q in policy.quiet_hours]
        self._quiet: list[tuple[float, list[tuple[int, int]]]] = [
            (-_NEVER, initial)
        ]  # (from, spans)
        self._snoozes: list[tuple[float, float]] = []  # (from, until)
        self._dnd: list[tuple[float, bool]] = []  # (from, on), sorted

    def snooze(self, start_s: float, until_s: float) -> None:
        self._snoozes.append((start_s, until_s))

    def dnd(self, start_s: float, *, on: bool) -> None:
        bisect.insort(self._dnd, (start_s, on))

    def quiet_hours(self, start_s: float, spans: Sequence[tuple[str, str]]) -> None:
        """From `start_s` on, these quiet hours ("HH:MM" pairs) replace the ones before."""
        parsed = [_span(q) for q in spans]
        i = bisect.bisect_right([t for t, _ in self._quiet], start_s)
        self._quiet.insert(i, (start_s, parsed))

    def next_allowed(self, t_s: float) -> float:
        """The first time at or after `t_s` when a nudge may be given (inf: never)."""
        for _ in range(64):  # each round moves past one reason to wait
            wait = self._blocked_until(t_s)
            if wait is None:
                return t_s
            if wait == _NEVER:
                return _NEVER
            t_s = wait
        return _NEVER

    def _blocked_until(self, t_s: float) -> float | None:
        """None if allowed at `t_s`, else when the reason that blocks it ends."""
        for start, until in self._snoozes:
            if start <= t_s < until:
                return until
        i = bisect.bisect_right(self._dnd, (t_s, True)) - 1
        if i >= 0 and self._dnd[i][1]:
            later = [s for s, on in self._dnd[i + 1 :] if not on]
            return later[0] if later else _NEVER
        local = datetime.fromtimestamp(t_s, UTC).astimezone(self.zone)
        minute = local.hour * 60 + local.minute + local.second / 60.0
        spans = self._quiet[bisect.bisect_right([t for t, _ in self._quiet], t_s) - 1][1]
        for lo, hi in spans:
            inside = lo <= minute < hi if lo <= hi else minute >= lo or minute < hi
            if inside:
                return self._at(local, hi)
        if self._work is not None:
            lo, hi = self._work
            if local.weekday() not in self.policy.working_days or not lo <= minute < hi:
                return self._next_work_start(local, lo)
        return None

    def _at(self, local: datetime, minute: int) -> float:
        """Unix time of the next `minute` after midnight, after `local`."""
        day = local.replace(hour=0, minute=0, second=0, microsecond=0)
        target = day + timedelta(minutes=minute)
        if target <= local:
            target += timedelta(days=1)
        return target.timestamp()

    def _next_work_start(self, local: datetime, minute: int) -> float:
        for days in range(8):
            day = (local + timedelta(days=days)).replace(hour=0, minute=0, second=0, microsecond=0)
            target = day + timedelta(minutes=minute)
            if target > local and target.weekday() in self.policy.working_days:
                return target.timestamp()
        return _NEVER


def _span(pair: Sequence[str]) -> tuple[int, int]:
    """("HH:MM", "HH:MM") as minutes after midnight; raises ValueError."""
    if len(pair) != 2:
        raise ValueError(f"quiet hours must be (start, end) pairs, got {pair!r}")
    return clock_minutes(pair[0]), clock_minutes(pair[1])


@dataclass(slots=True)
class _Pending:
    t_s: float
    reason: str
    deadline_s: float
    upright_since: float | None = None  # a possible break began here


class Nudger:
    """Issues nudges from final seconds and judges their outcome."""

    def __init__(
        self, wearer_id: str, policy: NudgePolicy, bouts: BoutRules, hold_s: float
    ) -> None:
        self.wearer_id = wearer_id
        self.policy = policy
        self.bouts = bouts
        self.slouch_hold_s = hold_s
        self.schedule = Schedule(policy)
        self._bout_start: float | None = None  # current sitting bout
        self._away_s = 0.0  # not sitting since the bout's last sitting second
        self._last_nudge: float | None = None  # last movement nudge in this bout
        self._last_slouch: float = -_NEVER
        self._slouch_since: float | None = None
        self._pending: list[_Pending] = []
        self._next_t = np.nan

    def push(self, timeline: Timeline) -> list[Event]:
        """Nudges and outcomes decided by these (consecutive, final) seconds."""
        events: list[Event] = []
        if not len(timeline):
            return events
        jump = np.diff(timeline.t_s, prepend=self._next_t - 1.0) != 1.0
        key = timeline.posture.astype(np.int64) * 2 + timeline.slouched + 64 * np.cumsum(jump)
        starts, lengths, _ = runs(key)
        t = timeline.t_s
        for s, n in zip(starts.tolist(), lengths.tolist(), strict=True):
            if jump[s]:
                self._gap(float(t[s - 1]) + 1.0 if s else self._next_t, events)
            code = int(timeline.posture[s])
            self._run(code, bool(timeline.slouched[s]), float(t[s]), float(t[s]) + n, events)
        self._next_t = float(t[-1]) + 1.0
        return events

    def flush(self) -> list[Event]:
        """End of data: nudges still waiting for their outcome are judged unanswered."""
        events: list[Event] = []
        end = self._next_t if np.isfinite(self._next_t) else 0.0
        for p in self._pending:
            events.append(self._outcome(p, min(end, p.deadline_s), responded=False))
        self._pending = []
        return events

    def _gap(self, t_s: float, events: list[Event]) -> None:
        """A gap in the data ends bouts and episodes; pending outcomes are judged unanswered."""
        end = t_s if np.isfinite(t_s) else 0.0
        for p in self._pending:
            events.append(self._outcome(p, min(end, p.deadline_s), responded=False))
        self._pending = []
        self._bout_start, self._last_nudge, self._slouch_since = None, None, None
        self._away_s = 0.0

    def _run(
        self, code: int, slouched: bool, start: float, end: float, events: list[Event]
    ) -> None:
        self._judge(code, slouched, start, end, events)
        if code == _SITTING:
            if self._bout_start is None:
                self._bout_start, self._last_nudge = start, None
            self._away_s = 0.0
            self._movement_nudges(start, end, events)
        elif self._bout_start is not None:
            self._away_s += end - start
            if self._away_s >= self.bouts.break_min_s:
                self._bout_start, self._last_nudge = None, None
        if slouched:
            if self._slouch_since is None:
                self._slouch_since = start
            self._slouch_nudge(start, end, events)
        else:
            self._slouch_since = None

    def _movement_nudges(self, start: float, end: float, events: list[Event]) -> None:
        assert self._bout_start is not None
        p = self.policy
        while True:
            if self._last_nudge is None:
                due = self._bout_start + p.sitting_s
            else:
                due = self._last_nudge + p.repeat_s
            at = self.schedule.next_allowed(max(due, start))
            if not start <= at < end:
                return
            self._last_nudge = at
            self._issue(at, "sitting", events)

    def _slouch_nudge(self, start: float, end: float, events: list[Event]) -> None:
        assert self._slouch_since is not None
        if not self.policy.slouch:
            return
        due = max(
            self._slouch_since + self.slouch_hold_s, self._last_slouch + self.policy.slouch_every_s
        )
        at = self.schedule.next_allowed(max(due, start))
        if start <= at < end:
            self._last_slouch = at
            self._issue(at, "slouch", events)

    def _issue(self, t_s: float, reason: str, events: list[Event]) -> None:
        events.append(Event(self.wearer_id, EventKind.NUDGE, t_s, t_s, values={"reason": reason}))
        self._pending.append(_Pending(t_s, reason, t_s + self.policy.response_s))

    def _judge(
        self, code: int, slouched: bool, start: float, end: float, events: list[Event]
    ) -> None:
        """Outcomes that this run of seconds decides."""
        keep = []
        for p in self._pending:
            if p.t_s >= end:  # issued later inside this run (cannot happen before issue)
                keep.append(p)
                continue
            done = self._advance(p, code, slouched, max(start, p.t_s), end)
            if done is None:
                keep.append(p)
            else:
                events.append(done)
        self._pending = keep

    def _advance(
        self, p: _Pending, code: int, slouched: bool, start: float, end: float
    ) -> Event | None:
        if p.reason == "slouch":
            if not slouched and start <= p.deadline_s:
                return self._outcome(p, start, responded=True, response_s=start - p.t_s)
            if end > p.deadline_s:
                return self._outcome(p, p.deadline_s, responded=False)
            return None
        if code in _UPRIGHT:
            if p.upright_since is None and start <= p.deadline_s:
                p.upright_since = start
            if p.upright_since is not None and end - p.upright_since >= self.bouts.break_min_s:
                confirmed = p.upright_since + self.bouts.break_min_s
                return self._outcome(
                    p, confirmed, responded=True, response_s=p.upright_since - p.t_s
                )
        else:
            p.upright_since = None
        if p.upright_since is None and end > p.deadline_s:
            return self._outcome(p, p.deadline_s, responded=False)
        return None

    def _outcome(
        self, p: _Pending, t_s: float, *, responded: bool, response_s: float | None = None
    ) -> Event:
        values: dict[str, str | bool | float] = {"reason": p.reason, "responded": responded}
        if response_s is not None:
            values["response_s"] = float(response_s)
        return Event(self.wearer_id, EventKind.NUDGE_OUTCOME, p.t_s, max(t_s, p.t_s), values=values)
