"""Each sensor's upright reference, and the trunk's forward direction (docs/architecture.md 6).

Nothing assumes which sensor axis points up. While walking, the trunk and the thigh are upright,
so the median gravity direction over recent walking seconds is the sensor's "up" however it was
put on (ActiMotus does the same). A manual calibration ("sit tall for a few seconds") sets it
directly. After the sensor was off (long stillness) or silent for a long gap, the reference goes
stale: the classifier holds its decisions until walking confirms it or replaces it (a re-wear),
so a sensor put back differently is not read with the old reference.

The trunk's forward direction is learned from posture changes: people lean forward to stand up
and to sit down, so the horizontal direction of the largest lean during those movements points
forward. Until it is known, flexion is the whole inclination.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from .arrays import angle_deg, running_sum, unit
from .params import CalibrationRules
from .records import Placement

F64 = NDArray[np.float64]
FORWARD_MIN_LEAN_DEG = 15.0  # a movement must lean this far to teach the forward direction
FORWARD_MIN_EVENTS = 2


@dataclass(frozen=True, slots=True, eq=False)
class Calibration:
    """A new upright reference of one sensor, valid from `t_s` on."""

    t_s: float
    up: F64  # (3,) unit vector in the sensor frame
    source: str  # "walking", "manual", "rewear" (put back differently), "restored" or "declared"
    placement: Placement = Placement.TRUNK
    forward: F64 | None = None  # (3,) unit vector perpendicular to up, if known


class ManualCalibration:
    """A "sit tall" calibration in progress: the mean gravity of each sensor over a window."""

    def __init__(self, start_s: float, duration_s: float) -> None:
        self.start_s = start_s
        self.end_s = start_s + duration_s
        self._sums: dict[Placement, F64] = {}
        self._counts: dict[Placement, int] = {}

    def add(self, t_s: F64, gravity: dict[Placement, F64]) -> bool:
        """Add seconds starting at `t_s` with each sensor's mean gravity; True once complete."""
        inside = (t_s >= self.start_s) & (t_s < self.end_s)
        for placement, g in gravity.items():
            rows = g[inside]
            rows = rows[np.isfinite(rows).all(axis=1)]
            self._sums[placement] = running_sum(self._sums.get(placement, np.zeros(3)), rows)
            self._counts[placement] = self._counts.get(placement, 0) + len(rows)
        return bool(t_s.size) and float(t_s[-1]) >= self.end_s - 1.0

    def mean(self, placement: Placement) -> F64 | None:
        """The mean gravity of the window, or None if the sensor had no data in it."""
        n = self._counts.get(placement, 0)
        return self._sums[placement] / n if n else None


