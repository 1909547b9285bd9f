"""`posture scan`, `record` and `gateway` on virtual sensors, as a user runs them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from sensor_gateway.profiles import get_profile
from sensor_gateway.traces import read_trace
from tests.conftest import DATASETS

RECORDING = DATASETS / "uci_hapt_waist/user01_exp01.csv"


def posture(
    *args: str, timeout: float = 60, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "posture.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "COLUMNS": "200", **(env or {})},
    )


def test_scan_lists_virtual_sensors_with_profile_address_and_rssi() -> None:
    result = posture(
        "scan",
        "--seconds",
        "1",
        "--virtual",
        f"microbit={RECORDING}",
        "--virtual",
        f"polar_h10={RECORDING}",
    )
    assert result.returncode == 0, result.stderr
    rows = [line.split() for line in result.stdout.splitlines()[1:]]
    assert {r[0] for r in rows} == {"microbit", "polar_h10"}
    assert all(r[-2] == "-50" and r[-1] == "dBm" for r in rows)


def test_record_writes_a_trace_and_the_raw_notifications(tmp_path: Path) -> None:
    out, raw = tmp_path / "rec.csv", tmp_path / "raw.csv"
    result = posture(
        "record",
        str(out),
        "--raw",
        str(raw),
        "--seconds",
        "3",
        "--virtual",
        f"thingy52={RECORDING}",
    )
    assert result.returncode == 0, result.stderr
    trace, _ = read_trace(out)  # a valid trace file
    assert len(trace) > 60
    rows = np.loadtxt(out, delimiter=",", skiprows=1)
    source, _ = read_trace(RECORDING)
    # the recorded values are the recording's, in the Thingy's Q6.10 precision, in order
    first = int(np.argmin(np.abs(source.accel_g - rows[0, 1:]).sum(axis=1)))
    np.testing.assert_allclose(
        rows[:, 1:], source.accel_g[first : first + len(rows)], atol=1 / 1024 + 1e-4
    )
    assert np.diff(rows[:, 0]).max() < 0.05
    lines = raw.read_text().splitlines()
    assert lines[0] == "received_s,payload_hex"
    decoded = get_profile("thingy52").decode(bytes.fromhex(lines[1].split(",")[1]))
    np.testing.assert_allclose(decoded.accel_g[0], rows[0, 1:], atol=1e-4)


@pytest.mark.parametrize(
    ("args", "text"),
    [
        (["scan", "--virtual", "fitbit=x.csv"], "unknown profile 'fitbit'"),
        (["scan", "--virtual", "microbit"], "expected PROFILE=TRACE.csv"),
        (["gateway"], "no sensors configured ([[gateway.sensors]])"),
        (["record", "out.csv"], "give --address"),
    ],
)
def test_bad_usage_is_one_line_and_exit_2(args: list[str], text: str) -> None:
    result = posture(*args)
    assert result.returncode == 2, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert text in result.stderr


def test_a_bad_trace_for_a_virtual_sensor_is_one_line_and_exit_1(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("t_s,ax\n0,1\n")
    result = posture("scan", "--seconds", "0.5", "--virtual", f"microbit={bad}")
    assert result.returncode == 1
    assert "missing column(s)" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "args",
    [["scan"], ["record", "out.csv", "--address", "AA:BB:CC:DD:EE:FF", "--profile", "microbit"]],
    ids=["scan", "record"],
)
def test_without_bluetooth_it_says_so_at_once(tmp_path: Path, args: list[str]) -> None:
    # BlueZ is reached over the system D-Bus; point that at a socket that does not exist
    no_bus = {"DBUS_SYSTEM_BUS_ADDRESS": f"unix:path={tmp_path}/no-system-bus"}
    result = posture(*args, "--seconds", "30", timeout=20, env=no_bus)
    assert result.returncode == 1, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Bluetooth is not available" in lines[0]
