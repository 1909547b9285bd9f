"""The nudge policy: when to prompt a break or a posture check, and whether it worked.

- Movement break: when a sitting bout (analytics/bouts.py: sitting through interruptions shorter
  than `break_min_s`) reaches `sitting_s` (or, with `adaptive`, the interval the wearer's bandit
  chose for this bout), and again every `repeat_s` while it goes on. Standing still (opt-in,
  `standing`): the same for a spell of standing, after `standing_s`.
- Slouch: when a slouch episode is confirmed (after the slouch hold time), at most once per
  `slouch_every_s`.
- Deferral: a nudge that falls in a pause (analytics/schedule.py: busy context, snooze,
  do-not-disturb, quiet or off hours) or while the wearer is not in the bout's posture
  ("already upright") waits, and goes out at the first second at which nothing stops it, if
  that is within `defer_max_s` of the moment the last pause ended (or the wearer could first
  have been nudged); otherwise, or if the bout ends first, it is dropped.
- Decision points: every moment a nudge is due gives a `nudge_decision` event once its outcome
  is known: `decision` "sent", "withheld" (opt-in `withhold_probability`, for movement-break
  and standing nudges: a micro-randomised design, each draw reproducible from the seed, the
  wearer and the time) or "dropped"; how long
  it waited and why; whether a break (a movement nudge: upright for `break_min_s`; a standing
  nudge: walking or sitting; a slouch nudge: sitting up) started within `response_s`, and how
  long the break lasted. A sent nudge also gives a `nudge` event (with the words chosen for it)
  and a `nudge_outcome` event once the response window has decided it.

Time is the data's own (unix seconds for live streams); commands are stamped with data time too,
so the same data, commands and seed always give the same decisions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

import numpy as np

from . import phrases
from .arrays import runs
from .bandit import IntervalBandit
from .draws import generator, uniform
from .params import BoutRules, NudgePolicy
from .records import UPRIGHT, Event, EventKind, Posture, Value
from .schedule import NEVER, Schedule
from .timeline import CODE, Timeline

_SITTING = int(CODE[Posture.SITTING])
_STANDING = int(CODE[Posture.STANDING])
_UPRIGHT = frozenset(int(CODE[p]) for p in UPRIGHT)
_OFF_STANDING = frozenset(int(CODE[p]) for p in (Posture.WALKING, Posture.SITTING))
BREAK_CAP_S: Final = 3600.0  # a break is measured up to this long


@dataclass(slots=True)
class _Bout:
    """A movement-break or standing plan: the bout it is about and its next decision point."""

    reason: str  # "sitting" or "standing"
    code: int  # the bout's posture
    first_s: float  # interval to the first nudge of a bout
    start_s: float | None = None
    away_s: float = 0.0  # not in the posture since the bout's last second in it
    next_s: float | None = None  # when the next nudge of this bout is due, after the first
    interval_s: float | None = None  # the adaptive interval of this bout
    free_s: float | None = None  # since when a due nudge could have gone out
    waited: str = ""  # why a due nudge first had to wait

    @property
    def due_s(self) -> float:
        assert self.start_s is not None
        if self.next_s is not None:
            return self.next_s
        return self.start_s + (self.interval_s if self.interval_s is not None else self.first_s)

    def end(self) -> None:
        self.start_s = self.next_s = self.interval_s = self.free_s = None
        self.waited, self.away_s = "", 0.0


@dataclass(slots=True)
class _Watch:
    """A decision whose outcome is being watched."""

    t_s: float
    reason: str
    values: dict[str, Value]  # of the decision event so far
    sent: bool
    deadline_s: float
    interval_s: float | None = None  # reward the bandit with the outcome
    relief_s: float | None = None  # a possible break began here
    confirmed: bool = False


class Nudger:
    """Decides nudges from final seconds and judges their outcome."""

    def __init__(
        self,
        wearer_id: str,
        policy: NudgePolicy,
        bouts: BoutRules,
        hold_s: float,
        *,
        bandit_state: Mapping[str, Any] | None = None,
    ) -> None:
        """`bandit_state`: the wearer's learned timing (`bandit.state()` of an earlier run)."""
        self.wearer_id = wearer_id
        self.policy = policy
        self.bouts = bouts
        self.slouch_hold_s = hold_s
        self.schedule = Schedule(policy)
        self.bandit = IntervalBandit(policy.arms_s, state=bandit_state) if policy.adaptive else None
        self._plans = [_Bout("sitting", _SITTING, policy.sitting_s)]
        if policy.standing:
            self._plans.append(_Bout("standing", _STANDING, policy.standing_s))
        self._last_slouch: float = -NEVER
        self._slouch_since: float | None = None
        self._last_t = -NEVER  # the latest decision point: at most one per second
        self._watches: list[_Watch] = []
        self._recent: dict[str, list[int]] = {}  # the latest phrases of each kind
        self._next_t = np.nan

    def push(self, timeline: Timeline) -> list[Event]:
        """Nudges, decisions and outcomes decided by these (consecutive, final) seconds."""
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
        """End of data: what still waits is dropped, what is watched is judged as it stands."""
        events: list[Event] = []
        self._gap(self._next_t if np.isfinite(self._next_t) else 0.0, events)
        return events

    def _gap(self, t_s: float, events: list[Event]) -> None:
        """A gap in the data ends bouts and episodes; watched outcomes are judged."""
        end = t_s if np.isfinite(t_s) else 0.0
        for w in self._watches:
            self._finish(w, min(end, w.deadline_s), events, ended_s=end)
        self._watches = []
        for plan in self._plans:
            if plan.start_s is not None and plan.due_s < end:
                self._drop(plan, end, events)
            plan.end()
        self._slouch_since = None

    def _run(
        self, code: int, slouched: bool, start: float, end: float, events: list[Event]
    ) -> None:
        self._judge(code, slouched, start, end, events)
        for plan in self._plans:
            if code == plan.code:
                if plan.start_s is None:
                    self._begin(plan, start)
                plan.away_s = 0.0
                self._in_posture(plan, start, end, events)
            elif plan.start_s is not None:
                self._away(plan, code, start, end, events)
        if slouched:
            if self._slouch_since is None:
                self._slouch_since = start
            self._slouch_nudge(start, end, events)
        else:
            self._slouch_since = None

    # -- bouts: movement breaks and standing still -----------------------------------------

    def _begin(self, plan: _Bout, start: float) -> None:
        plan.start_s = start
        if plan.reason == "sitting" and self.bandit is not None:
            rng = generator(self.policy.seed, self.wearer_id, "interval", start)
            plan.interval_s = self.bandit.choose(rng)

    def _in_posture(self, plan: _Bout, start: float, end: float, events: list[Event]) -> None:
        """Decision points in a run of seconds in the bout's posture."""
        while True:
            t0 = max(plan.due_s, start, self._last_t + 1.0)
            if t0 >= end:
                return
            at, why = self.schedule.wait(t0)
            plan.waited = plan.waited or why
            if at >= end:  # a pause lasts past this run
                plan.free_s = None
                return
            if at > t0 or plan.free_s is None:
                plan.free_s = at
            deadline = plan.free_s + self.policy.defer_max_s
            if at >= deadline:
                self._drop(plan, deadline, events)
            else:
                self._decide(plan, at, events)

    def _away(self, plan: _Bout, code: int, start: float, end: float, events: list[Event]) -> None:
        """A run of seconds out of the bout's posture: a due nudge waits, the bout may end."""
        ends_s = start + self.bouts.break_min_s - plan.away_s  # the bout ends here, if in the run
        plan.away_s += end - start
        stop = min(end, ends_s)
        posture = "upright" if plan.reason == "sitting" and code in _UPRIGHT else "posture"
        seconds = np.arange(start, stop).tolist() if plan.due_s < stop else []
        for t in seconds:  # second by second: pauses may begin anywhere
            lo, hi = max(t, plan.due_s), min(t + 1.0, stop)
            if lo >= hi:
                continue
            at, why = self.schedule.wait(lo)
            if at >= hi:
                plan.waited, plan.free_s = plan.waited or why, None
                continue
            if at > lo:
                plan.waited, plan.free_s = plan.waited or why, at
            elif plan.free_s is None:
                plan.waited, plan.free_s = plan.waited or posture, at
            deadline = plan.free_s + self.policy.defer_max_s
            if deadline < hi:
                self._drop(plan, max(deadline, lo), events)
        if ends_s <= end:
            if plan.due_s < ends_s:
                plan.waited = plan.waited or posture
                self._drop(plan, ends_s, events)
            plan.end()

    def _decide(self, plan: _Bout, at: float, events: list[Event]) -> None:
        assert plan.start_s is not None
        values: dict[str, Value] = {
            "reason": plan.reason,
            "delay_s": float(at - plan.due_s),
            "bout_s": float(at - plan.start_s),
        }
        if plan.waited:
            values["deferred_by"] = plan.waited
        first = plan.next_s is None
        if first and plan.interval_s is not None:
            values["interval_s"] = float(plan.interval_s)
        self._start(at, plan.reason, values, events, interval_s=plan.interval_s if first else None)
        plan.next_s = at + self.policy.repeat_s
        plan.free_s, plan.waited = None, ""

    def _drop(self, plan: _Bout, at: float, events: list[Event]) -> None:
        """A due nudge that could not go out in time, or whose bout ended: logged as dropped."""
        assert plan.start_s is not None
        values: dict[str, Value] = {
            "reason": plan.reason,
            "decision": "dropped",
            "delay_s": float(at - plan.due_s),
            "bout_s": float(at - plan.start_s),
        }
        if plan.waited:
            values["deferred_by"] = plan.waited
        events.append(Event(self.wearer_id, EventKind.NUDGE_DECISION, at, at, values=values))
        self._last_t = max(self._last_t, at)
        plan.next_s = at + self.policy.repeat_s
        plan.free_s, plan.waited = None, ""

    # -- slouch ----------------------------------------------------------------------------

    def _slouch_nudge(self, start: float, end: float, events: list[Event]) -> None:
        assert self._slouch_since is not None
        if not self.policy.slouch:
            return
        due = max(
            self._slouch_since + self.slouch_hold_s, self._last_slouch + self.policy.slouch_every_s
        )
        t0 = max(due, start, self._last_t + 1.0)
        at, why = self.schedule.wait(t0)
        if start <= at < end:
            self._last_slouch = at
            values: dict[str, Value] = {
                "reason": "slouch",
                "delay_s": float(at - due),
                "bout_s": float(at - self._slouch_since),
            }
            if why:
                values["deferred_by"] = why
            self._start(at, "slouch", values, events)

    # -- sending or withholding, and the outcome --------------------------------------------

    def _start(
        self,
        at: float,
        reason: str,
        values: dict[str, Value],
        events: list[Event],
        *,
        interval_s: float | None = None,
    ) -> None:
        """Send or withhold the nudge at `at`, and watch what follows."""
        p = self.policy
        # only break nudges are withheld: their effect is a break; a slouch nudge is feedback
        draw = uniform(p.seed, self.wearer_id, "withhold", reason, at)
        withheld = reason != "slouch" and draw < p.withhold_probability
        values["decision"] = "withheld" if withheld else "sent"
        if not withheld:
            kind = phrases.kind_of(reason, p.preset)
            recent = self._recent.setdefault(kind, [])
            index = phrases.choose(kind, recent, uniform(p.seed, self.wearer_id, "phrase", at))
            recent[:] = [*recent, index][-phrases.RECENT :]
            nudge: dict[str, Value] = {
                "reason": reason,
                "bout_s": values["bout_s"],
                "phrase": f"{kind}.{index}",
                "language": p.language,
            }
            events.append(Event(self.wearer_id, EventKind.NUDGE, at, at, values=nudge))
        self._last_t = max(self._last_t, at)
        self._watches.append(
            _Watch(at, reason, values, not withheld, at + p.response_s, interval_s=interval_s)
        )

    def _judge(
        self, code: int, slouched: bool, start: float, end: float, events: list[Event]
    ) -> None:
        """Outcomes that this run of seconds decides."""
        keep = []
        for w in self._watches:
            relief = self._relief(w.reason, code, slouched)
            if w.t_s >= end or not self._advance(w, relief, max(start, w.t_s), end, events):
                keep.append(w)
        self._watches = keep

    @staticmethod
    def _relief(reason: str, code: int, slouched: bool) -> bool:
        """Whether a run of seconds is a break from what the nudge was about."""
        if reason == "slouch":
            return not slouched
        return code in (_UPRIGHT if reason == "sitting" else _OFF_STANDING)

    def _advance(
        self, w: _Watch, relief: bool, start: float, end: float, events: list[Event]
    ) -> bool:
        """Follow a watched decision through a run of seconds; True once it is finished."""
        if not relief:
            if w.confirmed:  # the break is over
                assert w.relief_s is not None
                w.values["break_s"] = float(start - w.relief_s)
                self._emit(w, start, events)
                return True
            w.relief_s = None
            finished = end > w.deadline_s
        elif w.relief_s is None and start > w.deadline_s:
            finished = True
        else:
            return self._relieved(w, start, end, events)
        if finished:
            self._finish(w, w.deadline_s, events, ended_s=w.deadline_s)
        return finished

    def _relieved(self, w: _Watch, start: float, end: float, events: list[Event]) -> bool:
        """A run of relief after a decision: a break is confirmed, goes on, or is long enough."""
        if w.relief_s is None:
            w.relief_s = start
        need = 0.0 if w.reason == "slouch" else self.bouts.break_min_s
        if not w.confirmed and end - w.relief_s >= need:
            self._confirm(w, w.relief_s + need, events)
            if w.reason == "slouch":
                self._emit(w, w.relief_s, events)
                return True
        if w.confirmed and end - w.relief_s >= BREAK_CAP_S:
            w.values["break_s"] = BREAK_CAP_S
            self._emit(w, w.relief_s + BREAK_CAP_S, events)
            return True
        return False

    def _confirm(self, w: _Watch, t_s: float, events: list[Event]) -> None:
        """A break started in time: the nudge (or the withheld moment) was followed by one."""
        assert w.relief_s is not None
        w.confirmed = True
        w.values["responded"] = True
        w.values["response_s"] = float(w.relief_s - w.t_s)
        self._outcome(w, t_s, events)

    def _finish(self, w: _Watch, t_s: float, events: list[Event], *, ended_s: float) -> None:
        """No more data for this decision: judge it as it stands at `t_s` (or the break that
        is still going on at `ended_s`)."""
        if w.confirmed:
            assert w.relief_s is not None
            w.values["break_s"] = float(ended_s - w.relief_s)
            self._emit(w, max(ended_s, w.t_s), events)
            return
        w.values["responded"] = False
        self._outcome(w, t_s, events)
        self._emit(w, t_s, events)

    def _outcome(self, w: _Watch, t_s: float, events: list[Event]) -> None:
        """The response window has decided: the sent nudge's outcome, the bandit's reward."""
        responded = bool(w.values["responded"])
        if w.sent:
            values: dict[str, Value] = {"reason": w.reason, "responded": responded}
            if responded:
                values["response_s"] = w.values["response_s"]
            end = max(t_s, w.t_s)
            events.append(Event(self.wearer_id, EventKind.NUDGE_OUTCOME, w.t_s, end, values=values))
            if w.interval_s is not None and self.bandit is not None:
                self.bandit.update(w.interval_s, success=responded)

    def _emit(self, w: _Watch, t_s: float, events: list[Event]) -> None:
        events.append(
            Event(
                self.wearer_id,
                EventKind.NUDGE_DECISION,
                w.t_s,
                max(t_s, w.t_s),
                values=dict(w.values),
            )
        )
