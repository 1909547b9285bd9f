"""Reading trace files: every real recording loads; every kind of bad file gives one clear error."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from analytics.epochs import features
from analytics.records import Trace
from sensor_gateway import csvtrace
from sensor_gateway.traces import TraceError, read_trace, write_trace
from tests.conftest import dataset_files


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


@pytest.fixture(params=["pyarrow", "numpy"])
def parser(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each test of this file that takes it runs with the fast parser and with numpy's alone."""
    if request.param == "numpy":
        monkeypatch.setattr(csvtrace, "_fast", lambda path, header: None)
    return str(request.param)


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
        ("t_s,ax,ay,az\n0,0,0,1\n0.02,0,0\n0.04,0,0,1\n", "line 3: 3 columns where the header"),
        ("t_s,ax,ay,az\n0,0,0,1\n\n0.02,0,x,1\n", "line 4: ay is not a number: 'x'"),
        ("t_s,ax,ay,az\n0,0,0,1\n0.02,1e30,0,1\n", r"line 3: ax is 1e\+30 g, beyond any"),
        ("t_s,ax,ay,az\n0,0,0,1\n0.02,0,-64.5,1\n", "line 3: ay is -64.5 g"),
        ("t_s,ax,ay,az\n0,0,0,1\n1e300,0,0,1\n", r"line 3: t_s is 1e\+300, outside"),
        ("t_s,ax,ay,az\n-5,0,0,1\n-4.98,0,0,1\n", "line 2: t_s is -5, outside"),
        ("t_s,ax,ay,az\n" + "".join(f"{i * 1e-6:.6f},0,0,1\n" for i in range(5)), "sample rate"),
        (
            "t_s,ax,ay,az\n"  # a median interval of 0.2 ms (5 kHz) and 1 s holes to bridge
            + "".join(f"{i // 2 * 0.99 + i % 2 * 2e-4:.4f},0,0,1\n" for i in range(12)),
            "irregular sampling",
        ),
        ("\ufefft_s,ax,ay\n0,0,0\n", r"missing column\(s\) az \(needs"),
        ("t_s;ax;ay;az\n0;0;0;1\n", r"missing column\(s\) t_s, ax, ay, az"),
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
        "short-row-inside",
        "blank-line-counted",
        "beyond-64-g",
        "beyond-minus-64-g",
        "absurd-time",
        "negative-time",
        "absurd-rate",
        "absurd-grid",
        "bom-missing-column",
        "semicolons",
    ],
)
def test_bad_traces_give_one_line_naming_the_file(
    tmp_path: Path, text: str, message: str, parser: str
) -> None:
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


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("t_s,ax,ay,az\n0,0,0,1\n".encode("utf-16"), "is UTF-16 text; save it as UTF-8"),
        ("t_s,ax,ay,az\n0,0,0,1\n".encode("utf-16-le"), "looks like UTF-16"),
        ("t_s,ax,ay,az\n0,0,0,1\n".encode("utf-32"), "is UTF-32 text"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "is binary, not CSV text"),
        (b"t_s,ax,ay,az,\xe9t\xe9\n0,0,0,1\n0.02,0,0,1\n" * 3, "line 1: is not UTF-8 text"),
        (b"t_s,ax,ay,az\n0,0,0,1\n" + b"0.02,0,0,1\n" * 9000 + b"0.03,\xff,0,1\n", "not UTF-8"),
        (b"x" * 70_000, "line 1 is longer than 64 KiB"),
    ],
    ids=["utf-16", "utf-16-no-bom", "utf-32", "binary", "latin-1", "latin-1-late", "huge-header"],
)
def test_encodings_and_binary_data_get_one_line(
    tmp_path: Path, content: bytes, message: str, parser: str
) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(TraceError, match=message) as info:
        read_trace(path)
    assert "\n" not in str(info.value)


def test_a_utf8_byte_order_mark_is_accepted(tmp_path: Path, parser: str) -> None:
    path = tmp_path / "excel.csv"
    path.write_bytes(b"\xef\xbb\xbft_s,ax,ay,az\r\n0,0.5,0,1\r\n0.02,0.5,0,1\r\n0.04,0.5,0,1\r\n")
    trace, _ = read_trace(path)
    assert len(trace) == 3
    np.testing.assert_allclose(trace.accel_g[0], [0.5, 0.0, 1.0])


