"""A seeded, physically plausible simulated office day for the demo and load tests.

The body frame is x forward, y left, z up along the trunk (or along the thigh, towards the hip).
A sensor at rest measures +1 g along world "up"; the trunk's forward flexion and lateral tilt
rotate that vector, walking adds gait oscillation at the step frequency, sitting adds breathing
and micro-movements and a slow slouch drift, and every sensor is mounted in a random (seeded)
orientation so that nothing downstream may assume which axis points up.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.signal import lfilter

from analytics.params import parse_mount
from analytics.records import Placement, Posture, Trace

F64 = NDArray[np.float64]
_Part = tuple[F64, F64, F64 | None]  # up vector, dynamics, desk rotation when not worn
TRANSITION_S = 3.0  # a sit-to-stand or stand-to-sit takes this long
NOISE_G = 0.004  # sensor noise, 1 sigma


@dataclass(frozen=True, slots=True)
class Activity:
    """One stretch of the simulated day."""

    posture: Posture
    duration_s: float
    slouch_deg: float = 0.0  # forward flexion reached at the end of a sitting stretch
    lateral_deg: float = 0.0  # sideways bend reached at the end of a sitting stretch (right +)
    sway_deg: float = 0.0  # postural sway of a trunk held without support (1 sigma, about 1 Hz)


@dataclass(frozen=True, slots=True)
class SimulatedDay:
    """Traces per placement and the true posture of every second."""

    traces: dict[Placement, Trace]
    truth: NDArray[np.str_]  # (seconds,) posture name per second from the trace start
    schedule: tuple[Activity, ...]


def office_schedule(rng: np.random.Generator, *, hours: float = 8.5) -> list[Activity]:
    """Arrive, sit in bouts with breaks, a meeting, lunch (sensor off, a short rest), leave."""
    a, p = Activity, Posture
    day: list[Activity] = [a(p.WALKING, rng.uniform(180, 300)), a(p.STANDING, rng.uniform(30, 90))]
    end_s = hours * 3600.0
    lunch_at, lunch_done = 0.45 * end_s, False
    while sum(x.duration_s for x in day) < end_s - 600:
        elapsed = sum(x.duration_s for x in day)
        remaining = end_s - elapsed
        if not lunch_done and elapsed > lunch_at and remaining > 2 * 3600:
            day += [
                a(p.WALKING, rng.uniform(120, 240)),
                a(p.SITTING, rng.uniform(1200, 1800), slouch_deg=rng.uniform(10, 18)),
                a(p.NOT_WORN, rng.uniform(1500, 2100)),  # taken off, left on the desk
                a(p.LYING, rng.uniform(300, 600)),
                a(p.WALKING, rng.uniform(120, 240)),
            ]
            lunch_done = True
            continue
        bout = rng.choice([rng.uniform(900, 1700), rng.uniform(1900, 4200)], p=[0.5, 0.5])
        bout = min(bout, max(remaining - 900, 300))
        # an unbroken bout, sometimes with a short stand that is not a break
        if rng.random() < 0.3:
            first = rng.uniform(0.3, 0.7) * bout
            day += [
                a(p.SITTING, first, slouch_deg=rng.uniform(15, 30)),
                a(p.STANDING, rng.uniform(15, 40)),
                a(p.SITTING, bout - first, slouch_deg=rng.uniform(15, 30)),
            ]
        else:
            day.append(a(p.SITTING, bout, slouch_deg=rng.uniform(12, 32)))
        day += [a(p.WALKING, rng.uniform(60, 300)), a(p.STANDING, rng.uniform(40, 240))]
        if rng.random() < 0.5:
            day.append(a(p.WALKING, rng.uniform(60, 180)))
    day.append(a(p.WALKING, rng.uniform(240, 420)))
    return [Activity(x.posture, float(round(x.duration_s)), x.slouch_deg) for x in day]


def random_rotation(rng: np.random.Generator) -> F64:
    """A uniformly random rotation matrix (3, 3)."""
    q, r = np.linalg.qr(rng.normal(size=(3, 3)))
    q *= np.sign(np.diag(r))
    if np.linalg.det(q) < 0:
        q[:, 0] = -q[:, 0]
    return q


def mount_rotation(text: str) -> F64:
    """The rotation (3, 3) from the body frame to the frame of a sensor worn as `text` declares.

    `text` is a declared mount ("+x -z": the sensor's +x points up, its -z out of the body);
    the body frame is x forward (out of the body on the front of the thigh or the chest), z up.
    """
    axes = parse_mount(text)
    if axes is None:
        raise ValueError("a simulated mount must be declared, not auto")
    up, out = (np.asarray(v) for v in axes)
    rotation = np.column_stack((out, np.cross(up, out), up))  # images of body x, y, z
    return np.asarray(rotation, dtype=np.float64)


def _up(flexion_deg: F64, lateral_deg: F64) -> F64:
    """World up in the body frame after forward flexion then lateral tilt, (n, 3)."""
    th, ph = np.radians(flexion_deg), np.radians(lateral_deg)
    return np.column_stack((-np.sin(th), np.sin(ph) * np.cos(th), np.cos(ph) * np.cos(th)))


def _smooth_noise(
    rng: np.random.Generator, n: int, rate_hz: float, *, tau_s: float, sd: float
) -> F64:
    """First-order autoregressive noise with time constant `tau_s` and standard deviation `sd`."""
    a = np.exp(-1.0 / (tau_s * rate_hz))
    e = rng.normal(scale=sd * np.sqrt(1 - a * a), size=n)
    return np.asarray(lfilter([1.0], [1.0, -a], e), dtype=np.float64)


def _segment(
    activity: Activity, t: F64, rng: np.random.Generator, rate_hz: float
) -> tuple[F64, F64, F64, F64]:
    """Trunk up vector + dynamics and thigh up vector + dynamics for one activity, each (n, 3)."""
    n = t.size
    rel = t - t[0]
    trunk_dyn = np.zeros((n, 3))
    thigh_dyn = np.zeros((n, 3))
    lateral = _smooth_noise(rng, n, rate_hz, tau_s=20.0, sd=1.5)
    thigh_lateral = _smooth_noise(rng, n, rate_hz, tau_s=20.0, sd=3.0)
    p = activity.posture
    if p is Posture.SITTING:
        drift = np.clip(rel / max(activity.duration_s * 0.6, 1.0), 0, 1)  # slow slouch
        flexion = 4.0 + (activity.slouch_deg - 4.0) * drift
        lateral = lateral + activity.lateral_deg * drift
        if activity.sway_deg:
            flexion += _smooth_noise(rng, n, rate_hz, tau_s=0.3, sd=activity.sway_deg)
            lateral += _smooth_noise(rng, n, rate_hz, tau_s=0.3, sd=activity.sway_deg)
        flexion += _smooth_noise(rng, n, rate_hz, tau_s=30.0, sd=2.5)  # micro-movements
        flexion += 0.4 * np.sin(2 * np.pi * 0.25 * rel + rng.uniform(0, 6.3))  # breathing
        # now and then a reach or a turn: a few degrees for a few seconds
        for at in rng.uniform(
            0, max(activity.duration_s - 5, 1), size=int(activity.duration_s // 240)
        ):
            bump = np.exp(-0.5 * ((rel - at) / 1.5) ** 2)
            flexion += rng.uniform(8, 20) * bump
            trunk_dyn[:, 0] += 0.05 * np.gradient(bump) * rate_hz
        trunk_dyn += rng.normal(scale=0.003, size=(n, 3))  # typing, fidgeting
        thigh = 80.0 + _smooth_noise(rng, n, rate_hz, tau_s=60.0, sd=4.0)
        thigh_dyn += rng.normal(scale=0.004, size=(n, 3))
    elif p is Posture.STANDING:
        flexion = 2.0 + _smooth_noise(rng, n, rate_hz, tau_s=5.0, sd=1.5)
        thigh = 3.0 + _smooth_noise(rng, n, rate_hz, tau_s=5.0, sd=1.5)
        trunk_dyn += rng.normal(scale=0.006, size=(n, 3))
        thigh_dyn += rng.normal(scale=0.006, size=(n, 3))
    elif p is Posture.WALKING:
        step_hz = rng.uniform(1.7, 2.0)
        phase = 2 * np.pi * step_hz * rel + rng.uniform(0, 6.3)
        flexion = 5.0 + 1.5 * np.sin(phase) + _smooth_noise(rng, n, rate_hz, tau_s=10.0, sd=1.0)
        trunk_dyn[:, 2] = 0.28 * np.sin(phase) + 0.08 * np.sin(2 * phase)
        trunk_dyn[:, 0] = 0.12 * np.sin(phase + 1.2)
        trunk_dyn[:, 1] = 0.08 * np.sin(phase / 2)
        thigh = 5.0 + 22.0 * np.sin(phase / 2)
        thigh_dyn[:, 2] = 0.45 * np.maximum(np.sin(phase), 0) ** 3
        thigh_dyn[:, 0] = 0.25 * np.cos(phase / 2)
        trunk_dyn += rng.normal(scale=0.02, size=(n, 3))
        thigh_dyn += rng.normal(scale=0.03, size=(n, 3))
    elif p is Posture.LYING:
        flexion = -88.0 + _smooth_noise(rng, n, rate_hz, tau_s=60.0, sd=2.0)  # on the back
        thigh = 88.0 + _smooth_noise(rng, n, rate_hz, tau_s=60.0, sd=2.0)
        flexion += 0.6 * np.sin(2 * np.pi * 0.25 * rel)
    else:  # not worn: flat on a desk, perfectly still
        flexion = np.full(n, 90.0)
        thigh = np.full(n, 90.0)
        lateral = np.zeros(n)
        thigh_lateral = np.zeros(n)
    return _up(flexion, lateral), trunk_dyn, _up(thigh, thigh_lateral), thigh_dyn


def _transition(t: F64, *, standing_up: bool) -> tuple[F64, F64, F64, F64]:
    """A sit-to-stand (or stand-to-sit): the trunk leans forward while the thigh swings."""
    x = (t - t[0]) / TRANSITION_S
    lean = 35.0 * np.sin(np.pi * x) ** 2
    thigh = 80.0 * (1 - x) if standing_up else 80.0 * x
    lift = 0.25 * np.sin(2 * np.pi * x) * (1 if standing_up else -1)
    trunk_dyn = np.zeros((t.size, 3))
    trunk_dyn[:, 2] = lift
    zero = np.zeros(t.size)
    return _up(lean, zero), trunk_dyn, _up(thigh, zero), np.zeros((t.size, 3))


class Renderer:
    """Renders activities one after another into body-frame signals, with the sit-to-stand
    and stand-to-sit transitions between them, for one wearer's sensors as they are mounted."""

    def __init__(
        self,
        rng: np.random.Generator,
        *,
        rate_hz: float,
        mounts: Mapping[Placement, str] | None = None,
    ) -> None:
        """`mounts`: declared mounts ("+x -z") of placements not worn in a random orientation."""
        self.rng = rng
        self.rate_hz = rate_hz
        self.mount = {p: random_rotation(rng) for p in Placement}
        self.mount.update({p: mount_rotation(text) for p, text in (mounts or {}).items()})
        self.desk = {p: random_rotation(rng) for p in Placement}  # how a sensor lies when off
        self.t_next = 0.0  # seconds from the start of the rendering
        self.previous: Posture | None = None
        self.moved = False  # the last activity began with a sit-to-stand or stand-to-sit

    def render(self, activity: Activity) -> dict[Placement, list[_Part]]:
        """The parts of `activity` (after a transition into it, if it needs one), noise-free."""
        parts: dict[Placement, list[_Part]] = {Placement.TRUNK: [], Placement.THIGH: []}
        sitting_change = {self.previous, activity.posture} in (
            {Posture.SITTING, Posture.STANDING},
            {Posture.SITTING, Posture.WALKING},
        )
        duration = activity.duration_s
        rate = self.rate_hz
        if sitting_change:
            t = self.t_next + np.arange(int(TRANSITION_S * rate)) / rate
            moves = _transition(t, standing_up=activity.posture is not Posture.SITTING)
            parts[Placement.TRUNK].append((moves[0], moves[1], None))
            parts[Placement.THIGH].append((moves[2], moves[3], None))
            self.t_next += TRANSITION_S
            duration -= TRANSITION_S
        n = round(duration * rate)
        t = self.t_next + np.arange(n) / rate
        up_t, dyn_t, up_h, dyn_h = _segment(activity, t, self.rng, rate)
        off = activity.posture is Posture.NOT_WORN
        parts[Placement.TRUNK].append((up_t, dyn_t, self.desk[Placement.TRUNK] if off else None))
        parts[Placement.THIGH].append((up_h, dyn_h, self.desk[Placement.THIGH] if off else None))
        self.t_next += duration
        self.previous = activity.posture
        self.moved = sitting_change
        return parts

    def truth(self, activity: Activity) -> list[str]:
        """The per-second labels of the activity just rendered: a sit-to-stand or stand-to-sit
        changes the posture in its middle, and its upright half is standing (gait begins after
        it, or ended before it)."""
        moving = round(TRANSITION_S) if self.moved else 0
        labels: list[str] = []
        if moving:
            first = round(TRANSITION_S / 2)
            up = activity.posture is not Posture.SITTING
            labels += [Posture.SITTING.value if up else Posture.STANDING.value] * first
            labels += [Posture.STANDING.value if up else Posture.SITTING.value] * (moving - first)
        return labels + [activity.posture.value] * (round(activity.duration_s) - moving)

    def accel(self, parts: list[_Part], placement: Placement) -> F64:
        """What the `placement` sensor measures for these parts, (n, 3) in g, noise-free."""
        chunks = []
        for up, dyn, on_desk in parts:
            rotation = on_desk if on_desk is not None else self.mount[placement]
            chunks.append((up + dyn) @ rotation.T)
        return np.concatenate(chunks) if chunks else np.zeros((0, 3))


def simulate_day(
    *,
    seed: int = 1234,
    hours: float = 8.5,
    rate_hz: float = 50.0,
    start_s: float = 0.0,
    placements: tuple[Placement, ...] = (Placement.TRUNK, Placement.THIGH),
    schedule: Sequence[Activity] | None = None,
    mounts: Mapping[Placement, str] | None = None,
) -> SimulatedDay:
    """Render a seeded office day for the given sensor placements, starting at `start_s`.

    `schedule` replaces the office day (and `hours`); `mounts` gives declared mounts ("+x -z")
    to placements that should not be worn in a random orientation.
    """
    rng = np.random.default_rng(seed)
    if schedule is None:
        schedule = office_schedule(rng, hours=hours)
    renderer = Renderer(rng, rate_hz=rate_hz, mounts=mounts)
    parts: dict[Placement, list[_Part]] = {Placement.TRUNK: [], Placement.THIGH: []}
    truth: list[str] = []
    for activity in schedule:
        for placement, more in renderer.render(activity).items():
            parts[placement] += more
        truth.extend(renderer.truth(activity))

    def render(placement: Placement) -> Trace:
        accel = renderer.accel(parts[placement], placement)
        accel += rng.normal(scale=NOISE_G, size=accel.shape)
        t = start_s + np.arange(accel.shape[0]) / rate_hz
        return Trace(
            t_s=t, accel_g=accel, rate_hz=rate_hz, source=f"simulated office day (seed {seed})"
        )

    traces = {p: render(p) for p in placements}
    return SimulatedDay(traces=traces, truth=np.array(truth), schedule=tuple(schedule))
