"""Research exports of a wearer's data: tables with units in their column names, written as
CSV (a header on every file) or Parquet, and an activPAL-style events file.

Every table has a `wearer` column, so that one file can hold a whole team. Times are given
twice: unix seconds (`*_unix_s`) and local ISO 8601 with the UTC offset (`*_local`, in the
export's time zone). docs/export.md describes every column.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Final
from zoneinfo import ZoneInfo

from analytics import outcomes
from analytics.contract import VALUE_TYPES
from analytics.records import Event, MinuteMetrics, Posture
from analytics.summary import summarise
from analytics.timeline import POSTURES, Timeline
from analytics.wire import check_id

if TYPE_CHECKING:
    from dashboards.influx import InfluxClient

Cell = float | int | str | bool | None
TABLES: Final = ("seconds", "minutes", "events", "bouts", "bout_counts", "days")
FORMATS: Final = ("csv", "parquet", "activpal", "fhir")
# activPAL's event codes: 0 sedentary, 1 standing, 2 stepping, 3.1 primary lying, 4 non-wear
ACTIVPAL_CODES: Final = {
    Posture.SITTING: "0",
    Posture.STANDING: "1",
    Posture.WALKING: "2",
    Posture.LYING: "3.1",
    Posture.NOT_WORN: "4",
    Posture.UNKNOWN: "4",
}
_EVENT_VALUES: Final = tuple(k for k in VALUE_TYPES if k != "duration_s")  # that one: end - start
_EXCEL_EPOCH: Final = datetime(1899, 12, 30)  # day 0 of Excel's (and activPAL's) day numbers


@dataclass(frozen=True, slots=True)
class Table:
    """Named columns of equal length; None is an empty cell."""

    name: str
    columns: dict[str, list[Cell]]

    def __len__(self) -> int:
        return len(next(iter(self.columns.values()), []))

    def rows(self) -> Iterable[tuple[Cell, ...]]:
        return zip(*self.columns.values(), strict=True)


@dataclass(frozen=True, slots=True)
class WearerData:
    """What is held about one wearer for a period: the pipeline's records, and the per-second
    timeline when the data came from a trace (InfluxDB holds no per-second flexion)."""

    wearer_id: str
    events: Sequence[Event]
    minutes: Sequence[MinuteMetrics]
    timeline: Timeline | None = None


def local(t_s: float, zone: ZoneInfo) -> str:
    """ISO 8601 local time with the UTC offset, to the millisecond when not whole seconds."""
    moment = datetime.fromtimestamp(t_s, UTC).astimezone(zone)
    spec = "seconds" if moment.microsecond == 0 else "milliseconds"
    return moment.isoformat(timespec=spec)


def _round(value: float | None, digits: int = 3) -> float | None:
    return None if value is None or math.isnan(value) else round(value, digits)


def _times(prefix: str, values: Sequence[float], zone: ZoneInfo) -> dict[str, list[Cell]]:
    return {
        f"{prefix}_unix_s": [_round(t) for t in values],
        f"{prefix}_local": [local(t, zone) for t in values],
    }


def seconds_table(data: Sequence[WearerData], zone: ZoneInfo) -> Table:
    cols: dict[str, list[Cell]] = {"wearer": [], "time_unix_s": [], "time_local": []}
    cols |= {"posture": [], "slouched": [], "flexion_deg": []}
    for w in data:
        s = outcomes.seconds(w.events)
        flexion: list[Cell] = [None] * s.t_s.size
        if w.timeline is not None:  # the trace's own per-second flexion
            tl = w.timeline
            known = dict(zip(tl.t_s.tolist(), tl.flexion_deg.tolist(), strict=True))
            flexion = [_round(known.get(t), 2) for t in s.t_s.tolist()]
        cols["wearer"] += [w.wearer_id] * s.t_s.size
        for key, value in _times("time", s.t_s.tolist(), zone).items():
            cols[key] += value
        cols["posture"] += [POSTURES[c].value for c in s.posture.tolist()]
        cols["slouched"] += s.slouched.tolist()
        cols["flexion_deg"] += flexion
    return Table("seconds", cols)


def minutes_table(data: Sequence[WearerData], zone: ZoneInfo) -> Table:
    names = ["wearer", "start_unix_s", "start_local", *(f"{p.value}_s" for p in Posture)]
    names += ["slouch_s", "flexion_mean_deg", "flexion_max_deg"]
    names += ["trunk_0_20_deg_s", "trunk_20_60_deg_s", "trunk_over_60_deg_s", "enmo_mg", "steps"]
    cols: dict[str, list[Cell]] = {n: [] for n in names}
    for w in data:
        for m in sorted(w.minutes, key=lambda m: m.start_s):
            row: list[Cell] = [w.wearer_id, _round(m.start_s), local(m.start_s, zone)]
            row += [int(m.posture_s.get(p, 0)) for p in Posture]
            row += [m.slouch_s, _round(m.flexion_mean_deg, 2), _round(m.flexion_max_deg, 2)]
            row += [*m.band_s, _round(m.enmo_mg, 2), m.steps]
            for name, value in zip(names, row, strict=True):
                cols[name].append(value)
    return Table("minutes", cols)


def events_table(data: Sequence[WearerData], zone: ZoneInfo) -> Table:
    cols: dict[str, list[Cell]] = {"wearer": [], "kind": [], "event_id": []}
    cols |= {k: [] for k in ("start_unix_s", "start_local", "end_unix_s", "end_local")}
    cols |= {"duration_s": [], **{name: [] for name in _EVENT_VALUES}}
    for w in data:
        for e in sorted(w.events, key=lambda e: (e.start_s, e.kind.value, e.event_id)):
            cols["wearer"].append(w.wearer_id)
            cols["kind"].append(e.kind.value)
            cols["event_id"].append(e.event_id)
            times = _times("start", [e.start_s], zone) | _times("end", [e.end_s], zone)
            for key, value in times.items():
                cols[key] += value
            cols["duration_s"].append(_round(e.duration_s))
            for name in _EVENT_VALUES:
                got = e.values.get(name)
                cols[name].append(_round(got) if isinstance(got, float) else got)
    return Table("events", cols)


def bouts_table(data: Sequence[WearerData], zone: ZoneInfo, *, interruption_max_s: float) -> Table:
    names = ["wearer", "posture", "start_unix_s", "start_local", "end_unix_s", "end_local"]
    names += ["duration_s", "posture_s", "interruptions", "since_previous_s", "steps"]
    cols: dict[str, list[Cell]] = {n: [] for n in names}
    for w in data:
        for b in outcomes.bouts(w.events, interruption_max_s=interruption_max_s):
            row: list[Cell] = [w.wearer_id, b.posture.value, _round(b.start_s)]
            row += [local(b.start_s, zone), _round(b.end_s), local(b.end_s, zone)]
            row += [_round(b.duration_s), _round(b.posture_s), b.interruptions]
            row += [_round(b.since_previous_s), b.steps]
            for name, value in zip(names, row, strict=True):
                cols[name].append(value)
    return Table("bouts", cols)


def wearer_days(
    data: Sequence[WearerData], zone: ZoneInfo, *, interruption_max_s: float
) -> list[tuple[str, outcomes.Day]]:
    return [
        (w.wearer_id, d)
        for w in data
        for d in outcomes.days(
            w.events, w.minutes, timezone=zone.key, interruption_max_s=interruption_max_s
        )
    ]


def bout_counts_table(days: Sequence[tuple[str, outcomes.Day]], zone: ZoneInfo) -> Table:
    names = ["wearer", "date", "timezone", "posture"]
    names += [f"bouts_{m}_min_or_more" for m in outcomes.BOUT_MINUTES]
    cols: dict[str, list[Cell]] = {n: [] for n in names}
    for wearer, d in days:
        for posture, counts in d.bout_counts.items():
            row: list[Cell] = [wearer, d.day.isoformat(), zone.key, posture.value]
            row += [counts[m] for m in outcomes.BOUT_MINUTES]
            for name, value in zip(names, row, strict=True):
                cols[name].append(value)
    return Table("bout_counts", cols)


def day_row(wearer: str, d: outcomes.Day, zone: ZoneInfo) -> dict[str, Cell]:
    """The daily summary's columns for one wearer and day (docs/export.md)."""
    s = d.summary

    def minutes(seconds: float) -> float:
        return round(seconds / 60.0, 3)

    row: dict[str, Cell] = {"wearer": wearer, "date": d.day.isoformat(), "timezone": zone.key}
    row["day_min"] = minutes(d.length_s)
    for p in Posture:
        row[f"{p.value}_min"] = minutes(s.posture_s.get(p, 0))
    row["no_data_min"] = minutes(d.no_data_s)
    row["valid_wear_min"] = minutes(s.valid_wear_s)
    row["valid_day"] = s.valid_day()
    row["sitting_bouts"] = s.sitting_bouts
    row["longest_sitting_bout_min"] = minutes(s.longest_bout_s)
    row["prolonged_sitting_bouts"] = s.prolonged_bouts
    for m in outcomes.LONG_SITTING_MINUTES:
        row[f"sitting_in_bouts_{m}_min_or_more_min"] = minutes(d.long_sitting_s[m])
        row[f"sitting_bouts_{m}_min_or_more"] = d.long_sitting_bouts[m]
    row["breaks"] = s.breaks
    row["breaks_per_sitting_hour"] = round(s.breaks_per_sitting_hour, 3)
    row["sit_to_stand"] = d.sit_to_stand
    row["steps"] = s.steps
    row["slouch_min"] = minutes(s.slouch_s)
    row["slouch_share_of_sitting"] = round(s.slouch_fraction, 4)
    for name, seconds in zip(("0_20", "20_60", "over_60"), s.band_s, strict=True):
        row[f"trunk_{name}_deg_min"] = minutes(seconds)
    row["nudges"] = s.nudges
    row["nudges_responded"] = s.nudges_responded
    return row


