"""Per-wearer JSON files in the gateway's `state_dir` (calibrations, nudge timing): read,
written atomically (a crash never leaves half a file), one wearer's entry looked up or removed
with everyone else's kept as it was."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


def read(path: Path) -> dict[str, Any]:
    """The wearer -> entry object of a state file (empty if there is none). Raises `OSError`,
    or `ValueError` for a file that is not such an object."""
    if not path.exists():
        return {}
    raw = json.loads(path.read_text())
    if not isinstance(raw, dict):
        raise ValueError(f"{path} is not a JSON object of wearers")
    return raw


def write(path: Path, data: dict[str, Any]) -> None:
    """Replace the file with `data` atomically; raises `OSError`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("w") as f:
        f.write(json.dumps(data, indent=1))
        f.flush()
        os.fsync(f.fileno())
    tmp.replace(path)


def held(path: Path, wearer_id: str) -> dict[str, Any] | None:
    """The wearer's entry as stored (None if there is none); raises as `read`."""
    entry = read(path).get(wearer_id)
    return entry if isinstance(entry, dict) else None


def forget(path: Path, wearer_id: str) -> bool:
    """Remove the wearer's entry, keeping everyone else's; returns whether there was one.
    Raises `OSError` or `ValueError` for a file that cannot be read: an erasure must not pass
    over it silently."""
    data = read(path)
    if wearer_id not in data:
        return False
    del data[wearer_id]
    write(path, data)
    return True
