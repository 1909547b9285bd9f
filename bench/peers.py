"""The engine beside its peers: ActiMotus (PyPI `acti-motus`) and scikit-digital-health.

On the same recordings, per class, the share of each labelled class found (sensitivity) and the
share of each predicted class that is right (precision), the CPU time and the peak memory
(tracemalloc) of each method, features included:

- `simulated`: seeded, simulated office days (sensor_gateway's simulator) with a trunk and a
  thigh sensor: sitting, standing, walking, lying (a rest at lunch) and not worn (the sensors on
  a desk). Both sensors are strapped in ActiMotus' own orientation ("+x" up the thigh and the
  spine), so ActiMotus works as its makers intend; the engine runs in `auto` (it learns the
  orientation) and, on a second line, with the thigh mount declared.
- `wisdm_pocket_thigh`: real phones in trouser pockets (thigh only), each subject's walking,
  standing and sitting sessions in a row, the phone possibly put back differently between
  them. ActiMotus needs its sensor's x axis along the thigh: each subject's data are turned so
  that the mean gravity of the first walking session lies along +x (a favour to ActiMotus: the
  engine gets the raw axes) and its own flip detection is on.
- scikit-digital-health's `Sit2Stand` and the engine's sit-to-stand changes on the
  `uci_hapt_waist` recordings (waist), against the labelled SIT_TO_STAND transitions (a hit
  within +/- 2 s); skdh finds only that one transition.

ActiMotus classes are mapped onto the engine's: sit, kneel -> sitting; stand, shuffle, squat ->
standing; slow-walk, walk, fast-walk, stairs, run -> walking; lie; non-wear -> not_worn.

    pip install 'posture-monitor[peers]'   # acti-motus, scikit-digital-health
    python bench/peers.py [--days 3]

A last table scores the engine alone on simulated recordings under a minute of sit/stand cycles
from a thigh strap in a declared orientation (random signed axis pairs), from the first second,
with no walking (the seconds of each sit/stand movement itself are not scored, as in the real
data sets, where transitions are labelled apart).

The last line is `RESULT engine_min_class_f1=... actimotus_min_class_f1=... engine_s=...
actimotus_s=... engine_declared_thigh_short=...` (the smallest per-class F1 over both sources,
CPU seconds over both, and the share right on the short declared-mount recordings).
Without the peers installed the engine's numbers are still printed and theirs are `nan`.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
import tracemalloc
import warnings
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from analytics.offline import analyze
from analytics.params import AnalyticsParams, Mounting
from analytics.records import Placement, Trace
from analytics.timeline import POSTURES
from posture.testing.datasets import THIGH_SET, recordings

CLASSES = ("sitting", "standing", "walking", "lying", "not_worn")
ACTIMOTUS = {
    "sit": "sitting",
    "kneel": "sitting",
    "stand": "standing",
    "shuffle": "standing",
    "squat": "standing",
    "slow-walk": "walking",
    "walk": "walking",
    "fast-walk": "walking",
    "stairs": "walking",
    "run": "walking",
    "lie": "lying",
    "non-wear": "not_worn",
}
THIGH_MOUNT = "+x -z"  # ActiMotus' orientation of a thigh (and trunk) sensor
START = "2026-01-05 08:00"
TOLERANCE_S = 2.0
T0_UNIX_S = 1.7e9  # skdh wants unix times


@dataclass
class Run:
    """One method's predictions on one source, with its cost."""

    truth: list[np.ndarray]
    pred: list[np.ndarray]
    cpu_s: float = 0.0
    peak_mb: float = 0.0


def measured(fn: Callable[[], np.ndarray]) -> tuple[np.ndarray, float, float]:
    """`fn()` with its CPU seconds and peak traced memory (MB)."""
    tracemalloc.start()
    start = time.process_time()
    out = fn()
    cpu = time.process_time() - start
    peak = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.stop()
    return out, cpu, peak