def days_table(days: Sequence[tuple[str, outcomes.Day]], zone: ZoneInfo) -> Table:
    rows = [day_row(wearer, d, zone) for wearer, d in days]
    names = list(rows[0] if rows else day_row("", _NO_DAY, zone))  # the header even when empty
    return Table("days", {n: [r[n] for r in rows] for n in names})


_NO_DAY = outcomes.Day(
    date(1970, 1, 1),
    0,
    summarise([], []),
    0,
    0,
    dict.fromkeys(outcomes.LONG_SITTING_MINUTES, 0.0),
    dict.fromkeys(outcomes.LONG_SITTING_MINUTES, 0),
)


def tables(
    data: Sequence[WearerData],
    zone: ZoneInfo,
    *,
    interruption_max_s: float,
    names: Iterable[str] = TABLES,
) -> list[Table]:
    """The research tables named in `names` (all of `TABLES` by default)."""
    days = wearer_days(data, zone, interruption_max_s=interruption_max_s)
    build = {
        "seconds": lambda: seconds_table(data, zone),
        "minutes": lambda: minutes_table(data, zone),
        "events": lambda: events_table(data, zone),
        "bouts": lambda: bouts_table(data, zone, interruption_max_s=interruption_max_s),
        "bout_counts": lambda: bout_counts_table(days, zone),
        "days": lambda: days_table(days, zone),
    }
    return [build[name]() for name in names]


