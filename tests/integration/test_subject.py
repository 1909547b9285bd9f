"""Exports from a real influxd equal the exports of the records that filled it; a data subject's
copy holds everything; an erasure removes the wearer from every measurement, the state_dir and
the recorded traces, verifiably, and leaves every other wearer's data exactly as it was."""

from __future__ import annotations

import csv
import json
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner

from analytics.offline import analyze
from analytics.records import DeviceHealth, Placement
from dashboards import erasure
from dashboards.influx import InfluxClient
from dashboards.lineprotocol import device_line, event_line, minute_line
from dashboards.settings import InfluxSettings
from posture import export
from posture.cli import app
from posture.testing.servers import Influxd
from sensor_gateway import calibrations, nudge_timing
from sensor_gateway.traces import read_trace, write_trace
from tests.conftest import dataset_files
from tests.fake_influx_v2 import fake_influx_v2

from .fleet_data import START, TZ, Fleet

pytestmark = pytest.mark.integration
ZONE = ZoneInfo(TZ)


def _tables(data: list[export.WearerData]) -> dict[str, dict[str, list[object]]]:
    return {t.name: t.columns for t in export.tables(data, ZONE, interruption_max_s=20.0)}


def test_an_export_from_influxdb_equals_the_export_of_the_records(fleet: Fleet) -> None:
    for w in fleet.wearers:
        stored = export.from_influx(fleet.influx, [w.id], START - 86400, START + 2 * 86400)
        assert stored[0].minutes
        assert stored[0].events
        assert _tables(stored) == _tables([export.WearerData(w.id, w.events, w.minutes)]), w.id


def test_posture_export_of_a_team_from_influxdb(fleet: Fleet, tmp_path: Path) -> None:
    day = datetime.fromtimestamp(START, ZONE).date().isoformat()
    s = fleet.influx.settings
    env = {**os.environ, "POSTURE_INFLUX__URL": s.url, "POSTURE_INFLUX__DATABASE": s.database}
    args = ["export", "--team", "teamB", "--from", day, "--to", day, "--tz", TZ]
    result = CliRunner().invoke(app, [*args, "--out", str(tmp_path)], env=env)
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader((tmp_path / "days.csv").read_text().splitlines()))
    team = sorted(w.id for w in fleet.wearers if w.team == "teamB")
    assert sorted(r["wearer"] for r in rows) == team
    for r in rows:
        w = next(w for w in fleet.wearers if w.id == r["wearer"])
        sitting = sum(m.posture_s.get("sitting", 0) for m in w.minutes)  # type: ignore[call-overload]
        assert float(r["sitting_min"]) == round(sitting / 60, 3)
    fhir = CliRunner().invoke(
        app, [*args, "--format", "fhir", "--out", str(tmp_path / "fhir")], env=env
    )
    assert fhir.exit_code == 0, fhir.output
    assert len(list((tmp_path / "fhir").glob("*-fhir-bundle.json"))) == len(team)


@dataclass
class Site:
    """Three wearers' data in a database of their own, calibrations, nudge timing and recorded
    traces."""

    influx: InfluxClient
    state_dir: Path
    traces: Path
    env: dict[str, str]
    audit: Path


def _everything(influx: InfluxClient, wearer: str) -> list[dict[str, object]]:
    rows = influx.query(f"SELECT * FROM /.*/ WHERE \"wearer\" = '{wearer}'")
    return sorted(rows, key=lambda r: (str(r["_measurement"]), float(str(r["time"]))))


@pytest.fixture
def site(influxd: Influxd, tmp_path: Path) -> Iterator[Site]:
    influx = InfluxClient(InfluxSettings(url=influxd.url, database=f"subj_{uuid.uuid4().hex[:8]}"))
    influx.ensure_database()
    state_dir, traces = tmp_path / "state", tmp_path / "traces"
    up = {"t_s": START, "up": [0.0, 0.0, 1.0], "forward": None}
    state_dir.mkdir()
    (state_dir / calibrations.FILE_NAME).write_text(
        json.dumps({w: {"trunk": up} for w in ("w1", "w2", "w3")})
    )
    learned = {"version": 1, "arms": {"1800": [3.0, 1.0], "2700": [0.5, 2.0]}}
    nudge_timing.save(state_dir, dict.fromkeys(("w1", "w2"), learned))
    lines = []
    for i, path in enumerate(dataset_files("uci_hapt_waist")[:3]):
        wearer = f"w{i + 1}"
        trace, _ = read_trace(path)
        out = analyze({Placement.TRUNK: trace.shifted(START)}, wearer_id=wearer).output
        lines += [minute_line(m, team="t1", site="s1") for m in out.minutes]
        lines += [event_line(e, team="t1", site="s1") for e in out.events]
        lines += [
            device_line(
                DeviceHealth(
                    "gw1",
                    f"s{i}",
                    wearer,
                    Placement.TRUNK,
                    "generic",
                    START + k * 60,
                    True,
                    90 - k,
                    -60,
                    3000 * k,
                    0,
                    0,
                )
            )
            for k in range(5)
        ]
        (traces / wearer).mkdir(parents=True)
        write_trace(traces / wearer / "day1.csv", trace)
        write_trace(traces / f"{wearer}_thigh.csv", trace)
    (traces / "w10_trunk.csv").write_text("not w1's")  # a longer id that starts the same
    influx.write(lines)
    env = {
        **os.environ,
        "POSTURE_INFLUX__URL": influxd.url,
        "POSTURE_INFLUX__DATABASE": influx.settings.database,
        "POSTURE_GATEWAY__STATE_DIR": str(state_dir),
        "POSTURE_PRIVACY__TRACE_DIRS": json.dumps([str(traces)]),
        "POSTURE_PRIVACY__AUDIT_LOG": str(tmp_path / "audit.log"),
    }
    yield Site(influx, state_dir, traces, env, tmp_path / "audit.log")
    influx.close()


