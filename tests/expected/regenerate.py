"""Regenerate what the repository commits as generated: the expected engine outputs on the real
recordings (tests/analytics/test_recordings.py) and the MQTT contract's JSON Schema
(docs/mqtt-contract.schema.json, from analytics/contract_schema.py).

Run after a reviewed change to the engine or the contract, then look at the diff before
committing it:

    .venv/bin/python tests/expected/regenerate.py [DATASET ...]
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from analytics.arrays import runs
from analytics.contract_schema import contract_schema
from analytics.offline import analyze
from analytics.timeline import POSTURES
from posture.testing.datasets import THIGH_SET, TRUNK_SETS, Recording, recordings

HERE = Path(__file__).resolve().parent


def expected(rec: Recording) -> dict[str, Any]:
    """What the engine makes of one recording: posture runs, counts and calibrations."""
    out = analyze({rec.placement: rec.trace}).output
    tl = out.timeline
    starts, lengths, codes = runs(tl.posture)
    return {
        "runs": [  # "start_s seconds posture"
            f"{tl.t_s[s]:.0f} {n} {POSTURES[c].value}"
            for s, n, c in zip(starts.tolist(), lengths.tolist(), codes.tolist(), strict=True)
        ],
        "events": dict(sorted(Counter(e.kind.value for e in out.events).items())),
        "calibrations": [
            str(e.values["source"]) for e in out.events if e.kind.value == "calibration"
        ],
        "flexion_median_deg": _median(tl.flexion_deg),
        "steps": int(tl.steps.sum()),
    }


def _median(values: np.ndarray) -> float | None:
    known = values[np.isfinite(values)]
    return round(float(np.median(known)), 2) if known.size else None


SCHEMA = HERE.parents[1] / "docs" / "mqtt-contract.schema.json"


def schema_text() -> str:
    """The contract's JSON Schema as the repository commits it."""
    return json.dumps(contract_schema(), indent=2, sort_keys=True) + "\n"


def path_of(dataset: str) -> Path:
    return HERE / f"{dataset}.json"


def main(names: list[str]) -> None:
    SCHEMA.write_text(schema_text())
    print(f"wrote {SCHEMA}")
    for dataset in names or [*TRUNK_SETS, THIGH_SET]:
        data = {rec.name: expected(rec) for rec in recordings(dataset)}
        path_of(dataset).write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
        print(f"wrote {path_of(dataset)} ({len(data)} recordings)")


if __name__ == "__main__":
    main(sys.argv[1:])
