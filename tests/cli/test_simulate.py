"""`posture simulate`: the demo's simulated day as trace files, the very samples it streams."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from rich.console import Console
from typer.testing import CliRunner

from analytics.offline import analyze
from analytics.params import AnalyticsParams
from analytics.records import Placement, Trace
from posture.cli import app
from posture.demo import DAY_SENSORS, day_start, demo_sensors
from posture.fidelity import offline_summaries
from sensor_gateway.traces import read_trace

runner = CliRunner()
HOURS = 0.3
SEED = 77
START = "2026-09-21T07:30"
ZONE = "Europe/Berlin"


@pytest.fixture(scope="module")
def day(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("day")
    args = ["simulate", "--seed", str(SEED), "--hours", str(HOURS), "--start", START]
    result = runner.invoke(
        app,
        [*args, "--out", str(out)],
        env={"POSTURE_ANALYTICS__NUDGES__TIMEZONE": ZONE},
    )
    assert result.exit_code == 0, result.output
    return out


def test_the_written_traces_are_the_samples_the_demo_streams(day: Path) -> None:
    start_s = day_start(ZoneInfo(ZONE), date(2026, 9, 21)) - 1800.0  # 07:30 there
    sensors = demo_sensors([], hours=HOURS, seed=SEED, start_s=start_s, console=Console())
    assert sorted(p.name for p in day.iterdir()) == sorted(
        f"{w}-{p.value}.csv" for w, p, _profile in DAY_SENSORS
    )
    for s in sensors:
        written, notes = read_trace(day / f"{s.key.wearer_id}-{s.key.placement.value}.csv")
        assert notes == []
        assert len(written) == len(s.trace) > 0
        assert len(written) % s.per_notification == 0  # whole notifications, as streamed
        assert written.rate_hz == s.trace.rate_hz
        np.testing.assert_allclose(written.t_s, s.trace.t_s, rtol=0, atol=1e-6)
        # written to 0.1 mg (the demo's sensors send whole mg), read back as float32
        np.testing.assert_allclose(written.accel_g, s.trace.accel_g, rtol=0, atol=0.5e-4 + 1e-6)


def test_the_written_day_analyses_as_the_demo_checks_it(day: Path) -> None:
    start_s = day_start(ZoneInfo(ZONE), date(2026, 9, 21)) - 1800.0
    sensors = demo_sensors([], hours=HOURS, seed=SEED, start_s=start_s, console=Console())
    traces: dict[str, dict[Placement, Trace]] = {}
    for s in sensors:
        traces.setdefault(s.key.wearer_id, {})[s.key.placement] = s.trace
    offline = offline_summaries(traces, AnalyticsParams())
    for wearer, reference in offline.items():
        files = {p: read_trace(day / f"{wearer}-{p.value}.csv")[0] for p in traces[wearer]}
        summary = analyze(files, wearer_id=wearer).summary
        assert reference.sitting_s > 0
        assert abs(summary.sitting_s - reference.sitting_s) <= 0.01 * reference.sitting_s
        assert summary.sitting_bouts == reference.sitting_bouts
    result = runner.invoke(
        app, ["analyze", str(day / "w01-trunk.csv"), "--thigh", str(day / "w01-thigh.csv")]
    )
    assert result.exit_code == 0, result.output
    assert "Sitting" in result.output


def test_the_day_begins_at_the_demos_start_by_default(tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        ["simulate", "--hours", "0.1", "--out", str(tmp_path)],
        env={"POSTURE_ANALYTICS__NUDGES__TIMEZONE": ZONE},
    )
    assert result.exit_code == 0, result.output
    trace, _notes = read_trace(tmp_path / "w02-trunk.csv")
    assert float(trace.t_s[0]) == day_start(ZoneInfo(ZONE))


@pytest.mark.parametrize(
    ("start", "message"),
    [("tomorrow", "is not YYYY-MM-DDTHH:MM"), ("2100-06-01", "between 1970 and 2100")],
)
def test_a_bad_start_is_a_one_line_usage_error(start: str, message: str, tmp_path: Path) -> None:
    result = runner.invoke(app, ["simulate", "--start", start, "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert message in result.output
    assert list(tmp_path.iterdir()) == []
