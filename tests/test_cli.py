"""The command line: help, `analyze` on every recording, one-line errors with exit codes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from posture.cli import app
from posture.servers import free_port
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
