"""Research exports: bouts, daily outcomes, tables, activPAL and FHIR, from records and traces."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from typer.testing import CliRunner

from analytics import outcomes
from analytics.offline import analyze
from analytics.records import Event, EventKind, MinuteMetrics, Placement, Posture
from analytics.timeline import POSTURES
from dashboards import fhir
from posture import export
from posture.cli import app
from sensor_gateway.traces import read_trace
from tests.conftest import dataset_files

BERLIN = ZoneInfo("Europe/Berlin")
T0 = 1_789_974_000.0  # 2026-09-21 09:00 in Berlin


def _runs(*spec: tuple[Posture, float], start: float = T0, steps: int = 0) -> list[Event]:
    """Contiguous posture bouts of the given postures and durations."""
    out, t = [], start
    for posture, seconds in spec:
        values: dict[str, Any] = {"posture": posture.value, "duration_s": seconds}
        if posture is Posture.WALKING:
            values["steps"] = steps
        out.append(Event("w1", EventKind.POSTURE_BOUT, t, t + seconds, values))
        t += seconds
    return out


S, U, W, L, N = Posture.SITTING, Posture.STANDING, Posture.WALKING, Posture.LYING, Posture.NOT_WORN


def test_short_interruptions_do_not_end_a_bout_and_long_ones_do() -> None:
    events = _runs((S, 600), (U, 15), (S, 600), (W, 25), (S, 300), steps=40)
    sitting = [b for b in outcomes.bouts(events) if b.posture is S]
    assert [(b.start_s - T0, b.duration_s, b.posture_s, b.interruptions) for b in sitting] == [
        (0, 1215, 1200, 1),
        (1240, 300, 300, 0),
    ]
    assert sitting[1].since_previous_s == 25
    assert sitting[0].since_previous_s is None
    walking = [b for b in outcomes.bouts(events) if b.posture is W]
    assert [(b.duration_s, b.steps) for b in walking] == [(25, 40)]


def test_not_worn_time_and_gaps_end_a_bout_however_short() -> None:
    events = _runs((S, 600), (N, 5), (S, 600))
    events += _runs((S, 600), start=T0 + 1205 + 3)  # a 3 s gap in the data
    assert [b.duration_s for b in outcomes.bouts(events) if b.posture is S] == [600, 600, 600]


def test_the_interruption_limit_is_configurable() -> None:
    events = _runs((S, 600), (U, 30), (S, 600))
    assert len([b for b in outcomes.bouts(events) if b.posture is S]) == 2
    merged = outcomes.bouts(events, interruption_max_s=30)
    assert [b.duration_s for b in merged if b.posture is S] == [1230]


def test_bout_counts_and_sit_to_stand() -> None:
    events = _runs((S, 30 * 60), (U, 60), (S, 5 * 60), (W, 120), (S, 90), (L, 600))
    counts = outcomes.bout_counts(outcomes.bouts(events))
    assert counts[S] == {1: 3, 2: 2, 3: 2, 4: 2, 5: 2, 10: 1, 30: 1, 60: 0}
    assert counts[L][10] == 1
    assert outcomes.sit_to_stand(events) == 2  # sitting -> lying is not one


def test_seconds_from_events_are_the_engines_seconds() -> None:
    trace, _ = read_trace(dataset_files("uci_hapt_waist")[0])
    out = analyze({Placement.TRUNK: trace}).output
    s = outcomes.seconds(out.events)
    tl = out.timeline
    np.testing.assert_array_equal(s.t_s, tl.t_s)
    np.testing.assert_array_equal(s.posture, tl.posture)
    np.testing.assert_array_equal(s.slouched, tl.slouched)


def _day_minutes(start: float, n: int, posture: Posture) -> list[MinuteMetrics]:
    return [
        MinuteMetrics("w1", start + 60 * i, {posture: 60}, 0, None, None, (60, 0, 0), 1.0)
        for i in range(n)
    ]


@pytest.mark.parametrize(
    ("day", "length_min"),
    [("2026-09-21", 1440), ("2026-10-25", 1500), ("2026-03-29", 1380)],
    ids=["ordinary", "clocks-back", "clocks-forward"],
)
def test_a_day_adds_up_to_its_length_with_no_data_shown(day: str, length_min: int) -> None:
    from datetime import date

    start, _end = outcomes.day_bounds(date.fromisoformat(day), BERLIN)
    minutes = _day_minutes(start + 3600, 120, S) + _day_minutes(start + 4 * 3600, 30, N)
    (d,) = outcomes.days([], minutes, timezone="Europe/Berlin")
    row = export.day_row("w1", d, BERLIN)
    parts = [f"{p.value}_min" for p in Posture] + ["no_data_min"]
    assert row["day_min"] == length_min
    assert sum(row[p] for p in parts) == pytest.approx(length_min)  # type: ignore[misc]
    assert row["sitting_min"] == 120
    assert row["not_worn_min"] == 30
    assert row["no_data_min"] == length_min - 150


@pytest.fixture(scope="module")
def hapt() -> export.WearerData:
    trace, _ = read_trace(dataset_files("uci_hapt_waist")[3])
    out = analyze({Placement.TRUNK: trace.shifted(T0)}, wearer_id="w1").output
    return export.WearerData("w1", out.events, out.minutes, out.timeline)


def test_the_daily_summary_is_posture_analyzes(hapt: export.WearerData) -> None:
    from analytics.summary import summarise

    summary = summarise(hapt.events, hapt.minutes)
    (table,) = export.tables([hapt], BERLIN, interruption_max_s=20.0, names=["days"])
    (row,) = [dict(zip(table.columns, r, strict=True)) for r in table.rows()]
    for posture in Posture:
        assert row[f"{posture.value}_min"] == round(summary.posture_s[posture] / 60, 3)
    assert row["sitting_bouts"] == summary.sitting_bouts
    assert row["longest_sitting_bout_min"] == round(summary.longest_bout_s / 60, 3)
    assert row["breaks"] == summary.breaks
    assert row["steps"] == summary.steps
    assert row["slouch_min"] == round(summary.slouch_s / 60, 3)
    assert row["valid_wear_min"] == round(summary.valid_wear_s / 60, 3)


def test_csv_and_parquet_hold_the_same_tables(hapt: export.WearerData, tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    for fmt in ("csv", "parquet"):
        export.write_export([hapt], tmp_path / fmt, zone=BERLIN, fmt=fmt, now_s=T0)
    for name in export.TABLES:
        with (tmp_path / "csv" / f"{name}.csv").open() as f:
            rows = list(csv.DictReader(f))
        parquet = pq.read_table(tmp_path / "parquet" / f"{name}.parquet").to_pylist()
        assert rows, name
        assert len(rows) == len(parquet), name
        assert list(rows[0]) == list(parquet[0]), name  # same columns, header first
        for a, b in zip(rows, parquet, strict=True):
            assert a == {k: export.cell_text(v) for k, v in b.items()}, name


def test_per_second_rows_carry_the_traces_flexion(hapt: export.WearerData) -> None:
    (table,) = export.tables([hapt], BERLIN, interruption_max_s=20.0, names=["seconds"])
    assert len(table) == len(hapt.timeline or [])
    known = [v for v in table.columns["flexion_deg"] if v is not None]
    assert len(known) > len(table) / 2
    assert table.columns["time_local"][0] == "2026-09-21T09:00:00+02:00"


def test_activpal_rows_are_contiguous_events_with_excel_times(hapt: export.WearerData) -> None:
    rows = export.activpal_rows(hapt, BERLIN)
    assert rows[0][:3] == ["Time", "DataCount (samples)", "Interval (s)"]
    first = rows[1]
    assert float(first[0]) == pytest.approx(46286.375)  # 2026-09-21 09:00 local, Excel days
    counts = [int(r[1]) for r in rows[1:]]
    intervals = [float(r[2]) for r in rows[1:]]
    assert counts == [round(10 * sum(intervals[:i])) for i in range(len(intervals))]
    assert {r[3] for r in rows[1:]} <= set(export.ACTIVPAL_CODES.values())
    steps = [int(r[4]) for r in rows[1:]]
    assert steps == sorted(steps)
    assert steps[-1] == sum(
        int(e.values.get("steps", 0)) for e in hapt.events if e.kind is EventKind.POSTURE_BOUT
    )


def _fhir_bundle(hapt: export.WearerData) -> dict[str, Any]:
    days = outcomes.days(hapt.events, hapt.minutes, timezone="Europe/Berlin")
    return fhir.bundle("w1", days, BERLIN, now_s=T0)


def test_fhir_bundles_are_valid_r4_for_fhirclient(hapt: export.WearerData) -> None:
    from fhirclient.models.bundle import Bundle

    data = _fhir_bundle(hapt)
    parsed = Bundle(json.loads(json.dumps(data)), strict=True)  # raises on any invalid element
    assert parsed.as_json()["entry"] == data["entry"]
    codes = {e["resource"]["code"]["coding"][0]["code"] for e in data["entry"]}
    assert codes == {"sedentary-time", "prolonged-sitting-time", "sit-to-stand", "41950-7"}


def test_fhir_bundles_validate_with_fhir_resources(hapt: export.WearerData) -> None:
    from fhir.resources.R4B.bundle import Bundle

    data = _fhir_bundle(hapt)
    bundle = Bundle.model_validate(data)
    sedentary = bundle.entry[0].resource
    postures = {c.code.coding[0].code for c in sedentary.component}
    assert postures == {"sitting", "standing", "lyingDown"}
    assert sedentary.component[0].code.coding[0].system == fhir.PHR_POSTURE


def test_fhir_values_are_the_daily_summarys(hapt: export.WearerData) -> None:
    (d,) = outcomes.days(hapt.events, hapt.minutes, timezone="Europe/Berlin")
    data = _fhir_bundle(hapt)
    by_code = {e["resource"]["code"]["coding"][0]["code"]: e["resource"] for e in data["entry"]}
    assert by_code["sedentary-time"]["valueQuantity"]["value"] == round(d.summary.sitting_s / 60, 2)
    assert by_code["sit-to-stand"]["valueInteger"] == d.sit_to_stand
    assert by_code["41950-7"]["valueQuantity"]["value"] == d.summary.steps
    again = _fhir_bundle(hapt)
    assert again == data  # ids from the content: the same data give the same Bundle


def test_posture_export_from_a_trace_writes_every_table(tmp_path: Path) -> None:
    trace = dataset_files("uci_hapt_waist")[0]
    result = CliRunner().invoke(
        app,
        [
            "export",
            str(trace),
            "--out",
            str(tmp_path),
            "--tz",
            "UTC",
            "-w",
            "w7",
            "--start",
            "2026-09-21T08:00",
        ],
    )
    assert result.exit_code == 0, result.output
    for name in export.TABLES:
        header = (tmp_path / f"{name}.csv").read_text().splitlines()[0]
        assert header.startswith("wearer,"), name
    days = list(csv.DictReader((tmp_path / "days.csv").read_text().splitlines()))
    assert [d["date"] for d in days] == ["2026-09-21"]
    assert days[0]["wearer"] == "w7"


@pytest.mark.parametrize(
    ("args", "text"),
    [
        (["x.csv", "--format", "xlsx"], "--format must be one of"),
        (["x.csv", "--tables", "days,lunch"], "unknown table(s) lunch"),
        ([], "give a trace file, or --wearer or --team"),
        (["--wearer", "w1", "--team", "t"], "give a trace file, or --wearer or --team"),
        (["--wearer", "bad id"], "wearer id"),
        (["x.csv", "--tz", "Mars/Olympus"], "unknown time zone"),
    ],
)
def test_export_usage_errors_are_one_line_and_exit_2(args: list[str], text: str) -> None:
    result = CliRunner().invoke(app, ["export", *args])
    assert result.exit_code == 2, result.output
    assert text in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_export_of_a_bad_trace_is_one_line_and_exit_1(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_bytes("t_s,ax\n".encode("utf-16"))
    result = CliRunner().invoke(app, ["export", str(bad), "--out", str(tmp_path / "out")])
    assert result.exit_code == 1
    assert "UTF-16" in result.output


def test_posture_names_match_the_timeline() -> None:
    assert [p.value for p in POSTURES] == [p.value for p in Posture]
