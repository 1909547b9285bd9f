"""Wearers' adaptive nudge timing kept across gateway restarts (`[gateway] state_dir`).

A JSON file maps wearer -> what their Thompson-sampling bandit learned (analytics/bandit.py,
`WearerMonitor.nudge_state()`). A file that cannot be read is reported and ignored, and so is a
wearer's entry that is not an object: that timing is learned anew. The engine checks each
state when it takes it (`EdgeService`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from . import state_files

log = logging.getLogger(__name__)

FILE_NAME = "nudge_timing.json"


def load(state_dir: Path) -> dict[str, dict[str, Any]]:
    """The nudge timing saved in `state_dir`, per wearer (empty if none or unusable)."""
    path = state_dir / FILE_NAME
    try:
        raw = state_files.read(path)
    except (OSError, ValueError) as err:
        log.warning("ignoring unusable nudge timing file=%s: %s", path, err)
        return {}
    out = {}
    for wearer, state in raw.items():
        if isinstance(state, dict):
            out[str(wearer)] = state
        else:
            log.warning("ignoring the nudge timing of wearer=%s in file=%s", wearer, path)
    return out


def save(state_dir: Path, states: Mapping[str, Mapping[str, Any] | None]) -> None:
    """Write the wearers' nudge timing atomically (None: not adaptive, not written)."""
    data = {w: dict(s) for w, s in states.items() if s is not None}
    state_files.write(state_dir / FILE_NAME, data)


def held(state_dir: Path, wearer_id: str) -> dict[str, Any] | None:
    """The wearer's saved nudge timing as stored (None if there is none)."""
    return state_files.held(state_dir / FILE_NAME, wearer_id)


def forget(state_dir: Path, wearer_id: str) -> bool:
    """Remove the wearer's nudge timing, keeping everyone else's; see `state_files.forget`."""
    return state_files.forget(state_dir / FILE_NAME, wearer_id)
