"""Research devices' own files read through maintained readers, compared with an independent one.

The independent readers: scikit-digital-health's `ReadCwa` and `ReadBin` (its own C readers) for
Axivity and GENEActiv, and ActiLife's own CSV export of the same ActiGraph recording.
"""

from __future__ import annotations

import sys
import warnings
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from sensor_gateway.devicefiles import read_device
from sensor_gateway.traces import TraceError, read_trace
from tests.conftest import DATASETS

FILES = DATASETS / "device_files"


@pytest.fixture(scope="module")
def skdh_io() -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # its own imports' deprecation warnings
        import skdh.io

    return skdh.io


def _skdh(reader: Any, name: str) -> dict[str, Any]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "timestamps are local but naive": as we know
        return dict(reader().predict(file=str(FILES / name)))


@pytest.mark.slow
@pytest.mark.parametrize("name", ["ax3_sample.cwa", "ax6_sample.cwa"])
def test_axivity_samples_and_times_match_scikit_digital_health(skdh_io: Any, name: str) -> None:
    theirs = _skdh(skdh_io.ReadCwa, name)
    t, accel, notes = read_device(FILES / name)
    assert accel.shape == theirs["accel"].shape
    np.testing.assert_array_equal(accel, theirs["accel"].astype(np.float32))
    # a .cwa file has one time per block of 80 to 120 samples: the readers place the samples
    # between those times differently, by a few milliseconds (17 ms at most in these files)
    assert np.median(np.abs(t - theirs["time"])) < 0.01
    assert np.max(np.abs(t - theirs["time"])) < 0.02
    assert "time zone" in " ".join(notes)  # Axivity files do not say it: taken as UTC


@pytest.mark.slow
def test_geneactiv_samples_and_times_match_scikit_digital_health(skdh_io: Any) -> None:
    theirs = _skdh(skdh_io.ReadBin, "gnactv_sample.bin")
    t, accel, notes = read_device(FILES / "gnactv_sample.bin")
    assert notes == []
    np.testing.assert_allclose(accel, theirs["accel"], atol=1e-6)
    # the file's clock is local time, "GMT -04:00": unix seconds are 4 hours later
    np.testing.assert_allclose(t - theirs["time"], 4 * 3600.0, atol=1e-6)


def _actilife_export(path: Path) -> tuple[datetime, float, np.ndarray]:
    lines = path.read_text().splitlines()
    rate = float(lines[0].split(" at ")[1].split(" Hz")[0])
    start = datetime.strptime(f"{lines[3].split()[-1]} {lines[2].split()[-1]}", "%m/%d/%Y %H:%M:%S")
    header = lines.index("Accelerometer X,Accelerometer Y,Accelerometer Z")
    samples = np.loadtxt(lines[header + 1 :], delimiter=",")
    return start, rate, samples


def test_actigraph_samples_and_times_match_actilifes_own_export() -> None:
    start, rate, samples = _actilife_export(FILES / "neo_actilife_export.txt")
    t, accel, notes = read_device(FILES / "neo.gt3x")
    assert notes == []
    assert accel.shape == samples.shape
    np.testing.assert_allclose(accel, samples, atol=0.0005 + 1e-6)  # ActiLife rounds to 1 mg
    # the device's clock ran at UTC-6 (its info.txt); ActiLife shows that local time
    local = timezone(timedelta(hours=-6))
    assert t[0] == start.replace(tzinfo=local).timestamp()
    np.testing.assert_allclose(np.diff(t), 1.0 / rate, atol=1e-6)  # unix seconds in 64 bits


@pytest.mark.parametrize(
    ("name", "rate_hz", "seconds"),
    [
        ("ax3_sample.cwa", 200.0, 298),
        ("ax6_sample.cwa", 100.0, 105),
        ("gnactv_sample.bin", 50.0, 18.5),  # 900 samples; its page times add 0.5 s
        ("neo.gt3x", 30.0, 600),
    ],
)
def test_device_files_read_as_traces(name: str, rate_hz: float, seconds: float) -> None:
    trace, _notes = read_trace(FILES / name)
    assert trace.rate_hz == rate_hz
    assert trace.duration_s == pytest.approx(seconds, abs=0.5)
    assert trace.t_s[0] > 1.5e9  # unix seconds, not seconds from the start
    gravity = np.median(np.linalg.norm(trace.accel_g, axis=1))
    assert 0.9 < gravity < 1.1


@pytest.mark.parametrize("suffix", [".cwa", ".bin", ".gt3x"])
def test_a_damaged_device_file_is_one_line(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"damaged{suffix}"
    path.write_bytes(np.random.default_rng(1).bytes(5000))
    with pytest.raises(TraceError, match=f"damaged\\{suffix}: unreadable") as info:
        read_trace(path)
    assert "\n" not in str(info.value)


def test_a_missing_reader_names_the_extra_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "actfast", None)  # as if not installed
    with pytest.raises(TraceError, match=r"pip install 'posture-monitor\[research\]'"):
        read_trace(FILES / "ax3_sample.cwa")
    monkeypatch.setitem(sys.modules, "pygt3x.reader", None)
    with pytest.raises(TraceError, match=r"GPL-3.0.*posture-monitor\[actigraph-legacy\]"):
        read_trace(FILES / "neo.gt3x")


@pytest.mark.parametrize("name", ["neo.gt3x", "ax6_sample.cwa"])
def test_posture_analyze_reads_device_files_quietly(name: str) -> None:
    import subprocess

    result = subprocess.run(
        [sys.executable, "-m", "posture.cli", "analyze", str(FILES / name)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "Sitting" in result.stdout
    assert "Traceback" not in result.stderr
    assert "WARNING" not in result.stderr  # the readers' own log lines stay out of the way
