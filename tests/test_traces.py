"""Reading trace files: every real recording loads; every kind of bad file gives one clear error."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from analytics.epochs import features
from analytics.records import Trace
from sensor_gateway.traces import TraceError, read_trace, write_trace
from tests.conftest import dataset_files


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


@pytest.mark.parametrize("path", dataset_files()[::5], ids=lambda p: p.name)
def test_real_recordings_load_with_gravity_near_one_g(path: Path) -> None:
    trace, _notes = read_trace(path)
    assert trace.rate_hz in (20.0, 50.0)
    assert len(trace) > 1000
    gravity = features(trace.t_s, trace.accel_g, rate_hz=trace.rate_hz).mean_g
    assert 0.9 < float(np.median(np.linalg.norm(gravity, axis=1))) < 1.2
    assert np.all(np.diff(trace.t_s) > 0)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("t_s,ax,ay\n0,0,0\n", r"missing column\(s\) az"),
        ("", "empty file"),
        ("t_s,ax,ay,az\n", "no samples"),
        ("t_s,ax,ay,az\n0,0,0,1\n0.02,0,abc,1\n", r"line 3: ay is not a number: 'abc'"),
        ("t_s,ax,ay,az\n0,0,0,1\n0.02,0,nan,1\n", r"line 3: ay is nan"),
        ("t_s,ax,ay,az\n0,0,0,1\n0.02,0,0,inf\n", r"line 3: az is inf"),
        ("t_s,ax,ay,az\n0,0,0,1\n0.02,0,0,1\n0.01,0,0,1\n", r"line 4: time goes backwards"),
        ("t_s,ax,ay,az\n0,0,0,1\n0,0,0,1\n", r"line 3: time goes nowhere"),
        ("t_s,ax,ay,az\n0,0,0,1\n", "at least two samples"),
        ("t_s,ax,ay,az\n0,0,0,1\n0.02,0,0\n", "columns"),
    ],
    ids=[
        "missing-column",
        "empty",
        "header-only",
        "text",
        "nan",
        "inf",
        "backwards",
        "repeat",
        "one-sample",
        "short-row",
    ],
)
def test_bad_traces_give_one_line_naming_the_file(tmp_path: Path, text: str, message: str) -> None:
    path = _write(tmp_path / "bad.csv", text)
    with pytest.raises(TraceError, match=message) as info:
        read_trace(path)
    assert str(path) in str(info.value)
    assert "\n" not in str(info.value)


def test_missing_file_is_a_trace_error(tmp_path: Path) -> None:
    with pytest.raises(TraceError, match="no such file"):
        read_trace(tmp_path / "nope.csv")


def test_extra_columns_are_ignored_and_column_order_is_free(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "t.csv",
        "label,az,t_s,ay,ax\nsit,1,0,0,0.5\nsit,1,0.02,0,0.5\nsit,1,0.04,0,0.5\n",
    )
    trace, notes = read_trace(path)
    assert notes == []
    np.testing.assert_allclose(trace.accel_g[0], [0.5, 0.0, 1.0])
    assert trace.rate_hz == 50.0


def test_jitter_is_resampled_onto_a_uniform_grid(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    t = np.arange(500) * 0.05 + rng.uniform(-0.01, 0.01, 500)
    t[0] = 0.0
    rows = "\n".join(f"{x:.4f},{np.sin(x):.4f},0,1" for x in t)
    trace, notes = read_trace(_write(tmp_path / "j.csv", "t_s,ax,ay,az\n" + rows + "\n"))
    assert trace.rate_hz == 20.0
    assert any("resampled" in n for n in notes)
    np.testing.assert_allclose(np.diff(trace.t_s), 0.05, atol=1e-9)
    np.testing.assert_allclose(trace.accel_g[:, 0], np.sin(trace.t_s), atol=0.01)


def test_long_gaps_stay_gaps_and_are_never_filled(tmp_path: Path) -> None:
    t = np.concatenate([np.arange(100) * 0.02, 10.0 + np.arange(100) * 0.02])
    rows = "\n".join(f"{x:.3f},0,0,1" for x in t)
    trace, notes = read_trace(_write(tmp_path / "g.csv", "t_s,ax,ay,az\n" + rows + "\n"))
    assert len(trace) == 200
    assert any("gap" in n for n in notes)
    assert [len(b) for b in trace.batches(sensor_id="s", max_s=10)] == [100, 100]


def test_write_then_read_gives_the_same_trace(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    trace = Trace(
        t_s=np.arange(300) / 50.0, accel_g=rng.normal(size=(300, 3)).round(4), rate_hz=50.0
    )
    write_trace(tmp_path / "w.csv", trace)
    again, _ = read_trace(tmp_path / "w.csv")
    np.testing.assert_allclose(again.t_s, trace.t_s)
    np.testing.assert_allclose(again.accel_g, trace.accel_g, atol=1e-4)
