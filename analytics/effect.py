"""Whether nudges work: how often a break followed nudges that were sent, against decision
points at which the nudge was withheld.

With `[analytics.nudges] withhold_probability` above 0, a random share of the moments a nudge
is due are withheld (a micro-randomised design, analytics/nudges.py); every such moment is a
`nudge_decision` event saying whether a break started within the response window. Because
chance alone decided which moments were withheld, the difference between the two break rates
is the nudges' effect. Rates carry Wilson score intervals, the difference Newcombe's hybrid
score interval (both 95 %). They treat decision points as independent; a team's points come
from several people, each with their own habits, so read a team's interval as a little too
narrow.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from .records import Event, EventKind

Z95: Final = 1.959963984540054  # two-sided 95 %


def wilson(breaks: int, n: int, *, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval of `breaks` out of `n` ((0, 1) when n is 0).

    >>> [round(x, 4) for x in wilson(8, 10)]
    [0.4902, 0.9433]
    """
    if n <= 0:
        return 0.0, 1.0
    p = breaks / n
    denominator = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def newcombe(k1: int, n1: int, k0: int, n0: int, *, z: float = Z95) -> tuple[float, float]:
    """Newcombe's hybrid score interval of the difference k1/n1 - k0/n0 (both n > 0).

    >>> [round(x, 4) for x in newcombe(56, 70, 48, 80)]
    [0.0524, 0.3339]
    """
    p1, p0 = k1 / n1, k0 / n0
    l1, u1 = wilson(k1, n1, z=z)
    l0, u0 = wilson(k0, n0, z=z)
    d = p1 - p0
    return d - math.hypot(p1 - l1, u0 - p0), d + math.hypot(u1 - p1, p0 - l0)


@dataclass(frozen=True, slots=True)
class Rate:
    """Breaks after some decision points."""

    breaks: int
    decisions: int
    break_s: float = 0.0  # total length of those breaks

    @property
    def rate(self) -> float | None:
        return self.breaks / self.decisions if self.decisions else None

    @property
    def interval(self) -> tuple[float, float]:
        return wilson(self.breaks, self.decisions)

    @property
    def mean_break_s(self) -> float | None:
        return self.break_s / self.breaks if self.breaks else None


@dataclass(frozen=True, slots=True)
class Effect:
    """The break rates after sent and withheld nudges of one kind, and their difference."""

    reason: str
    sent: Rate
    withheld: Rate
    dropped: int  # due, but never sent nor withheld (the wearer was already up, or away)
    wearers: int  # how many wearers the decision points come from

    @property
    def difference(self) -> float | None:
        """Break rate after sent nudges minus after withheld ones (None without both)."""
        sent, withheld = self.sent.rate, self.withheld.rate
        return None if sent is None or withheld is None else sent - withheld

    @property
    def interval(self) -> tuple[float, float] | None:
        if self.difference is None:
            return None
        s, w = self.sent, self.withheld
        return newcombe(s.breaks, s.decisions, w.breaks, w.decisions)


def effect(events: Iterable[Event], *, reason: str = "sitting") -> Effect:
    """The effect of the nudges of `reason` in these events (other events are ignored)."""
    counts = {"sent": [0, 0, 0.0], "withheld": [0, 0, 0.0]}
    dropped = 0
    wearers = set()
    for e in events:
        if e.kind is not EventKind.NUDGE_DECISION or e.values.get("reason") != reason:
            continue
        decision = e.values.get("decision")
        if decision == "dropped":
            dropped += 1
            continue
        arm = counts.get(str(decision))
        if arm is None:
            continue
        wearers.add(e.wearer_id)
        arm[1] += 1
        if e.values.get("responded") is True:
            arm[0] += 1
            arm[2] += float(e.values.get("break_s", 0.0))
    rates = {k: Rate(int(v[0]), int(v[1]), float(v[2])) for k, v in counts.items()}
    return Effect(reason, rates["sent"], rates["withheld"], dropped, len(wearers))


def _percent(x: float) -> str:
    return f"{100 * x:.0f} %"


def describe(e: Effect, *, person: str = "the wearer") -> list[str]:
    """The effect in plain words, one sentence each (about `person`: "you" in a report)."""
    what = {"sitting": "movement-break", "standing": "standing", "slouch": "slouch"}[e.reason]
    response = "sat up" if e.reason == "slouch" else "took a break"
    out = []
    for name, rate in (("sent", e.sent), ("withheld", e.withheld)):
        if not rate.decisions:
            out.append(f"No {what} nudge was {name}.")
            continue
        lo, hi = rate.interval
        out.append(
            f"After {rate.decisions} {what} nudge{'s' if rate.decisions != 1 else ''} {name}, "
            f"{person} {response} within the response window {rate.breaks} "
            f"time{'s' if rate.breaks != 1 else ''} ({_percent(rate.breaks / rate.decisions)}, "
            f"95 % interval {_percent(lo)} to {_percent(hi)})."
        )
    if e.difference is not None and e.interval is not None:
        lo, hi = e.interval
        sign = "more" if e.difference >= 0 else "fewer"
        out.append(
            f"Sending the nudge led to {_percent(abs(e.difference))} {sign} breaks "
            f"(95 % interval {100 * lo:+.0f} to {100 * hi:+.0f} percentage points)."
        )
    if e.dropped:
        out.append(
            f"{e.dropped} nudge{'s were' if e.dropped != 1 else ' was'} due but not sent "
            "(the wearer was already up, or it could not go out in time)."
        )
    return out
