"""Small, seeded, physically plain sensor traces built from a list of postures, for unit tests.

The body frame is x forward, y left, z up along the trunk (or the thigh). A worn sensor measures
gravity's reaction (+1 g, world up) in the body frame, rotated by how the sensor is mounted;
walking adds a vertical bounce at the step frequency; a sit-to-stand moves the body up (first
up, then braking), a stand-to-sit down, while the trunk leans forward and back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from analytics.records import Posture, Trace
from analytics.timeline import CODE, Timeline

F64 = NDArray[np.float64]
TRANSITION_S = 2.0


@dataclass(frozen=True, slots=True)
class Part:
    """One stretch: `walk`, `stand`, `sit`, `lie`, `desk` (off the body, still), `up`
    (sit-to-stand) or `down` (stand-to-sit); `lean_deg` is the trunk's forward lean."""

    kind: str
    seconds: float = TRANSITION_S
    lean_deg: float = 0.0
    thigh: bool = False  # render the thigh rather than the trunk
    breathe_deg: float = 0.0  # `lie`: the trunk's tilt swing of each breath (4 s a breath)


def up_vector(lean_deg: F64) -> F64:
    """World up in the body frame after leaning forward by `lean_deg`, (n, 3)."""
    th = np.radians(lean_deg)
    return np.column_stack((-np.sin(th), np.zeros_like(th), np.cos(th)))


def rotation(axis: tuple[float, float, float], angle_deg: float) -> F64:
    """The rotation matrix about `axis` by `angle_deg` (Rodrigues)."""
    k = np.asarray(axis, dtype=np.float64)
    k = k / np.linalg.norm(k)
    a = np.radians(angle_deg)
    kx = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
    return np.eye(3) + np.sin(a) * kx + (1 - np.cos(a)) * kx @ kx


def _part(part: Part, t: F64, rng: np.random.Generator) -> F64:
    """Acceleration in the body frame, (n, 3)."""
    n = t.size
    rel = t - t[0]
    if part.kind == "walk":
        phase = 2 * np.pi * 1.8 * rel
        lean = np.full(n, 5.0 if not part.thigh else 0.0) + (
            20.0 * np.sin(phase / 2) if part.thigh else 1.5 * np.sin(phase)
        )
        acc = up_vector(lean)
        acc[:, 2] += 0.25 * np.sin(phase)
        acc[:, 0] += 0.1 * np.sin(phase + 1.0)
        return acc + rng.normal(scale=0.02, size=(n, 3))
    if part.kind in ("stand", "sit"):
        base = 85.0 if part.thigh and part.kind == "sit" else part.lean_deg
        lean = base + 1.0 * np.sin(2 * np.pi * rel / 7.0)
        acc = up_vector(lean)
        # people shift now and then: a reach or a turn of a few seconds every few minutes
        for start in np.arange(rng.uniform(20, 90), max(part.seconds - 5, 0), 150.0):
            bump = np.exp(-0.5 * ((rel - start) / 1.5) ** 2)
            acc += up_vector(lean + 12.0 * bump) - up_vector(lean)
            acc[:, 0] += 0.08 * np.gradient(bump) * (n / max(part.seconds, 1e-9))
        return acc + rng.normal(scale=0.004, size=(n, 3))
    if part.kind == "lie":
        breath = part.breathe_deg * np.sin(2 * np.pi * rel / 4.0)
        return up_vector(-90.0 + breath) + rng.normal(scale=0.003, size=(n, 3))
    if part.kind == "desk":
        return up_vector(np.full(n, 90.0)) + rng.normal(scale=0.001, size=(n, 3))
    if part.kind in ("up", "down"):
        x = rel / part.seconds
        sign = 1.0 if part.kind == "up" else -1.0
        if part.thigh:
            lean = 85.0 * (1 - x) if part.kind == "up" else 85.0 * x
        else:
            lean = 30.0 * np.sin(np.pi * x) ** 2
        acc = up_vector(lean)
        acc *= (1.0 + sign * 0.15 * np.sin(2 * np.pi * x))[:, None]
        return acc + rng.normal(scale=0.005, size=(n, 3))
    raise ValueError(f"unknown part {part.kind!r}")


def trace(
    parts: list[Part],
    *,
    rate_hz: float = 50.0,
    mount: F64 | None = None,
    remount_after: int | None = None,
    remount: F64 | None = None,
    seed: int = 7,
    start_s: float = 0.0,
) -> Trace:
    """Render `parts` one after another; the sensor is mounted as `mount` (a rotation matrix),
    and as `remount` from part number `remount_after` on (taken off and put back)."""
    rng = np.random.default_rng(seed)
    chunks = []
    t0 = 0.0
    for i, part in enumerate(parts):
        n = round(part.seconds * rate_hz)
        t = t0 + np.arange(n) / rate_hz
        body = _part(part, t, rng)
        rot = mount if mount is not None else np.eye(3)
        if remount_after is not None and i >= remount_after and remount is not None:
            rot = remount
        if part.kind == "desk":
            rot = np.eye(3)
        chunks.append(body @ rot.T)
        t0 += n / rate_hz
    accel = np.concatenate(chunks)
    t = start_s + np.arange(accel.shape[0]) / rate_hz
    return Trace(t_s=t, accel_g=accel, rate_hz=rate_hz, source="synthetic")


def truth(parts: list[Part]) -> NDArray[np.str_]:
    """The posture of every second (transitions belong to the posture they end in)."""
    names = {"walk": "walking", "stand": "standing", "sit": "sitting", "lie": "lying"}
    names |= {"desk": "not_worn", "up": "standing", "down": "sitting"}
    out: list[str] = []
    for part in parts:
        out += [names[part.kind]] * round(part.seconds)
    return np.array(out)


def seconds(postures: NDArray[np.int8], *, start_s: float = 0.0, **columns: Any) -> Timeline:
    """Consecutive classified seconds from `start_s` with these posture codes; every other
    column is "nothing measured" (NaN angles and ENMO, not still, no steps) unless given."""
    k = postures.size
    nan = np.full(k, np.nan)
    values: dict[str, Any] = {
        "t_s": start_s + np.arange(k, dtype=np.float64),
        "posture": np.asarray(postures, dtype=np.int8),
        "flexion_deg": nan,
        "inclination_deg": nan,
        "still": np.zeros(k, dtype=bool),
        "gravity_g": np.zeros((k, 3)),
        "enmo_g": nan,
        "slouched": np.zeros(k, dtype=bool),
        "lateral_deg": nan,
        "steps": np.zeros(k, dtype=np.int64),
        "slouch_deg": nan,
        "mean_var_g2": nan,
    }
    values.update(columns)
    return Timeline(**values)


def timeline(
    start_s: float, *parts: tuple[Posture, float], slouch: tuple[float, float] = (0, 0)
) -> Timeline:
    """Classified seconds from `start_s` (for the stages after the classifier): each part is
    (posture, minutes); `slouch` marks minutes [a, b)."""
    codes = np.concatenate([np.full(round(m * 60), CODE[p], dtype=np.int8) for p, m in parts])
    slouched = np.zeros(codes.size, dtype=bool)
    slouched[round(slouch[0] * 60) : round(slouch[1] * 60)] = True
    return seconds(codes, start_s=start_s, slouched=slouched)