def cell_text(value: Cell) -> str:
    """How a value is written in a CSV cell (empty for None; true and false)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.6f}".rstrip("0").rstrip(".") if value != int(value) else f"{value:.0f}"
    return str(value)


def write_table(table: Table, path: Path, fmt: str) -> None:
    """Write `table` as CSV (header first) or Parquet (pyarrow, the `research` extra)."""
    if fmt == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(pa.table(table.columns), path, compression="zstd")
        return
    with path.open("w", newline="") as f:
        out = csv.writer(f, lineterminator="\n")
        out.writerow(table.columns)
        out.writerows([cell_text(v) for v in row] for row in table.rows())


def activpal_rows(data: WearerData, zone: ZoneInfo) -> list[list[str]]:
    """activPAL's event file layout: one row per posture bout, times as Excel day numbers of
    local time (activPAL's own clock is local time).

    `DataCount` counts tenths of a second from the first event (activPAL's 10 Hz epochs);
    walking bouts are one event each (activPAL splits stepping into strides).
    """
    header = [
        "Time",
        "DataCount (samples)",
        "Interval (s)",
        "ActivityCode (0=sedentary 1= standing 2=stepping 3.1=lying 4=non-wear)",
        "CumulativeStepCount",
    ]
    runs = sorted(
        (e for e in data.events if e.kind.value == "posture_bout"), key=lambda e: e.start_s
    )
    rows = [header]
    steps = 0
    first = runs[0].start_s if runs else 0.0
    for e in runs:
        steps += int(e.values.get("steps", 0))
        code = ACTIVPAL_CODES[Posture(str(e.values["posture"]))]
        wall = datetime.fromtimestamp(e.start_s, UTC).astimezone(zone).replace(tzinfo=None)
        excel_day = (wall - _EXCEL_EPOCH).total_seconds() / 86_400.0
        count = round((e.start_s - first) * 10)
        rows.append([f"{excel_day:.10f}", str(count), f"{e.duration_s:g}", code, str(steps)])
    return rows


def write_activpal(data: WearerData, zone: ZoneInfo, path: Path) -> None:
    with path.open("w", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(activpal_rows(data, zone))


# -- where the data come from, and where they go --------------------------------------------------


def from_influx(
    influx: InfluxClient, wearer_ids: Sequence[str], start_s: float, end_s: float
) -> list[WearerData]:
    """The wearers' events and minutes in [start_s, end_s) from InfluxDB."""
    from dashboards.readback import wearer_records

    out = []
    for wearer in wearer_ids:
        events, minutes = wearer_records(influx, wearer, start_s=start_s, end_s=end_s)
        out.append(WearerData(wearer, events, minutes))
    return out


def team_wearers(influx: InfluxClient, team: str) -> list[str]:
    """Every wearer with minutes in the database under `team`."""
    check_id(team, what="team")
    rows = influx.query(
        f'SHOW TAG VALUES FROM "minute" WITH KEY = "wearer" WHERE "team" = \'{team}\''
    )
    return sorted(str(r["value"]) for r in rows)


def write_export(
    data: Sequence[WearerData],
    out: Path,
    *,
    zone: ZoneInfo,
    fmt: str,
    names: Sequence[str] = TABLES,
    interruption_max_s: float = 20.0,
    now_s: float,
) -> list[Path]:
    """Write the export into the directory `out`; returns the files written."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    if fmt == "activpal":
        for w in data:
            path = out / f"{w.wearer_id}-activpal-events.csv"
            write_activpal(w, zone, path)
            written.append(path)
        return written
    if fmt == "fhir":
        from dashboards.fhir import bundle

        for w in data:
            days = [d for _, d in wearer_days([w], zone, interruption_max_s=interruption_max_s)]
            path = out / f"{w.wearer_id}-fhir-bundle.json"
            path.write_text(json.dumps(bundle(w.wearer_id, days, zone, now_s=now_s), indent=1))
            written.append(path)
        return written
    suffix = ".parquet" if fmt == "parquet" else ".csv"
    for table in tables(data, zone, interruption_max_s=interruption_max_s, names=names):
        path = out / f"{table.name}{suffix}"
        write_table(table, path, fmt)
        written.append(path)
    return written
