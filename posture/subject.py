"""A data subject's rights: a copy of everything held about one wearer, and its erasure.

What is held about a wearer, and where (docs/privacy.md):

- InfluxDB: every point tagged `wearer` (measurements `minute`, `event` with nudges and
  calibrations among the events, `device`): `dashboards.erasure`;
- the gateway's `state_dir`: the wearer's calibrations (`sensor_gateway.calibrations`) and
  adaptive nudge timing (`sensor_gateway.nudge_timing`);
- recorded traces in `[privacy] trace_dirs`: files named `<wearer>.*`, `<wearer>_*` or
  `<wearer>-*`, and everything under a directory named `<wearer>`.

An erasure removes all three, then looks again and says what remains (it must be nothing). Its
audit line holds the time, a random receipt number and the counts, never the wearer's id.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from analytics.wire import check_id
from dashboards import erasure
from dashboards.influx import InfluxClient
from sensor_gateway import calibrations, nudge_timing


class ErasureIncomplete(Exception):
    """Something was still held about the wearer after the erasure."""


@dataclass(frozen=True, slots=True)
class Holdings:
    """What is held about one wearer."""

    influx_points: dict[str, int] = field(default_factory=dict)  # by measurement
    calibrations: bool = False
    nudge_timing: bool = False
    traces: tuple[Path, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.influx_points or self.calibrations or self.nudge_timing or self.traces)

    def describe(self) -> str:
        points = sum(self.influx_points.values())
        where = ", ".join(f"{m} {n:,}" for m, n in sorted(self.influx_points.items()))
        return (
            f"InfluxDB: {points:,} points{f' ({where})' if where else ''}; "
            f"calibrations: {'yes' if self.calibrations else 'none'}; "
            f"nudge timing: {'yes' if self.nudge_timing else 'none'}; "
            f"recorded traces: {len(self.traces)} file(s)"
        )


def trace_files(trace_dirs: Sequence[Path], wearer_id: str) -> tuple[Path, ...]:
    """The wearer's recorded traces in `trace_dirs` (see the module's docstring)."""
    check_id(wearer_id, what="wearer id")
    named = re.compile(rf"{re.escape(wearer_id)}([._-].*)?")
    found: set[Path] = set()
    for folder in trace_dirs:
        if not folder.is_dir():
            continue
        for path in folder.rglob("*"):
            if not path.is_file():
                continue
            parts = path.relative_to(folder).parts
            if named.fullmatch(path.name) or wearer_id in parts[:-1]:
                found.add(path)
    return tuple(sorted(found))


def holdings(
    influx: InfluxClient, wearer_id: str, *, state_dir: Path | None, trace_dirs: Sequence[Path]
) -> Holdings:
    return Holdings(
        influx_points=erasure.held(influx, wearer_id),
        calibrations=state_dir is not None and calibrations.held(state_dir, wearer_id) is not None,
        nudge_timing=state_dir is not None and nudge_timing.held(state_dir, wearer_id) is not None,
        traces=trace_files(trace_dirs, wearer_id),
    )


def erase(
    influx: InfluxClient, wearer_id: str, *, state_dir: Path | None, trace_dirs: Sequence[Path]
) -> tuple[Holdings, Holdings]:
    """Remove everything held about the wearer; returns what was held before, and after.

    Raises `ErasureIncomplete` if anything is still held afterwards.
    """
    before = holdings(influx, wearer_id, state_dir=state_dir, trace_dirs=trace_dirs)
    erasure.erase(influx, wearer_id)
    if state_dir is not None:
        calibrations.forget(state_dir, wearer_id)
        nudge_timing.forget(state_dir, wearer_id)
    for path in before.traces:
        path.unlink(missing_ok=True)
    for folder in trace_dirs:  # directories named after the wearer, now empty
        for sub in sorted(folder.rglob(wearer_id), reverse=True) if folder.is_dir() else []:
            if sub.is_dir() and not any(sub.rglob("*")):
                sub.rmdir()
    after = holdings(influx, wearer_id, state_dir=state_dir, trace_dirs=trace_dirs)
    if not after.empty:
        raise ErasureIncomplete(f"still held after the erasure: {after.describe()}")
    return before, after


def audit_line(removed: Holdings, *, receipt: str, now_s: float) -> str:
    """One JSON line for the audit log: what was removed, never whose it was."""
    return json.dumps(
        {
            "time": datetime.fromtimestamp(now_s, UTC).isoformat(timespec="seconds"),
            "action": "erase",
            "receipt": receipt,
            "influx_points": sum(removed.influx_points.values()),
            "calibrations": int(removed.calibrations),
            "nudge_timing": int(removed.nudge_timing),
            "trace_files": len(removed.traces),
            "verified": True,
        }
    )


def write_audit(log: Path, removed: Holdings, *, now_s: float) -> str:
    """Append the audit line; returns the receipt number (for the data subject)."""
    receipt = uuid.uuid4().hex[:12]
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("a") as f:
        f.write(audit_line(removed, receipt=receipt, now_s=now_s) + "\n")
    return receipt


def export(
    influx: InfluxClient,
    wearer_id: str,
    out: Path,
    *,
    state_dir: Path | None,
    trace_dirs: Sequence[Path],
    zone: ZoneInfo,
    prolonged_s: float,
    interruption_max_s: float,
    now_s: float,
) -> list[Path]:
    """Gather a copy of everything held about the wearer into `out`; returns the files."""
    from dashboards import report
    from dashboards.readback import wearer_records
    from posture.export import WearerData, write_export

    check_id(wearer_id, what="wearer id")
    events, minutes = wearer_records(influx, wearer_id)
    data = [WearerData(wearer_id, events, minutes)]
    written = write_export(
        data,
        out / "exports",
        zone=zone,
        fmt="csv",
        now_s=now_s,
        interruption_max_s=interruption_max_s,
    )
    written += write_export(data, out / "exports", zone=zone, fmt="activpal", now_s=now_s)
    written += write_export(
        data,
        out / "fhir",
        zone=zone,
        fmt="fhir",
        now_s=now_s,
        interruption_max_s=interruption_max_s,
    )
    days = sorted({datetime.fromtimestamp(m.start_s, UTC).astimezone(zone).date() for m in minutes})
    for day in days:
        page = report.from_influx(influx, wearer_id, day, tz=zone, prolonged_s=prolonged_s)
        path = out / "reports" / f"{day.isoformat()}.html"
        path.parent.mkdir(parents=True, exist_ok=True)
        report.write(page, path)
        written.append(path)
    written.append(_device_reports(influx, wearer_id, out / "device_reports.csv"))
    if state_dir is not None:
        for name, held in (
            (calibrations.FILE_NAME, calibrations.held(state_dir, wearer_id)),
            (nudge_timing.FILE_NAME, nudge_timing.held(state_dir, wearer_id)),
        ):
            if held is not None:
                path = out / name
                path.write_text(json.dumps({wearer_id: held}, indent=1))
                written.append(path)
    for trace in trace_files(trace_dirs, wearer_id):
        path = out / "traces" / trace.name
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(trace, path)
        written.append(path)
    return written


def _device_reports(influx: InfluxClient, wearer_id: str, path: Path) -> Path:
    rows = influx.query(f'SELECT * FROM "device" WHERE "wearer" = \'{wearer_id}\'')  # noqa: S608
    names = sorted({k for r in rows for k in r if k != "_measurement"} - {"time"})
    with path.open("w", newline="") as f:
        out = csv.writer(f, lineterminator="\n")
        out.writerow(["time_unix_s", *names])
        out.writerows([r["time"], *(r.get(n, "") for n in names)] for r in rows)
    return path
