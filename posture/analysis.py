"""Files for `posture analyze`: loading the traces and the busy contexts, writing per-second
epochs and events."""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Mapping
from pathlib import Path

from analytics.contract import encode_event
from analytics.records import Context, Event, Placement, Trace
from analytics.timeline import POSTURES, Timeline
from analytics.wire import ID_PATTERN

EPOCHS_HEADER = "t_s,posture,flexion_deg,lateral_deg,slouch_deg,slouched"
CONTEXT_COLUMNS = ("start_s", "end_s", "kind")
MAX_CONTEXTS = 100_000


class ContextFileError(ValueError):
    """A context file that cannot be used, with the reason and where."""


def read_contexts(path: Path) -> list[Context]:
    """Busy intervals from a CSV file with the columns `start_s,end_s,kind` (seconds on the
    trace's own time axis; `kind` says what it was, e.g. `meeting`; other columns are ignored).
    Raises `ContextFileError` naming the line, or `OSError`."""
    out: list[Context] = []
    with path.open(newline="") as f:
        rows = csv.reader(f)
        header = [h.strip() for h in next(rows, [])]
        missing = [c for c in CONTEXT_COLUMNS if c not in header]
        if missing:
            raise ContextFileError(
                f"{path}: missing column(s) {', '.join(missing)} (needs start_s,end_s,kind)"
            )
        where = [header.index(c) for c in CONTEXT_COLUMNS]
        for line, row in enumerate(rows, start=2):
            if not any(cell.strip() for cell in row):
                continue
            if len(out) >= MAX_CONTEXTS:
                raise ContextFileError(f"{path}: more than {MAX_CONTEXTS} rows")
            out.append(_context(path, line, row, where))
    return out


def _context(path: Path, line: int, row: list[str], where: list[int]) -> Context:
    if len(row) <= max(where):
        raise ContextFileError(f"{path} line {line}: {len(row)} columns, expected {len(where)}+")
    start_text, end_text, kind = (row[i].strip() for i in where)
    try:
        start, end = float(start_text), float(end_text)
    except ValueError:
        raise ContextFileError(
            f"{path} line {line}: start_s and end_s must be numbers, got "
            f"{start_text[:20]!r} and {end_text[:20]!r}"
        ) from None
    if not (math.isfinite(start) and math.isfinite(end)):
        raise ContextFileError(f"{path} line {line}: start_s and end_s must be finite")
    if end <= start:
        raise ContextFileError(f"{path} line {line}: ends ({end:g}) before it starts ({start:g})")
    if not ID_PATTERN.fullmatch(kind):
        raise ContextFileError(
            f"{path} line {line}: kind {kind[:40]!r} must be 1-64 letters, digits, '_', '.' or '-'"
        )
    return Context(start, end, kind)


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