def engine(traces: dict[Placement, Trace], seconds: int, params: AnalyticsParams) -> np.ndarray:
    """The engine's posture per second from the traces' start."""
    tl = analyze(traces, params=params).output.timeline
    pred = np.full(seconds, "unknown", dtype=object)
    rows = np.floor(tl.t_s + 0.5).astype(int)
    inside = (rows >= 0) & (rows < seconds)
    pred[rows[inside]] = [POSTURES[c].value for c in tl.posture[inside]]
    return pred


def _frame(trace: Trace) -> Any:
    import pandas as pd

    idx = pd.Timestamp(START, tz="UTC") + pd.to_timedelta(trace.t_s, unit="s")
    return pd.DataFrame(trace.accel_g, index=pd.DatetimeIndex(idx), columns=["x", "y", "z"])


def actimotus(traces: dict[Placement, Trace], seconds: int) -> np.ndarray:
    """ActiMotus' activity per second from the traces' start, mapped onto our classes."""
    import pandas as pd
    from actimotus import Activities, Features

    features = {p: Features().compute(_frame(t)) for p, t in traces.items()}
    acts, _ = Activities(orientation=True).compute(
        features[Placement.THIGH], trunk=features.get(Placement.TRUNK)
    )
    at = ((acts.index - pd.Timestamp(START, tz="UTC")).total_seconds()).to_numpy().astype(int)
    pred = np.full(seconds, "unknown", dtype=object)
    inside = (at >= 0) & (at < seconds)
    pred[at[inside]] = [ACTIMOTUS.get(a, a) for a in acts["activity"].to_numpy()[inside]]
    return pred


def table(name: str, runs: dict[str, Run]) -> dict[str, dict[str, float]]:
    """Print per-class sensitivity / precision of each method; return the F1 per class."""
    print(f"\n== {name}")
    print(f"{'method':<22}" + "".join(f"{c:>18}" for c in CLASSES) + f"{'CPU s':>8}{'peak MB':>9}")
    f1s: dict[str, dict[str, float]] = {}
    for method, run in runs.items():
        truth, pred = np.concatenate(run.truth), np.concatenate(run.pred)
        scored = np.isin(truth, CLASSES)
        truth, pred = truth[scored], pred[scored]
        cells, f1s[method] = [], {}
        for c in CLASSES:
            if not (truth == c).any():
                cells.append(f"{'-':>18}")
                continue
            hit = float(np.sum((truth == c) & (pred == c)))
            sens = hit / float(np.sum(truth == c))
            prec = hit / float(np.sum(pred == c)) if (pred == c).any() else 0.0
            f1s[method][c] = 2 * sens * prec / (sens + prec) if sens + prec else 0.0
            cells.append(f"{sens:>9.3f} / {prec:.3f}")
        print(f"{method:<22}" + "".join(cells) + f"{run.cpu_s:>8.2f}{run.peak_mb:>9.0f}")
    print("(cells: sensitivity / precision)")
    return f1s


def simulated(days: int, peers: bool) -> dict[str, Run]:
    from sensor_gateway.simulator import simulate_day

    runs = {"engine": Run([], []), "engine (thigh mount)": Run([], [])}
    if peers:
        runs["actimotus"] = Run([], [])
    declared = AnalyticsParams(mounting=Mounting(thigh=THIGH_MOUNT))
    for i in range(days):
        mounts = {Placement.THIGH: THIGH_MOUNT, Placement.TRUNK: THIGH_MOUNT}
        day = simulate_day(seed=300 + i, hours=8.5, mounts=mounts)
        n = day.truth.size
        methods: dict[str, Callable[[], np.ndarray]] = {
            "engine": lambda d=day, n=n: engine(d.traces, n, AnalyticsParams()),
            "engine (thigh mount)": lambda d=day, n=n: engine(d.traces, n, declared),
        }
        if peers:
            methods["actimotus"] = lambda d=day, n=n: actimotus(d.traces, n)
        for method, fn in methods.items():
            pred, cpu, peak = measured(fn)
            run = runs[method]
            run.truth.append(day.truth)
            run.pred.append(pred)
            run.cpu_s += cpu
            run.peak_mb = max(run.peak_mb, peak)
    return runs


