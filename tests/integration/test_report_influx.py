"""`posture report --wearer W --day D` reads the wearer's day back from a real influxd (written by
the recorder from a replayed recording, with nudges published as contract payloads) and says
the same as the records the analytics produced; the page renders with every plot visible."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner

from analytics.records import EventKind
from dashboards import report
from posture.cli import app
from tests.browser import chromium, look

from .fleet_data import START, TZ, Fleet

pytestmark = [pytest.mark.integration, pytest.mark.browser]


def test_the_influxdb_report_says_what_the_records_say(fleet: Fleet, tmp_path: Path) -> None:
    day = datetime.fromtimestamp(START, ZoneInfo(TZ)).date()
    nudged = [w for w in fleet.wearers if w.nudges]
    assert nudged
    for w in nudged:
        stored = report.from_influx(fleet.influx, w.id, day, tz=ZoneInfo(TZ), prolonged_s=300.0)
        offline = report.Day(
            "offline",
            "records",
            tuple(w.events),
            tuple(w.minutes),
            stored.start_s,
            stored.end_s,
            ZoneInfo(TZ),
            prolonged_s=300.0,
        )
        assert report.sentences(stored) == report.sentences(offline)
        assert len(stored.of(EventKind.NUDGE)) == len(w.of(EventKind.NUDGE))
    with pytest.raises(report.NoData):
        report.from_influx(fleet.influx, "w99", day, tz=ZoneInfo(TZ))


def test_posture_report_from_influxdb_renders_in_a_browser(fleet: Fleet, tmp_path: Path) -> None:
    w = max(fleet.wearers, key=lambda w: len(w.nudges))
    out = tmp_path / "day.html"
    settings = fleet.influx.settings
    env = {
        "POSTURE_INFLUX__URL": settings.url,
        "POSTURE_INFLUX__DATABASE": settings.database,
    }
    day = datetime.fromtimestamp(START, ZoneInfo(TZ)).date().isoformat()
    result = CliRunner().invoke(
        app,
        ["report", "--wearer", w.id, "--day", day, "--tz", TZ, "--out", str(out)],
        env={**os.environ, **env},
    )
    assert result.exit_code == 0, result.output
    page = out.read_text()
    assert f"Wearer {w.id}" in page
    assert "movement-break nudge" in page
    with chromium(tmp_path / "profile") as driver:
        figures, resources = look(driver, out)
    assert resources == []
    assert len(figures) == 4
    for f in figures:
        assert f.visible
        assert f.colours >= 8
        assert f.inked >= 0.02
    nudges = next(f for f in figures if f.id == "plot-nudges")
    assert nudges.shapes >= 10 + len(w.nudges) // 2  # a marker per nudge
