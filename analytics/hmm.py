"""The trunk-only posture model: standing, sitting or lying for each piece, by Viterbi decoding.

A trunk sensor cannot tell sitting from standing by tilt alone, so the pieces of the day
(analytics/segments.py) form a hidden Markov chain over {standing, sitting, lying}:

- walking pieces are standing (walking implies upright);
- a still piece's tilt from the upright reference speaks for lying beyond `lying_deg`, and for
  sitting when the trunk leans well forward or back (people rarely stand leaning for long);
- the posture changes only at movements: a movement between two pieces changes it with a
  chance that rises with its vertical speed and how far it turned the trunk; whether it went up
  (sit-to-stand) or down (stand-to-sit) comes from the sign of the speed's larger peak.

Transitions carry most of the evidence when someone sits as upright as they stand; a sit-to-stand
at the end of a piece says the piece was sitting, so pieces are decided once the best paths of
every state agree on them (or at the latest after a hold time).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from .params import TrunkRules
from .segments import SPEED_FLOOR_M_S

STAND, SIT, LIE = 0, 1, 2  # ties go to standing
STATES = 3
NEG_INF = -np.inf
F64 = NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Movement:
    """What lies between two pieces: a burst of movement, or nothing seen."""

    up_m_s: float = 0.0  # peak upward vertical speed estimate
    down_m_s: float = 0.0  # peak downward vertical speed estimate
    turn_deg: float = float("nan")  # trunk turn across it
    seen: bool = False  # False: no burst (quiet, or a short gap in the data)
    near_walking: bool = False  # one side is walking

    @property
    def speed_m_s(self) -> float:
        """Peak vertical speed estimate."""
        return max(self.up_m_s, self.down_m_s)

    @property
    def up_ratio(self) -> float:
        """log(peak up speed / peak down speed)."""
        up, down = (max(v, SPEED_FLOOR_M_S) for v in (self.up_m_s, self.down_m_s))
        return float(np.log(up / down))

    def then(self, later: Movement) -> Movement:
        """This movement and the `later` one seen right after it, as one movement."""
        if not self.seen:
            return later
        return Movement(
            up_m_s=max(self.up_m_s, later.up_m_s),
            down_m_s=max(self.down_m_s, later.down_m_s),
            turn_deg=float(np.fmax(self.turn_deg, later.turn_deg)),
            seen=True,
        )


def _sigmoid(x: float) -> float:
    return float(1.0 / (1.0 + np.exp(-x)))


def transition(move: Movement, rules: TrunkRules) -> F64:
    """Log-probabilities (3, 3) of going from state i to state j across `move`."""
    if move.seen:
        turn = 0.0 if np.isnan(move.turn_deg) else move.turn_deg - 10.0
        change = _sigmoid(
            rules.change_speed_slope * (move.speed_m_s - rules.change_speed_m_s)
            + rules.change_turn_slope * turn / 10.0
            + rules.change_bias
        )
        # the ratio of the up and down peaks means little when both are slow
        sure = min(1.0, move.speed_m_s / rules.change_speed_m_s)
        up = _sigmoid(rules.direction_slope * move.up_ratio * sure)
    else:
        change = rules.walk_change if move.near_walking else rules.quiet_change
        up = 0.5
    change = min(max(change, 1e-6), 1.0 - 1e-6)
    # however clear it looks, the direction of one burst is no surer than `direction_max`
    up = min(max(up, 1.0 - rules.direction_max), rules.direction_max)
    log_c = np.log(change)
    t = np.full((STATES, STATES), np.log(1.0 - change))
    t[STAND, SIT] = log_c + np.log(1.0 - up)
    t[SIT, STAND] = log_c + np.log(up)
    t[STAND, LIE] = log_c + np.log(rules.to_lying[0])
    t[SIT, LIE] = log_c + np.log(rules.to_lying[1])
    t[LIE, STAND] = log_c + np.log(rules.from_lying[0])
    t[LIE, SIT] = log_c + np.log(rules.from_lying[1])
    return t


def emission(
    tilt_deg: float, rules: TrunkRules, *, lying_deg: float, duration_s: float = np.inf
) -> F64:
    """Log-likelihoods (3,) of a still piece whose mean trunk tilt from upright is `tilt_deg`.

    NaN tilt (no reference yet): no tilt evidence. People do not sit down for a few seconds:
    a piece shorter than `short_sit_s` speaks against sitting.
    """
    short = rules.short_sit_weight * max(0.0, 1.0 - duration_s / rules.short_sit_s)
    if np.isnan(tilt_deg):
        return np.array([0.0, -short, 0.0])
    lying = float(np.log(_sigmoid((tilt_deg - lying_deg) / 4.0) + 1e-12))
    upright = float(np.log(_sigmoid((lying_deg - tilt_deg) / 4.0) + 1e-12))
    lean = rules.sit_tilt_weight * float(
        np.clip((tilt_deg - rules.sit_tilt_deg) / 10.0, -rules.upright_tilt_weight, 2.0)
    )
    return np.array([upright - lean / 2.0, upright + lean / 2.0 - short, lying])


WALKING = np.array([0.0, NEG_INF, NEG_INF])  # a walking piece is standing


def decode(
    anchor: int | None, moves: list[Movement], emissions: list[F64], rules: TrunkRules
) -> tuple[NDArray[np.intp], F64]:
    """Viterbi over pieces after a decided piece in state `anchor` (None: a fresh start).

    `moves[i]` lies before piece i (for i = 0 it follows the anchor; ignored without one).
    Returns the state of every piece on the best path ending in each state, (3, n), and the
    log-probability of those paths, (3,).
    """
    n = len(emissions)
    back = np.zeros((n, STATES), dtype=np.intp)
    if anchor is None:
        score = emissions[0].copy()
    else:
        score = transition(moves[0], rules)[anchor] + emissions[0]
    for i in range(1, n):
        cand = score[:, None] + transition(moves[i], rules)
        back[i] = np.argmax(cand, axis=0)
        score = cand[back[i], np.arange(STATES)] + emissions[i]
    paths = np.zeros((STATES, n), dtype=np.intp)
    state = np.arange(STATES)
    paths[:, n - 1] = state
    for i in range(n - 1, 0, -1):
        state = back[i][state]
        paths[:, i - 1] = state
    return paths, score


def settled(paths: NDArray[np.intp], score: F64) -> int:
    """How many of the oldest pieces have the same state on every path still possible."""
    alive = paths[np.isfinite(score)]
    agree = np.all(alive == alive[0], axis=0)
    return int(agree.size) if agree.all() else int(np.argmin(agree))
