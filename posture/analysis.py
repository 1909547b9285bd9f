"""Files for `posture analyze`: loading the traces, writing per-second epochs and events."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from pathlib import Path

from analytics.contract import encode_event
from analytics.records import Event, Placement, Trace
from analytics.timeline import POSTURES, Timeline

EPOCHS_HEADER = "t_s,posture,flexion_deg,lateral_deg,slouch_deg,slouched"


def load_traces(paths: Mapping[Placement, Path]) -> tuple[dict[Placement, Trace] | str, list[str]]:
    """The traces, or a one-line error; and notes on what was repaired."""
    from sensor_gateway.traces import TraceError, read_trace

    traces: dict[Placement, Trace] = {}
    notes: list[str] = []
    for placement, path in paths.items():
        try:
            traces[placement], more = read_trace(path)
        except TraceError as err:
            return str(err), notes
        except OSError as err:
            return f"{path}: {err.strerror}", notes
        notes += [f"{path.name}: {n}" for n in more]
    return traces, notes


def epoch_rows(timeline: Timeline) -> Iterable[str]:
    """Rows of EPOCHS_HEADER: seconds on the trace's own axis, angles empty where unknown."""
    for t, code, flexion, lateral, slouch, slouched in zip(
        timeline.t_s.tolist(),
        timeline.posture.tolist(),
        timeline.flexion_deg.tolist(),
        timeline.lateral_deg.tolist(),
        timeline.slouch_deg.tolist(),
        timeline.slouched.tolist(),
        strict=True,
    ):
        angles = ",".join("" if math.isnan(a) else f"{a:.2f}" for a in (flexion, lateral, slouch))
        yield f"{t:.0f},{POSTURES[code].value},{angles},{int(slouched)}"


def write_epochs(path: Path, timeline: Timeline) -> None:
    with path.open("w") as f:
        f.write(EPOCHS_HEADER + "\n")
        for row in epoch_rows(timeline):
            f.write(row + "\n")


def write_events(path: Path, events: Iterable[Event]) -> None:
    with path.open("w") as f:
        for event in events:
            f.write(encode_event(event).decode() + "\n")
