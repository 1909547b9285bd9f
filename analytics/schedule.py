"""When a nudge may be given: working hours, quiet hours, snooze, do-not-disturb, busy contexts.

Every pause ends by itself: a snooze after its duration, do-not-disturb at the end given or else
at the end of the wearer's day (local midnight), a busy context at its end or after
`context_max_s` at the latest, so that nothing stays paused by mistake. Times are the data's
own (unix seconds); the daily windows are in the wearer's time zone.

A pause set "from `t` on" (`snooze`, `dnd`, `context`) replaces what the same source said
before for the time from `t` on; busy intervals known in advance (a calendar) simply add up.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from .params import NudgePolicy, clock_minutes

NEVER = float("inf")
MAX_PAUSE_S = 24 * 3600.0  # a snooze or do-not-disturb the wearer sets lasts at most this long
FORGET_S = 2 * 24 * 3600.0  # pauses that ended this long before a new one are forgotten


@dataclass(frozen=True, slots=True)
class _Pause:
    start_s: float
    end_s: float
    reason: str  # "snooze", "dnd" or "busy"
    source: str  # who said so (a busy context's source; the reason for the others)


class Schedule:
    """When nudges are allowed, and if not, why and until when."""

    def __init__(self, policy: NudgePolicy) -> None:
        self.policy = policy
        self.zone = ZoneInfo(policy.timezone)
        self._work = (
            tuple(clock_minutes(x) for x in policy.working_hours) if policy.working_hours else None
        )
        initial = [_span(q) for q in policy.quiet_hours]
        self._quiet: list[tuple[float, list[tuple[int, int]]]] = [(-NEVER, initial)]
        self._pauses: list[_Pause] = []

    # -- what the wearer and the contexts say -----------------------------------------------

    def snooze(self, start_s: float, until_s: float) -> None:
        """No nudges from `start_s` to `until_s` (replaces an earlier snooze from then on)."""
        self._set("snooze", "snooze", start_s, until_s)

    def dnd(self, start_s: float, *, on: bool, until_s: float | None = None) -> None:
        """Do-not-disturb on (until `until_s`, else the end of the wearer's day) or off."""
        end = (until_s if until_s is not None else self.end_of_day(start_s)) if on else None
        self._set("dnd", "dnd", start_s, end)

    def busy(self, start_s: float, end_s: float, source: str = "context") -> None:
        """A busy interval known in advance (a calendar entry); at most `context_max_s` long."""
        end = min(end_s, start_s + self.policy.context_max_s)
        if end > start_s:
            self._pauses.append(_Pause(start_s, end, "busy", source))

    def context(self, t_s: float, source: str, *, busy: bool, until_s: float | None = None) -> None:
        """From `t_s` on, `source` says the wearer is busy (until `until_s`, at most
        `context_max_s`) or not."""
        end = None
        if busy:
            cap = t_s + self.policy.context_max_s
            end = cap if until_s is None else min(until_s, cap)
        self._set("busy", source, t_s, end)

    def quiet_hours(self, start_s: float, spans: Sequence[tuple[str, str]]) -> None:
        """From `start_s` on, these quiet hours ("HH:MM" pairs) replace the ones before."""
        parsed = [_span(q) for q in spans]
        i = bisect.bisect_right([t for t, _ in self._quiet], start_s)
        self._quiet.insert(i, (start_s, parsed))

    def _set(self, reason: str, source: str, t_s: float, until_s: float | None) -> None:
        kept = []
        for p in self._pauses:
            if p.end_s < t_s - FORGET_S:
                continue  # long over: a busy state that changes all day must not pile up
            if p.reason != reason or p.source != source or p.end_s <= t_s:
                kept.append(p)
            elif p.start_s < t_s:
                kept.append(_Pause(p.start_s, t_s, reason, source))
        if until_s is not None and until_s > t_s:
            kept.append(_Pause(t_s, until_s, reason, source))
        self._pauses = kept

    # -- questions ----------------------------------------------------------------------------

    def next_allowed(self, t_s: float) -> float:
        """The first time at or after `t_s` when a nudge may be given (inf: never)."""
        return self.wait(t_s)[0]

    def wait(self, t_s: float) -> tuple[float, str]:
        """The first time at or after `t_s` when a nudge may be given, and the first reason it
        had to wait ("" if none: `t_s` itself is allowed)."""
        first = ""
        for _ in range(64):  # each round moves past one reason to wait
            blocked = self.blocked(t_s)
            if blocked is None:
                return t_s, first
            until, reason = blocked
            first = first or reason
            if until == NEVER:
                return NEVER, first
            t_s = until
        return NEVER, first

    def blocked(self, t_s: float) -> tuple[float, str] | None:
        """None if a nudge is allowed at `t_s`, else when the reason ends and the reason:
        "snooze", "dnd", "busy", "quiet_hours" or "off_hours"."""
        inside = [p for p in self._pauses if p.start_s <= t_s < p.end_s]
        if inside:
            longest = max(inside, key=lambda p: p.end_s)
            return longest.end_s, longest.reason
        local = datetime.fromtimestamp(t_s, UTC).astimezone(self.zone)
        minute = local.hour * 60 + local.minute + local.second / 60.0
        spans = self._quiet[bisect.bisect_right([t for t, _ in self._quiet], t_s) - 1][1]
        for lo, hi in spans:
            if lo <= minute < hi if lo <= hi else minute >= lo or minute < hi:
                return self._at(local, hi), "quiet_hours"
        if self._work is not None:
            lo, hi = self._work
            if local.weekday() not in self.policy.working_days or not lo <= minute < hi:
                return self._next_work_start(local, lo), "off_hours"
        return None

    def busy_at(self, t_s: float) -> bool:
        """Whether a busy context covers `t_s`."""
        return any(p.reason == "busy" and p.start_s <= t_s < p.end_s for p in self._pauses)

    def end_of_day(self, t_s: float) -> float:
        """The wearer's next local midnight after `t_s`."""
        local = datetime.fromtimestamp(t_s, UTC).astimezone(self.zone)
        return self._at(local, 0)

    def _at(self, local: datetime, minute: int) -> float:
        """Unix time of the next `minute` after midnight, after `local`."""
        day = local.replace(hour=0, minute=0, second=0, microsecond=0, tzinfo=None)
        for days in range(3):
            target = (day + timedelta(days=days, minutes=minute)).replace(tzinfo=self.zone)
            if target > local:
                return target.timestamp()
        return NEVER  # not reached: a day later is always after

    def _next_work_start(self, local: datetime, minute: int) -> float:
        day = local.replace(hour=0, minute=0, second=0, microsecond=0, tzinfo=None)
        for days in range(8):
            target = (day + timedelta(days=days, minutes=minute)).replace(tzinfo=self.zone)
            if target > local and target.weekday() in self.policy.working_days:
                return target.timestamp()
        return NEVER


def _span(pair: Sequence[str]) -> tuple[int, int]:
    """("HH:MM", "HH:MM") as minutes after midnight; raises ValueError."""
    if len(pair) != 2:
        raise ValueError(f"quiet hours must be (start, end) pairs, got {pair!r}")
    return clock_minutes(pair[0]), clock_minutes(pair[1])