def _turned(trace: Trace, walking_up: np.ndarray) -> Trace:
    """The trace rotated so that `walking_up` lies along +x."""
    u = walking_up / np.linalg.norm(walking_up)
    x = np.array([1.0, 0.0, 0.0])
    v = np.cross(u, x)
    s, c = float(np.linalg.norm(v)), float(u @ x)
    if s < 1e-9:
        rot = np.eye(3) if c > 0 else np.diag([-1.0, -1.0, 1.0])
    else:
        k = np.array([[0, -v[2], v[1]], [v[2], 0, -v[0]], [-v[1], v[0], 0]])
        rot = np.eye(3) + k + k @ k * ((1 - c) / s**2)
    return replace(trace, accel_g=trace.accel_g @ rot.T)


def wisdm(peers: bool) -> dict[str, Run]:
    runs = {"engine": Run([], [])}
    if peers:
        runs["actimotus"] = Run([], [])
    for rec in recordings(THIGH_SET):
        n = rec.truth.size
        first_walk = rec.trace.accel_g[: int(170 * rec.trace.rate_hz)].mean(axis=0)
        methods: dict[str, Callable[[], np.ndarray]] = {
            "engine": lambda r=rec, n=n: engine({Placement.THIGH: r.trace}, n, AnalyticsParams())
        }
        if peers:
            turned = _turned(rec.trace, first_walk)
            methods["actimotus"] = lambda t=turned, n=n: actimotus({Placement.THIGH: t}, n)
        for method, fn in methods.items():
            pred, cpu, peak = measured(fn)
            run = runs[method]
            run.truth.append(rec.truth)
            run.pred.append(pred)
            run.cpu_s += cpu
            run.peak_mb = max(run.peak_mb, peak)
    return runs


def _found(labelled: np.ndarray, times: np.ndarray) -> tuple[int, int, int, int]:
    """(labelled found, labelled, predicted that are real, predicted) within TOLERANCE_S."""
    edges = np.diff(labelled.astype(int), prepend=0, append=0)
    spans = list(zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True))
    hit = np.zeros(times.size, dtype=bool)
    found = 0
    for lo, hi in spans:
        near = (times >= lo - TOLERANCE_S) & (times <= hi + TOLERANCE_S)
        found += int(near.any())
        hit |= near
    return found, len(spans), int(hit.sum()), int(times.size)


def sit_to_stand(peers: bool) -> None:
    """Sit-to-stand transitions on HAPT: the engine's posture changes and skdh's detector."""
    totals = {"engine": np.zeros(4, dtype=int), "skdh Sit2Stand": np.zeros(4, dtype=int)}
    cost = {"engine": 0.0, "skdh Sit2Stand": 0.0}
    for rec in recordings("uci_hapt_waist"):
        labelled = rec.source == "SIT_TO_STAND"
        n = rec.truth.size
        pred, cpu, _ = measured(
            lambda r=rec, n=n: engine({Placement.TRUNK: r.trace}, n, AnalyticsParams())
        )
        cost["engine"] += cpu
        change = np.flatnonzero(pred[1:] != pred[:-1]) + 1
        ups = change[
            (pred[change - 1] == "sitting") & np.isin(pred[change], ("standing", "walking"))
        ]
        totals["engine"] += _found(labelled, ups.astype(float))
        if not peers:
            continue
        from skdh.sit2stand import Sit2Stand

        result, cpu, _ = measured(
            lambda r=rec: Sit2Stand(stillness_constraint=False, day_window=None).predict(
                time=T0_UNIX_S + r.trace.t_s, accel=r.trace.accel_g
            )
        )
        cost["skdh Sit2Stand"] += cpu
        starts = np.asarray(result["STS Start"], dtype=float) - T0_UNIX_S
        ends = np.asarray(result["STS End"], dtype=float) - T0_UNIX_S
        totals["skdh Sit2Stand"] += _found(labelled, (starts + ends) / 2)
    print("\n== uci_hapt_waist: sit-to-stand transitions (within +/- 2 s of a labelled one)")
    for method, (found, labelled, true, predicted) in totals.items():
        if not predicted and method != "engine" and not peers:
            continue
        print(
            f"{method:<22} sensitivity {found}/{labelled} = {found / max(labelled, 1):.3f},"
            f" precision {true}/{predicted} = {true / max(predicted, 1):.3f},"
            f" CPU {cost[method]:.2f} s"
        )


