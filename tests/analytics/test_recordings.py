"""Trace tests on the real recordings in ../shared/datasets/ (read from there, never copied).

Each recording's engine output (posture runs, events, calibrations) must match the expected
output kept in tests/expected/; after a reviewed change, regenerate them with
`tests/expected/regenerate.py` and review the diff. Accuracy floors per data set catch a change
that makes things worse even if the expected outputs were regenerated carelessly.
"""

from __future__ import annotations

import functools
import json

import numpy as np
import pytest

from analytics.offline import analyze
from analytics.timeline import POSTURES
from posture.testing.datasets import THIGH_SET, TRUNK_SETS, Recording, recordings
from tests.expected.regenerate import expected, path_of

pytestmark = pytest.mark.slow

DATASETS = (*TRUNK_SETS, THIGH_SET)


@functools.cache
def loaded(dataset: str) -> tuple[Recording, ...]:
    return tuple(recordings(dataset))


@pytest.mark.parametrize("dataset", DATASETS)
def test_engine_output_on_every_recording_matches_the_expected(dataset: str) -> None:
    want = json.loads(path_of(dataset).read_text())
    recs = loaded(dataset)
    assert sorted(want) == sorted(r.name for r in recs), "recordings added or gone: regenerate"
    for rec in recs:
        assert expected(rec) == want[rec.name], f"{dataset}/{rec.name} changed"


def _scores(dataset: str) -> dict[str, float]:
    truths, preds = [], []
    for rec in loaded(dataset):
        tl = analyze({rec.placement: rec.trace}).output.timeline
        pred = np.full(rec.truth.size, "unknown", dtype=object)
        rows = (tl.t_s - np.floor(rec.trace.t_s[0])).astype(int)
        keep = (rows >= 0) & (rows < pred.size)
        pred[rows[keep]] = [POSTURES[c].value for c in tl.posture[keep]]
        truths.append(rec.truth)
        preds.append(pred)
    truth, pred = np.concatenate(truths), np.concatenate(preds)
    scored = np.isin(truth, ("sitting", "standing", "walking", "lying"))
    truth, pred = truth[scored], pred[scored]
    sit, said = truth == "sitting", pred == "sitting"
    out = {"sitting_ba": 0.5 * (np.mean(said[sit]) + np.mean(~said[~sit]))}
    for label in ("walking", "lying"):
        if (truth == label).any():
            out[label] = float(np.mean(pred[truth == label] == label))
    return out


# floors a little below what the engine reaches today (bench/accuracy.py has the details);
# forth_trace_torso's 0.965 is what it reaches with the samples at any sub-second phase
# (bench/accuracy.py --shift): the 1.000 of an earlier engine held at phase 0 only
FLOORS = {
    "uci_hapt_waist": {"sitting_ba": 0.95, "walking": 0.98, "lying": 0.93},
    "casale_chest": {"sitting_ba": 0.92, "walking": 0.72},
    "forth_trace_torso": {"sitting_ba": 0.95, "walking": 0.86},
    "wisdm_pocket_thigh": {"sitting_ba": 0.89, "walking": 0.98},
}


@pytest.mark.parametrize("dataset", DATASETS)
def test_accuracy_on_each_data_set_stays_above_its_floor(dataset: str) -> None:
    scores = _scores(dataset)
    for key, floor in FLOORS[dataset].items():
        assert scores[key] >= floor, f"{dataset} {key} {scores[key]:.3f} < {floor}"
