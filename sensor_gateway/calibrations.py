"""Wearers' sensor calibrations kept across gateway restarts (`[gateway] state_dir`).

A JSON file maps wearer -> placement -> the upright (and forward) direction in the sensor frame.
A file that cannot be read is reported and ignored: the engine learns again from walking.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from analytics.orientation import Calibration
from analytics.records import Placement

from . import state_files

log = logging.getLogger(__name__)

FILE_NAME = "calibrations.json"
Calibrations = dict[str, dict[Placement, Calibration]]


def _vector(value: Any) -> np.ndarray:
    v = np.asarray(value, dtype=np.float64)
    if v.shape != (3,) or not np.isfinite(v).all() or not 0.5 < np.linalg.norm(v) < 1.5:
        raise ValueError(f"not a unit vector: {value!r}")
    return v / np.linalg.norm(v)


def load(state_dir: Path) -> Calibrations:
    """The calibrations saved in `state_dir` (empty if none, or if the file is unusable)."""
    path = state_dir / FILE_NAME
    if not path.exists():
        return {}
    try:
        raw = json.loads(path.read_text())
        out: Calibrations = {}
        for wearer, sensors in raw.items():
            for placement, c in sensors.items():
                forward = c.get("forward")
                out.setdefault(str(wearer), {})[Placement(placement)] = Calibration(
                    t_s=float(c["t_s"]),
                    up=_vector(c["up"]),
                    source="restored",
                    placement=Placement(placement),
                    forward=None if forward is None else _vector(forward),
                )
    except (OSError, ValueError, TypeError, KeyError, AttributeError) as err:
        log.warning("ignoring unusable calibrations file=%s: %s", path, err)
        return {}
    return out


def save(state_dir: Path, calibrations: Mapping[str, Mapping[Placement, Calibration]]) -> None:
    """Write the calibrations atomically (a crash never leaves half a file)."""
    data = {
        wearer: {
            p.value: {
                "t_s": c.t_s,
                "up": [round(float(x), 6) for x in c.up],
                "forward": None if c.forward is None else [round(float(x), 6) for x in c.forward],
            }
            for p, c in sensors.items()
        }
        for wearer, sensors in calibrations.items()
        if sensors
    }
    state_files.write(state_dir / FILE_NAME, data)


def held(state_dir: Path, wearer_id: str) -> dict[str, Any] | None:
    """The wearer's saved calibrations as stored (None if there are none)."""
    return state_files.held(state_dir / FILE_NAME, wearer_id)


def forget(state_dir: Path, wearer_id: str) -> bool:
    """Remove the wearer's calibrations, keeping everyone else's as they were (atomically).

    Returns whether there were any. Raises `OSError` or `ValueError` for a file that cannot
    be read or is not a calibrations file: an erasure must not pass over it silently.
    """
    return state_files.forget(state_dir / FILE_NAME, wearer_id)
