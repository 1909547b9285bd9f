"""`posture recorder` as an operator meets it: help, and one-line errors with exit codes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from posture.cli import app
from posture.testing.servers import free_port

runner = CliRunner()


def posture(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("POSTURE_")}
    return subprocess.run(
        [sys.executable, "-m", "posture.cli", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=clean | {"POSTURE_MQTT__CONNECT_TIMEOUT_S": "3"} | env,
    )


def test_help_describes_the_recorder() -> None:
    result = runner.invoke(app, ["recorder", "--help"])
    assert result.exit_code == 0
    for option in ("--client-id", "--share-group"):
        assert option in result.output


@pytest.mark.parametrize(
    ("args", "env", "code", "text"),
    [
        (("recorder",), {"POSTURE_MQTT__PORT": "0"}, 2, "invalid configuration: mqtt.port"),
        (("recorder", "--share-group", "a/b"), {}, 2, "share group 'a/b' must be"),
        (("recorder",), {"POSTURE_INFLUX__DATABASE": "x;y"}, 2, "is not a plain name"),
        (("recorder",), {"POSTURE_INFLUX__TOKEN_FILE": "/no/such/token"}, 2, "cannot read"),
        (
            ("recorder",),
            {"POSTURE_MQTT__PASSWORD_FILE": "/no/such/password", "POSTURE_MQTT__USERNAME": "u"},
            2,
            "mqtt.password_file: cannot read secret file",
        ),
        (
            ("recorder",),
            {"POSTURE_MQTT__TLS": "true", "POSTURE_MQTT__CA_FILE": "/no/such/ca.crt"},
            2,
            "mqtt TLS files",
        ),
        (
            ("recorder",),
            {"POSTURE_MQTT__HOST": "127.0.0.1", "POSTURE_MQTT__PORT": "<free>"},
            1,
            "cannot reach MQTT broker at 127.0.0.1",
        ),
    ],
    ids=[
        "bad-port",
        "bad-share-group",
        "bad-database",
        "missing-token-file",
        "missing-password-file",
        "missing-ca-file",
        "unreachable-broker",
    ],
)
def test_bad_setup_is_one_line_and_an_exit_code(
    args: tuple[str, ...], env: dict[str, str], code: int, text: str, tmp_path: Path
) -> None:
    env = {k: str(free_port()) if v == "<free>" else v for k, v in env.items()}
    result = posture(*args, env=env)
    assert result.returncode == code, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert text in lines[0]
