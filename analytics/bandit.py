"""Per-wearer timing of movement-break nudges: a Thompson-sampling bandit over intervals.

Each arm is one of the intervals the policy allows (`NudgePolicy.arms_s`, within the bounds the
ergonomist set). An arm keeps how often a nudge sent at that interval was followed by a break
within the response window (its reward) and how often not, as a Beta posterior. At the start of
every sitting bout one draw from each posterior picks the interval of the bout's first nudge
(Thompson sampling): intervals that work for this wearer are chosen more often, the others now
and then, so the choice keeps learning. Older outcomes count a little less each time
(`FORGET`), because what works changes over the weeks.

The state is plain JSON-able data (`state()`, `IntervalBandit(..., state=...)`); the gateway
keeps it in its `state_dir`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final

import numpy as np

from .records import Event, EventKind

FORGET: Final = 0.99  # each new outcome, the old ones count this much less
STATE_VERSION: Final = 1


class IntervalBandit:
    """Chooses the interval of each sitting bout's first nudge, and learns from the outcomes."""

    def __init__(self, arms_s: Sequence[float], *, state: Mapping[str, Any] | None = None) -> None:
        """`state`: what `state()` returned before; arms no longer allowed are dropped, new ones
        start fresh. Raises ValueError for a state that is not one."""
        if not arms_s:
            raise ValueError("a bandit needs at least one interval")
        self.arms_s = tuple(sorted(float(a) for a in arms_s))
        self._wins = dict.fromkeys(self.arms_s, 0.0)
        self._losses = dict.fromkeys(self.arms_s, 0.0)
        if state is not None:
            self._restore(state)

    def choose(self, rng: np.random.Generator) -> float:
        """One interval, by a draw from every arm's posterior (the largest draw wins)."""
        draws = [rng.beta(self._wins[a] + 1.0, self._losses[a] + 1.0) for a in self.arms_s]
        return self.arms_s[int(np.argmax(draws))]

    def update(self, interval_s: float, *, success: bool) -> None:
        """The outcome of a nudge sent at `interval_s` (ignored if it is not an arm)."""
        if interval_s not in self._wins:
            return
        for a in self.arms_s:
            self._wins[a] *= FORGET
            self._losses[a] *= FORGET
        if success:
            self._wins[interval_s] += 1.0
        else:
            self._losses[interval_s] += 1.0

    def mean(self, interval_s: float) -> float:
        """The posterior mean chance of a break after a nudge at `interval_s`."""
        w, n = self._wins[interval_s], self._wins[interval_s] + self._losses[interval_s]
        return (w + 1.0) / (n + 2.0)

    def state(self) -> dict[str, Any]:
        """The learned counts as JSON-able data."""
        return {
            "version": STATE_VERSION,
            "arms": {f"{a:g}": [self._wins[a], self._losses[a]] for a in self.arms_s},
        }

    def _restore(self, state: Mapping[str, Any]) -> None:
        if not isinstance(state, Mapping) or state.get("version") != STATE_VERSION:
            raise ValueError(f"not a bandit state of version {STATE_VERSION}")
        arms = state.get("arms")
        if not isinstance(arms, Mapping):
            raise ValueError("bandit state: 'arms' must be an object")
        for key, pair in arms.items():
            try:
                arm = float(key)
                wins, losses = (float(x) for x in pair)
            except (TypeError, ValueError):
                raise ValueError(f"bandit state: bad arm {str(key)[:20]!r}") from None
            if not (np.isfinite(wins) and np.isfinite(losses) and wins >= 0 and losses >= 0):
                raise ValueError(f"bandit state: counts of arm {key!r} must be >= 0")
            if arm in self._wins:
                self._wins[arm], self._losses[arm] = wins, losses


def explain(decisions: Iterable[Event]) -> str | None:
    """Why the movement-break nudges come when they do, in plain words, from decision events
    (None if no nudge was timed adaptively)."""
    counts: dict[float, list[int]] = {}
    latest: tuple[float, float] | None = None
    for e in decisions:
        interval = e.values.get("interval_s")
        if e.kind is not EventKind.NUDGE_DECISION or not isinstance(interval, float | int):
            continue
        if latest is None or e.start_s >= latest[0]:
            latest = (e.start_s, float(interval))
        if e.values.get("decision") == "sent":
            pair = counts.setdefault(float(interval), [0, 0])
            pair[0] += bool(e.values.get("responded"))
            pair[1] += 1
    if latest is None:
        return None
    now = latest[1]
    text = f"Your movement-break nudges now come after {now / 60:g} min of sitting"
    mine = counts.get(now)
    if mine is None:
        return text + ": the timing is still being tried out."
    others = [
        f"{k / 60:g} min: {w} of {n}" for k, (w, n) in sorted(counts.items()) if k != now and n
    ]
    text += (
        f" because after {mine[1]} nudge{'s' if mine[1] != 1 else ''} at that time you took a "
        f"break {mine[0]} time{'s' if mine[0] != 1 else ''}"
    )
    if others:
        text += " (at other times: " + ", ".join(others) + ")"
    return text + "; the timing keeps adapting to what works for you."
