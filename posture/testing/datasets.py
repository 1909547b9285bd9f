"""The labelled recordings in ../shared/datasets/ as the benchmarks and trace tests use them.

Each recording comes with its label per second (the sample nearest the middle of the second).
`wisdm_pocket_thigh` is played as one trace per subject: walking, standing and sitting sessions
one after another, with a gap of `SESSION_GAP_S` between them (the phone was out of the pocket).
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from analytics.records import Placement, Trace

REPO = Path(__file__).resolve().parents[2]
DATASETS = Path(os.environ.get("POSTURE_DATASETS", REPO.parent / "shared" / "datasets"))
TRUNK_SETS = ("uci_hapt_waist", "casale_chest", "forth_trace_torso")
THIGH_SET = "wisdm_pocket_thigh"
SKIP_START_S = {"casale_chest": 60}  # its README: the device lies flat while being put on
SESSION_GAP_S = 60.0
WISDM_SESSIONS = ("A_walking", "E_standing", "D_sitting")


@dataclass(frozen=True, slots=True, eq=False)
class Recording:
    """One recording (or one WISDM subject's sessions) with its labels per second."""

    dataset: str
    name: str
    placement: Placement
    trace: Trace
    truth: NDArray[np.str_]  # label per second from the trace start ("other" is not scored)
    source: NDArray[np.str_]  # the data set's own label per second


def _labels(path: Path, t0: float) -> tuple[NDArray[np.str_], NDArray[np.str_]]:
    with path.open(newline="") as f:
        rows = list(csv.reader(f))[1:]
    t = np.array([float(r[0]) for r in rows]) - t0
    label = np.array([r[4] for r in rows])
    source = np.array([r[5] for r in rows])
    seconds = int(np.floor(t[-1])) + 1
    idx = np.clip(np.searchsorted(t, np.arange(seconds) + 0.5), 0, t.size - 1)
    return label[idx], source[idx]


def recordings(dataset: str) -> list[Recording]:
    """Every recording of one data set, in name order."""
    from sensor_gateway.traces import read_trace

    if not (DATASETS / dataset).is_dir():  # nothing to read must not look like nothing wrong
        raise FileNotFoundError(f"no data set {dataset!r} in {DATASETS} (set POSTURE_DATASETS)")
    if dataset == THIGH_SET:
        return _wisdm_subjects()
    out = []
    for path in sorted((DATASETS / dataset).glob("*.csv")):
        trace, _ = read_trace(path)
        truth, source = _labels(path, float(trace.t_s[0]))
        truth[: SKIP_START_S.get(dataset, 0)] = "other"
        out.append(Recording(dataset, path.stem, Placement.TRUNK, trace, truth, source))
    return out


def _wisdm_subjects() -> list[Recording]:
    from sensor_gateway.traces import read_trace

    folder = DATASETS / THIGH_SET
    subjects = sorted({p.name.split("_")[1] for p in folder.glob("wisdm_*_A_walking.csv")})
    out = []
    for subject in subjects:
        ts, accs, truth, source = [], [], [], []
        offset, seconds, rate = 0.0, 0, 20.0
        for session in WISDM_SESSIONS:
            path = folder / f"wisdm_{subject}_{session}.csv"
            trace, _ = read_trace(path)
            rate = trace.rate_hz
            ts.append(trace.t_s - float(trace.t_s[0]) + offset)
            accs.append(trace.accel_g)
            label, own = _labels(path, float(trace.t_s[0]))
            pad = int(np.floor(offset)) - seconds
            truth += [np.full(pad, "other"), label]
            source += [np.full(pad, "gap"), own]
            seconds += pad + label.size
            offset = float(ts[-1][-1]) + SESSION_GAP_S
        trace = Trace(t_s=np.concatenate(ts), accel_g=np.concatenate(accs), rate_hz=rate)
        out.append(
            Recording(
                THIGH_SET,
                f"subject{subject}",
                Placement.THIGH,
                trace,
                np.concatenate(truth),
                np.concatenate(source),
            )
        )
    return out