class UprightReference:
    """Learns and holds one sensor's upright (and forward) direction."""

    def __init__(
        self,
        placement: Placement,
        rules: CalibrationRules,
        *,
        initial: Calibration | None = None,
        declared: tuple[tuple[float, float, float], tuple[float, float, float]] | None = None,
    ) -> None:
        """`declared`: the (up, out) axes of a declared mount (analytics/params.py), which fix
        the reference for good; `initial`: a reference to start from otherwise."""
        self.placement = placement
        self.rules = rules
        self._walking = np.zeros((0, 3))  # unit gravity of recent walking seconds
        self._count = 0  # walking seconds since the reference was last reset
        self.up: F64 | None = None
        self.forward: F64 | None = None
        self._forward_sum = np.zeros(3)
        self._forward_n = 0
        self.manual = False  # the reference was set by hand: walking does not move it
        self.stale = False  # the sensor may have been put back differently
        self._stale_up: F64 | None = None
        self.declared = declared is not None  # fixed by configuration: never stale, never moved
        if declared is not None:
            up, out = (np.asarray(v, dtype=np.float64) for v in declared)
            # `forward` is where gravity's reaction moves as the trunk leans forward: the body's
            # back (see `angles`); on the thigh only its axis matters (the sensor's face normal)
            back = -out if placement is Placement.TRUNK else out
            initial = Calibration(
                t_s=0.0, up=up, source="declared", placement=placement, forward=back
            )
            self.manual = True
        if initial is not None:
            self.up = unit(np.asarray(initial.up, dtype=np.float64))
            if initial.forward is not None:
                self.forward = _perpendicular(
                    np.asarray(initial.forward, dtype=np.float64), self.up
                )
                self._forward_n = FORWARD_MIN_EVENTS
                self._forward_sum = self.forward.copy() * FORWARD_MIN_EVENTS

    @property
    def trusted(self) -> bool:
        """Known and not stale: decisions that need it can be made."""
        return self.up is not None and not self.stale

    def snapshot(self, t_s: float, source: str) -> Calibration:
        assert self.up is not None
        return Calibration(
            t_s=t_s, up=self.up, source=source, placement=self.placement, forward=self.forward
        )

    def set_manual(self, t_s: float, gravity: F64) -> Calibration:
        """Take the mean gravity `gravity` (sensor frame) as upright from `t_s` on."""
        self.declared = False
        self.up = unit(np.asarray(gravity, dtype=np.float64))
        if self.forward is not None:
            self.forward = _perpendicular(self.forward, self.up)
        self.manual, self.stale, self._stale_up = True, False, None
        return self.snapshot(t_s, "manual")

    def go_stale(self) -> None:
        """The sensor may have been taken off: the next walking confirms or replaces `up`."""
        if self.up is None or self.stale or self.declared:
            return
        self.stale, self._stale_up = True, self.up
        self._walking = np.zeros((0, 3))
        self._count = 0

    def normal(self) -> F64:
        """The sensor axis pointing out of the body: the declared or learned one, else +z.

        An accelerometer's z axis is normal to its circuit board, and a sensor (or a phone)
        worn on the front of the thigh lies flat against it.
        """
        return self.forward if self.forward is not None else np.array([0.0, 0.0, 1.0])

    def resolve(self, t_s: float, up: F64) -> Calibration:
        """A stale reference resolved by a posture change: `up` (sensor frame) is upright."""
        before = self._stale_up if self.stale else self.up
        self.up = unit(np.asarray(up, dtype=np.float64))
        self.stale, self._stale_up, self.manual = False, None, False
        self._walking, self._count = np.zeros((0, 3)), 0
        moved = before is not None and float(angle_deg(before, self.up)) >= self.rules.rewear_deg
        return self.snapshot(t_s, "rewear" if moved else "transition")

    def walking(self, t_s: F64, gravity: F64) -> list[Calibration]:
        """Learn from walking seconds starting at `t_s` (k,) with mean gravity (k, 3)."""
        good = np.isfinite(gravity).all(axis=1)
        t_s, gravity = t_s[good], gravity[good]
        calibrations: list[Calibration] = []
        r = self.rules
        done = 0
        while done < t_s.size:
            take = min(self._next_due() - self._count, t_s.size - done)
            self._walking = np.concatenate((self._walking, unit(gravity[done : done + take])))[
                -r.window_s :
            ]
            self._count += take
            done += take
            if self._count == self._next_due(before=True):
                cal = self._update(float(t_s[done - 1]) + 1.0)
                if cal is not None:
                    calibrations.append(cal)
        return calibrations

    def due(self) -> int:
        """Walking seconds still needed before the next update of the reference."""
        return self._next_due() - self._count

    def _next_due(self, *, before: bool = False) -> int:
        """The walking-second count at which the reference is next updated.

        With `before`, the update that the current count may have just reached.
        """
        r = self.rules
        count = self._count - 1 if before else self._count
        if count < r.min_walk_s:
            return r.min_walk_s
        return r.min_walk_s + ((count - r.min_walk_s) // r.every_s + 1) * r.every_s

    def _update(self, t_s: float) -> Calibration | None:
        new = robust_mean(self._walking)
        if self.manual and not self.stale:
            return None
        before = self._stale_up if self.stale else self.up
        self.up = new
        if self.forward is not None:
            self.forward = _perpendicular(self.forward, new)
        if self.stale:
            self.stale, self._stale_up, self.manual = False, None, False
            moved = before is not None and float(angle_deg(before, new)) >= self.rules.rewear_deg
            if moved:  # put back differently: what was learned about forward no longer holds
                self.forward, self._forward_sum, self._forward_n = None, np.zeros(3), 0
                return self.snapshot(t_s, "rewear")
            return self.snapshot(t_s, "walking")
        if before is None or float(angle_deg(before, new)) >= self.rules.report_deg:
            return self.snapshot(t_s, "walking")
        return None

    def learn_forward(self, gravity: F64) -> None:
        """Learn from the mean gravity (k, 3) of the seconds of one posture-change movement."""
        if self.up is None or not len(gravity):
            return
        g = unit(gravity[np.isfinite(gravity).all(axis=1)])
        if not len(g):
            return
        lean = angle_deg(g, self.up)
        i = int(np.argmax(lean))
        if lean[i] < FORWARD_MIN_LEAN_DEG:
            return
        self._forward_sum += unit(_perpendicular(g[i], self.up))
        self._forward_n += 1
        if self._forward_n >= FORWARD_MIN_EVENTS and np.linalg.norm(self._forward_sum) > 0:
            self.forward = _perpendicular(self._forward_sum, self.up)

    def angles(self, gravity: F64) -> tuple[F64, F64, F64]:
        """(inclination, forward flexion, lateral tilt) in degrees of gravity vectors (k, 3).

        `forward` is the direction gravity's reaction (world up, as the sensor measures it)
        moves to when the trunk leans forward, so flexion is positive leaning forward; lateral
        is positive bending to the right.

        NaN where there is no reference; flexion is the inclination and lateral NaN while the
        forward direction is not known.
        """
        k = gravity.shape[0]
        if self.up is None:
            nan = np.full(k, np.nan)
            return nan, nan, nan.copy()
        incl = angle_deg(gravity, self.up)
        if self.forward is None:
            return incl, incl, np.full(k, np.nan)
        vertical = _dot(gravity, self.up)
        side = np.cross(self.forward, self.up)  # the body's left: leaning right is positive
        flexion = np.degrees(np.arctan2(_dot(gravity, self.forward), vertical))
        lateral = np.degrees(np.arctan2(_dot(gravity, side), vertical))
        return incl, np.asarray(flexion, dtype=np.float64), np.asarray(lateral, dtype=np.float64)


def robust_mean(vectors: F64, keep: float = 0.8) -> F64:
    """The mean direction of unit vectors (k, 3) without the farthest fifth of them.

    Unlike a per-axis median it turns with the sensor: any rotation of the inputs rotates the
    result the same way, so postures do not depend on how the sensor is mounted.
    """
    first = unit(vectors.mean(axis=0))
    spread = angle_deg(vectors, first)
    count = max(1, int(np.ceil(keep * len(vectors))))
    nearest = np.argsort(spread, kind="stable")[:count]
    return unit(vectors[np.sort(nearest)].mean(axis=0))


def _perpendicular(v: F64, up: F64) -> F64:
    """`v` without its component along `up`, scaled to length 1."""
    return unit(v - float(_dot(v[None, :], up)[0]) * up)


def _dot(rows: F64, v: F64) -> F64:
    """Row-wise dot products, summed in a fixed order (the same bits for any batch size)."""
    out: F64 = rows[:, 0] * v[0] + rows[:, 1] * v[1] + rows[:, 2] * v[2]
    return out