def declared_short(clips: int = 24) -> float:
    """Agreement per second on short sit/stand recordings (under a minute, no walking) from a
    thigh sensor strapped on in a declared orientation, every second counted from the first."""
    from analytics.records import Posture
    from sensor_gateway.simulator import TRANSITION_S, Activity, simulate_day

    rng = np.random.default_rng(53)
    axes = [f"{sign}{axis}" for axis in "xyz" for sign in "+-"]
    hit = total = 0
    for i in range(clips):
        up, out = rng.choice(axes, size=2, replace=False)
        while up[1] == out[1]:
            out = rng.choice(axes)
        mount = f"{up} {out}"
        first = Posture.SITTING if i % 2 else Posture.STANDING
        other = Posture.STANDING if i % 2 else Posture.SITTING
        schedule = [
            Activity(first if k % 2 == 0 else other, float(rng.integers(8, 14))) for k in range(5)
        ]
        day = simulate_day(
            seed=700 + i,
            schedule=schedule,
            placements=(Placement.THIGH,),
            mounts={Placement.THIGH: mount},
        )
        params = AnalyticsParams(mounting=Mounting(thigh=mount))
        pred = engine(day.traces, day.truth.size, params)
        held = np.ones(day.truth.size, dtype=bool)  # the sit/stand movements are not scored
        for start in np.cumsum([a.duration_s for a in schedule[:-1]]).astype(int):
            held[start : start + round(TRANSITION_S)] = False
        hit += int(np.sum((pred == day.truth) & held))
        total += int(held.sum())
    share = hit / total
    print(
        f"\n== declared thigh mount, {clips} recordings of sit/stand cycles under a minute,"
        f" no walking: {hit}/{total} seconds right from the first = {share:.3f}"
        " (the seconds of each sit/stand movement are not scored)"
    )
    return share


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=3, help="simulated office days")
    args = parser.parse_args()
    logging.disable(logging.WARNING)  # ActiMotus logs every flip it corrects
    warnings.simplefilter("ignore")
    try:
        import actimotus  # noqa: F401
        import skdh  # noqa: F401

        peers = True
    except ImportError as err:
        print(f"peers not installed ({err}); pip install 'posture-monitor[peers]'")
        peers = False
    sources = {
        f"simulated office days ({args.days} x 8.5 h, trunk + thigh)": simulated(args.days, peers),
        f"{THIGH_SET} (thigh only, re-seated between sessions)": wisdm(peers),
    }
    f1 = {name: table(name, runs) for name, runs in sources.items()}
    sit_to_stand(peers)
    declared = declared_short()
    cpu = {
        m: sum(runs[m].cpu_s for runs in sources.values() if m in runs)
        for m in ("engine", "actimotus")
    }

    def worst(method: str) -> float:
        values = [v for per in f1.values() for v in per.get(method, {}).values()]
        return min(values) if values else float("nan")

    print("\nwhere the engine is behind ActiMotus (F1):")
    behind = [
        f"  {name[:30]} {c}: {per['engine'][c]:.3f} < {per['actimotus'][c]:.3f}"
        for name, per in f1.items()
        if "actimotus" in per
        for c in per["engine"]
        if c in per["actimotus"] and per["engine"][c] < per["actimotus"][c]
    ]
    print("\n".join(behind) if behind else "  nowhere")
    am_s = cpu["actimotus"] if peers else float("nan")
    print(
        f"RESULT engine_min_class_f1={worst('engine'):.3f}"
        f" actimotus_min_class_f1={worst('actimotus'):.3f}"
        f" engine_s={cpu['engine']:.2f} actimotus_s={am_s:.2f}"
        f" engine_declared_thigh_short={declared:.3f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