def test_a_line_longer_than_the_limit_is_refused_with_its_number(
    tmp_path: Path, parser: str
) -> None:
    path = tmp_path / "long.csv"
    with path.open("w") as f:
        f.write("t_s,ax,ay,az\n0,0,0,1\n0.02,0,0,1\n")
        f.write("0.04,0,0,1," + "9" * (csvtrace.MAX_LINE_BYTES + 10) + "\n")
    with pytest.raises(TraceError, match=r"line 4: longer than 1 MiB"):
        read_trace(path)


def test_a_file_beyond_the_size_limit_is_refused_before_it_is_read(tmp_path: Path) -> None:
    path = tmp_path / "huge.csv"
    with path.open("wb") as f:  # sparse: takes no disk space, and is never read
        f.truncate(csvtrace.MAX_CSV_BYTES + 1)
    with pytest.raises(TraceError, match=r"more than a CSV trace may have .*Parquet.*\.cwa"):
        read_trace(path)


@pytest.mark.parametrize("kind", ["device", "fifo", "directory"])
def test_devices_fifos_and_directories_are_not_regular_files(tmp_path: Path, kind: str) -> None:
    if kind == "device":
        path = Path("/dev/zero")
    elif kind == "fifo":
        path = tmp_path / "pipe.csv"
        os.mkfifo(path)  # never opened: opening a FIFO would wait for a writer
    else:
        path = tmp_path
    with pytest.raises(TraceError, match="not a regular file"):
        read_trace(path)


def test_both_parsers_read_a_real_recording_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    path = dataset_files()[0]
    fast, _ = read_trace(path)
    monkeypatch.setattr(csvtrace, "_fast", lambda path, header: None)
    careful, _ = read_trace(path)
    np.testing.assert_array_equal(fast.t_s, careful.t_s)
    np.testing.assert_array_equal(fast.accel_g, careful.accel_g)
    assert fast.accel_g.dtype == np.float32


def test_parquet_traces_read_as_their_csv_twin(tmp_path: Path) -> None:
    csv_trace, _ = read_trace(dataset_files()[0])
    write_trace(tmp_path / "t.parquet", csv_trace)
    again, notes = read_trace(tmp_path / "t.parquet")
    assert notes == []
    assert again.rate_hz == csv_trace.rate_hz
    np.testing.assert_array_equal(again.t_s, csv_trace.t_s)
    np.testing.assert_array_equal(again.accel_g, csv_trace.accel_g)


@pytest.mark.parametrize(
    ("columns", "message"),
    [
        ({"t_s": [0.0, 0.02], "ax": [0.0, 0.0], "ay": [0.0, 0.0]}, r"missing column\(s\) az"),
        ({"t_s": [0.0, 0.02], "ax": [0.0, None], "ay": [0.0, 0.0], "az": [1, 1]}, "row 2: ax is"),
        ({"t_s": [0.0, 0.02], "ax": ["a", "b"], "ay": [0.0, 0.0], "az": [1, 1]}, "not numbers"),
        (
            {"t_s": [0.0, 0.02], "ax": [0.0, 99.0], "ay": [0.0, 0.0], "az": [1, 1]},
            "row 2: ax is 99",
        ),
    ],
    ids=["missing-column", "null", "strings", "beyond-64-g"],
)
def test_bad_parquet_traces_give_one_line(
    tmp_path: Path, columns: dict[str, list[object]], message: str
) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "bad.parquet"
    pq.write_table(pa.table(columns), path)
    with pytest.raises(TraceError, match=message):
        read_trace(path)


def test_a_file_that_is_not_parquet_says_so(tmp_path: Path) -> None:
    path = _write(tmp_path / "t.parquet", "t_s,ax,ay,az\n0,0,0,1\n")
    with pytest.raises(TraceError, match="not a Parquet file"):
        read_trace(path)


def test_parquet_in_many_row_groups_and_any_number_type(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    n = 5000
    t = np.arange(n) / 50.0
    a = np.random.default_rng(5).normal(size=(n, 3)).round(3)
    columns = {"label": ["x"] * n, "az": a[:, 2], "t_s": t, "ax": a[:, 0], "ay": a[:, 1]}
    pq.write_table(pa.table(columns), tmp_path / "t.parquet", row_group_size=777)
    trace, _ = read_trace(tmp_path / "t.parquet")
    np.testing.assert_allclose(trace.t_s, t, atol=1e-9)  # on the regular grid t0 + i / rate
    np.testing.assert_array_equal(trace.accel_g, a.astype(np.float32))
