"""The command line: help, `analyze` on every recording, one-line errors with exit codes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from analytics.records import Placement
from posture.cli import app
from posture.testing.servers import free_port
from tests.conftest import dataset_files

runner = CliRunner()


def posture(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the installed `posture` command as a user would."""
    command = [sys.executable, "-m", "posture.cli", *args]
    return subprocess.run(
        command, capture_output=True, text=True, timeout=120, env={**os.environ, **(env or {})}
    )


def test_help_lists_the_commands() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("analyze", "demo"):
        assert command in result.output


@pytest.mark.parametrize("path", dataset_files(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_analyze_works_on_every_recording(path: Path) -> None:
    placement = "thigh" if "thigh" in path.parent.name else "trunk"
    result = runner.invoke(app, ["analyze", str(path), "--placement", placement])
    assert result.exit_code == 0, result.output
    assert "Sitting" in result.output
    assert "Longest" in result.output or "longest" in result.output


def _one_line_error(result: subprocess.CompletedProcess[str], code: int, text: str) -> None:
    assert result.returncode == code, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert text in lines[0]


@pytest.mark.parametrize(
    ("content", "text"),
    [
        ("t_s,ax,ay\n0,0,0\n0.02,0,0\n", "missing column(s) az"),
        ("t_s,ax,ay,az\n0,0,0,1\n0.02,zero,0,1\n", "line 3: ax is not a number"),
        ("t_s,ax,ay,az\n0,0,0,1\n0.04,0,0,1\n0.02,0,0,1\n", "line 4: time goes backwards"),
    ],
    ids=["missing-column", "text-in-number", "time-backwards"],
)
def test_bad_trace_is_one_line_and_exit_1(tmp_path: Path, content: str, text: str) -> None:
    trace = tmp_path / "bad.csv"
    trace.write_text(content)
    _one_line_error(posture("analyze", str(trace)), 1, text)


@pytest.mark.parametrize(
    ("content", "text"),
    [
        ("t_s,ax,ay,az\n0,0,0,1\n0.02,0,0,1\n".encode("utf-16"), "is UTF-16 text"),
        (b"\x00" * 4096, "is binary"),
        (b"t_s,ax,ay,az\n0,0,0,1\n1e300,0,0,1\n", "line 3: t_s is 1e+300, outside"),
        (b"t_s,ax,ay,az\n0,0,0,1\n0.02,1e30,0,1\n", "line 3: ax is 1e+30 g, beyond"),
    ],
    ids=["utf-16", "zeros", "absurd-time", "absurd-acceleration"],
)
def test_hostile_trace_files_are_one_line_and_exit_1(
    tmp_path: Path, content: bytes, text: str
) -> None:
    trace = tmp_path / "bad.csv"
    trace.write_bytes(content)
    _one_line_error(posture("analyze", str(trace)), 1, text)


def test_a_device_is_not_a_regular_file() -> None:
    _one_line_error(posture("analyze", "/dev/zero"), 1, "/dev/zero: not a regular file")


def test_config_value_of_the_wrong_type_is_exit_2(tmp_path: Path) -> None:
    config = tmp_path / "p.toml"
    config.write_text('[mqtt]\nport = "high"\n')
    _one_line_error(posture("--config", str(config), "analyze", "x.csv"), 2, "mqtt.port")


def test_config_path_that_does_not_exist_is_exit_2(tmp_path: Path) -> None:
    _one_line_error(
        posture("--config", str(tmp_path / "nope.toml"), "analyze", "x.csv"),
        2,
        "config file not found",
    )


def test_config_error_from_the_environment_is_exit_2() -> None:
    result = posture("analyze", "x.csv", env={"POSTURE_MQTT__PORT": "many"})
    _one_line_error(result, 2, "POSTURE_MQTT__PORT")


def test_unreachable_broker_is_one_line_and_exit_1(tmp_path: Path) -> None:
    env = {
        "POSTURE_MQTT__HOST": "127.0.0.1",
        "POSTURE_MQTT__PORT": str(free_port()),
        "POSTURE_MQTT__CONNECT_TIMEOUT_S": "3",
    }
    result = posture("demo", "--external", "--hours", "0.2", env=env)
    _one_line_error(result, 1, "cannot reach MQTT broker at 127.0.0.1")


def test_analyze_writes_epochs_and_events(tmp_path: Path) -> None:
    from analytics.contract import decode

    trace = dataset_files("forth_trace_torso")[0]
    epochs, events = tmp_path / "epochs.csv", tmp_path / "events.jsonl"
    result = runner.invoke(
        app, ["analyze", str(trace), "--epochs", str(epochs), "--events", str(events)]
    )
    assert result.exit_code == 0, result.output
    rows = epochs.read_text().splitlines()
    assert rows[0] == "t_s,posture,flexion_deg,lateral_deg,slouch_deg,slouched"
    assert len(rows) - 1 == 1320  # one row per second of the recording
    first = rows[1].split(",")
    assert first[0] == "0"
    assert first[1] in {"sitting", "standing", "walking", "lying", "not_worn", "unknown"}
    assert {r.split(",")[5] for r in rows[1:]} <= {"0", "1"}
    known = [r.split(",") for r in rows[1:] if r.split(",")[3]]
    assert known  # the sideways bend once the forward direction is learned
    for row in known:  # the slouch deviation is at least the sideways bend
        assert float(row[4]) >= abs(float(row[3])) - 0.01
    postures = {r.split(",")[1] for r in rows[1:]}
    assert {"sitting", "standing", "walking"} <= postures
    lines = events.read_text().splitlines()
    assert lines
    kinds = {decode(line.encode()).record.kind.value for line in lines}  # type: ignore[union-attr]
    assert {"posture_bout", "sitting_bout", "calibration"} <= kinds


def test_analyze_with_a_thigh_trace_and_a_manual_calibration(tmp_path: Path) -> None:
    from sensor_gateway.simulator import simulate_day
    from sensor_gateway.traces import write_trace

    day = simulate_day(seed=3, hours=0.5, rate_hz=25.0)
    trunk, thigh = tmp_path / "trunk.csv", tmp_path / "thigh.csv"
    write_trace(trunk, day.traces[Placement.TRUNK])
    write_trace(thigh, day.traces[Placement.THIGH])
    epochs = tmp_path / "epochs.csv"
    result = runner.invoke(
        app,
        [
            "analyze",
            str(trunk),
            "--thigh",
            str(thigh),
            "--calibrate-first",
            "5",
            "--epochs",
            str(epochs),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "trunk" in result.output
    assert "thigh" in result.output
    rows = epochs.read_text().splitlines()[1:]
    assert rows[0].split(",")[2] != ""  # calibrated from the first second on


def test_analyze_with_a_declared_thigh_mount_decides_from_the_first_second(
    tmp_path: Path,
) -> None:
    from analytics.records import Posture
    from sensor_gateway.simulator import Activity, simulate_day
    from sensor_gateway.traces import write_trace

    sit, stand = Posture.SITTING, Posture.STANDING
    schedule = [Activity(p, s) for p, s in ((sit, 10), (stand, 9), (sit, 12), (stand, 10))]
    day = simulate_day(
        seed=5, schedule=schedule, placements=(Placement.THIGH,), mounts={Placement.THIGH: "-y +x"}
    )
    thigh, epochs = tmp_path / "thigh.csv", tmp_path / "epochs.csv"
    write_trace(thigh, day.traces[Placement.THIGH])
    args = ["analyze", str(thigh), "--placement", "thigh", "--epochs", str(epochs)]
    result = runner.invoke(app, [*args, "--thigh-mount", "-y +x"])
    assert result.exit_code == 0, result.output
    said = [r.split(",")[1] for r in epochs.read_text().splitlines()[1:]]
    assert said[:9] == ["sitting"] * 9
    assert said[12:18] == ["standing"] * 6
    result = runner.invoke(app, args)  # auto: no walk, no reference
    assert result.exit_code == 0, result.output
    assert {r.split(",")[1] for r in epochs.read_text().splitlines()[1:]} == {"unknown"}


def test_analyze_refuses_a_bad_thigh_mount(tmp_path: Path) -> None:
    trace = dataset_files("forth_trace_torso")[0]
    result = posture("analyze", str(trace), "--placement", "thigh", "--thigh-mount", "+x +x")
    _one_line_error(result, 2, "--thigh-mount")


def test_analyze_refuses_a_thigh_trace_with_a_thigh_placement(tmp_path: Path) -> None:
    trace = dataset_files("forth_trace_torso")[0]
    result = runner.invoke(
        app, ["analyze", str(trace), "--placement", "thigh", "--thigh", str(trace)]
    )
    assert result.exit_code == 2


def test_config_after_the_command_is_honoured(tmp_path: Path) -> None:
    port = free_port()  # nothing listens there
    config = tmp_path / "p.toml"
    config.write_text(f"[mqtt]\nport = {port}\n")
    result = posture("cmd", "snooze", "30", "--wearer", "w1", "--config", str(config))
    _one_line_error(result, 1, f"localhost:{port}")


@pytest.mark.parametrize("command", ["run", "gateway", "recorder", "analyze x.csv", "notify -w w1"])
def test_invalid_config_after_the_command_is_exit_2(tmp_path: Path, command: str) -> None:
    config = tmp_path / "p.toml"
    config.write_text("[mqtt]\nhots = 'x'\n")
    _one_line_error(posture(*command.split(), "-c", str(config)), 2, "mqtt.hots")