def test_a_subject_export_holds_everything_held_about_the_wearer(
    site: Site, tmp_path: Path
) -> None:
    out = tmp_path / "copy"
    result = CliRunner().invoke(
        app, ["subject", "export", "-w", "w2", "--out", str(out), "--tz", TZ], env=site.env
    )
    assert result.exit_code == 0, result.output
    for name in export.TABLES:
        assert (out / "exports" / f"{name}.csv").stat().st_size > 100, name
    assert (out / "exports" / "w2-activpal-events.csv").exists()
    assert json.loads((out / "fhir" / "w2-fhir-bundle.json").read_text())["entry"]
    assert [p.name for p in (out / "reports").glob("*.html")] == ["2026-09-21.html"]
    devices = list(csv.DictReader((out / "device_reports.csv").read_text().splitlines()))
    assert len(devices) == 5
    assert {d["wearer"] for d in devices} == {"w2"}
    assert set(json.loads((out / "calibrations.json").read_text())) == {"w2"}
    assert set(json.loads((out / nudge_timing.FILE_NAME).read_text())) == {"w2"}
    assert sorted(p.name for p in (out / "traces").iterdir()) == ["day1.csv", "w2_thigh.csv"]
    events = (out / "exports" / "events.csv").read_text()
    assert "w1" not in events
    assert "w3" not in events


def test_erasure_removes_the_wearer_everywhere_and_nothing_else(site: Site) -> None:
    others = {w: _everything(site.influx, w) for w in ("w2", "w3")}
    assert erasure.held(site.influx, "w1").keys() == {"minute", "event", "device"}
    result = CliRunner().invoke(app, ["subject", "erase", "-w", "w1", "--yes"], env=site.env)
    assert result.exit_code == 0, result.output
    assert "erased: InfluxDB:" in result.output
    assert "verified" in result.output
    # no query for the erased wearer returns anything
    assert _everything(site.influx, "w1") == []
    assert erasure.held(site.influx, "w1") == {}
    for measurement in ("minute", "event", "device"):
        values = site.influx.query(f'SHOW TAG VALUES FROM "{measurement}" WITH KEY = "wearer"')
        assert "w1" not in {r["value"] for r in values}
    # everyone else's data unchanged
    assert {w: _everything(site.influx, w) for w in ("w2", "w3")} == others
    kept = json.loads((site.state_dir / calibrations.FILE_NAME).read_text())
    assert set(kept) == {"w2", "w3"}
    assert set(nudge_timing.load(site.state_dir)) == {"w2"}
    left = sorted(str(p.relative_to(site.traces)) for p in site.traces.rglob("*") if p.is_file())
    assert left == ["w10_trunk.csv", "w2/day1.csv", "w2_thigh.csv", "w3/day1.csv", "w3_thigh.csv"]
    # the audit line: what and when, never whose
    (line,) = site.audit.read_text().splitlines()
    audit = json.loads(line)
    assert audit["action"] == "erase"
    assert audit["verified"] is True
    assert audit["trace_files"] == 2
    assert audit["calibrations"] == 1
    assert audit["nudge_timing"] == 1
    assert audit["influx_points"] > 0
    assert "w1" not in line
    assert audit["receipt"] in result.output


def test_erasure_asks_first_and_does_nothing_without_a_yes(site: Site) -> None:
    before = _everything(site.influx, "w1")
    result = CliRunner().invoke(app, ["subject", "erase", "-w", "w1"], env=site.env, input="n\n")
    assert result.exit_code == 1
    assert "nothing erased" in result.output
    assert _everything(site.influx, "w1") == before
    assert not site.audit.exists()


def test_influxdb_2_erasure_goes_through_the_delete_api() -> None:
    with fake_influx_v2() as fake:
        settings = InfluxSettings(url=fake.url, api="v2", database="posture", org="acme", token="t")
        influx = InfluxClient(settings)
        erasure.erase(influx, "w042")
        influx.close()
    (request,) = fake.requests
    assert request.path == "/api/v2/delete"
    assert request.query["org"] == "acme"
    assert request.query["bucket"] == "posture"
    body = json.loads(request.body)
    assert body["predicate"] == 'wearer="w042"'
    assert body["start"].startswith("1970-01-01")
    assert body["stop"].startswith("2262-")


def test_no_wearer_id_can_inject_a_query() -> None:
    settings = InfluxSettings(url="http://127.0.0.1:9", database="posture")
    with pytest.raises(ValueError, match="wearer id"):
        erasure.erase(InfluxClient(settings), "w1' OR 1=1 --")
