"""How well the per-second slouch deviation separates slouched from upright sitting (simulated).

Each clip is a simulated wearer (trunk sensor in a random orientation) who walks, sits down,
stands up, walks again and sits for `SIT_S` seconds: upright, or slumping 8-25 deg forward, to
either side or backward (leaning back without support, so with postural sway). The engine runs
from a cold start (the upright reference comes from walking, the forward direction from the
posture changes); the last `SCORED_S` seconds of the final sitting are scored. A second clip
set leans back against a backrest (still, no sway), which must not read as slouching.

    python bench/slouch.py [--clips 24]

The last line is `RESULT slouch_auc=... flexion_auc=... supported_back_slouched_fraction=...`:
the area under the ROC curve of `slouch_deg` and of signed `flexion_deg` for slouched vs upright
seconds, and the share of supported backward-lean seconds marked slouched.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

from analytics.offline import analyze
from analytics.records import Placement, Posture
from sensor_gateway.simulator import Activity, simulate_day

SIT_S = 300
SCORED_S = 180
DIRECTIONS = ("upright", "forward", "left", "right", "backward")


def auc(positive: np.ndarray, negative: np.ndarray) -> float:
    """P(a positive scores above a negative), ties counting half (Mann-Whitney)."""
    scores = np.concatenate((positive, negative))
    order = scores.argsort(kind="stable")
    ranks = np.empty(scores.size)
    ranks[order] = np.arange(1, scores.size + 1)
    for value in np.unique(scores):  # average ranks of ties
        tied = scores == value
        ranks[tied] = ranks[tied].mean()
    n_pos, n_neg = positive.size, negative.size
    return float((ranks[:n_pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def clip(direction: str, angle_deg: float, *, supported: bool = False) -> Activity:
    """The final sitting stretch of a clip."""
    forward = {"forward": angle_deg, "backward": -angle_deg}.get(direction, 0.0)
    side = {"left": -angle_deg, "right": angle_deg}.get(direction, 0.0)
    sway = 1.0 if direction == "backward" and not supported else 0.0
    return Activity(Posture.SITTING, SIT_S, slouch_deg=forward, lateral_deg=side, sway_deg=sway)


def run(seed: int, last: Activity) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """slouch_deg, flexion_deg and slouched of the scored seconds of one clip."""
    p = Posture
    schedule = [
        Activity(p.WALKING, 60),
        Activity(p.SITTING, 60),
        Activity(p.STANDING, 20),
        Activity(p.WALKING, 40),
        Activity(p.STANDING, 10),
        Activity(p.SITTING, 60),
        Activity(p.STANDING, 10),
        Activity(p.WALKING, 40),
        last,
    ]
    day = simulate_day(seed=seed, schedule=schedule, placements=(Placement.TRUNK,))
    tl = analyze(day.traces).output.timeline
    scored = slice(len(tl) - SCORED_S, len(tl))
    return tl.slouch_deg[scored], tl.flexion_deg[scored], tl.slouched[scored]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=24, help="clips per direction")
    args = parser.parse_args()
    rng = np.random.default_rng(77)
    values: dict[str, list[np.ndarray]] = {"upright": [], "slouched": []}
    flexion: dict[str, list[np.ndarray]] = {"upright": [], "slouched": []}
    print(f"{'direction':<12}{'clips':>6}{'slouch_deg median':>20}{'slouched share':>16}")
    for direction in DIRECTIONS:
        medians, marked = [], []
        for i in range(args.clips):
            angle = 0.0 if direction == "upright" else float(rng.uniform(8.0, 25.0))
            slouch, flex, slouched = run(1000 + 97 * i, clip(direction, angle))
            key = "upright" if direction == "upright" else "slouched"
            values[key].append(slouch)
            flexion[key].append(flex)
            medians.append(float(np.nanmedian(slouch)))
            marked.append(float(slouched.mean()))
        print(f"{direction:<12}{args.clips:>6}{np.median(medians):>20.1f}{np.mean(marked):>16.3f}")
    supported = []
    for i in range(max(4, args.clips // 4)):
        angle = float(rng.uniform(10.0, 25.0))
        _, _, slouched = run(5000 + 31 * i, clip("backward", angle, supported=True))
        supported.append(float(slouched.mean()))
    pos, neg = (np.nan_to_num(np.concatenate(values[k]), nan=0.0) for k in ("slouched", "upright"))
    fpos, fneg = (
        np.nan_to_num(np.concatenate(flexion[k]), nan=0.0) for k in ("slouched", "upright")
    )
    slouch_auc, flexion_auc = auc(pos, neg), auc(fpos, fneg)
    print(f"AUC slouched vs upright: slouch_deg {slouch_auc:.3f}, flexion_deg {flexion_auc:.3f}")
    print(f"leaning back against a backrest: {np.mean(supported):.3f} of seconds marked slouched")
    print(
        f"RESULT slouch_auc={slouch_auc:.3f} flexion_auc={flexion_auc:.3f}"
        f" supported_back_slouched_fraction={np.mean(supported):.3f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
