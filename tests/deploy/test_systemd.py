"""The systemd units of deploy/systemd: systemd reads them without a complaint, and they start
the right commands after the right targets."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from posture.cli import app

UNITS = Path(__file__).resolve().parents[2] / "deploy" / "systemd"
COMMANDS = {c.name or (c.callback.__name__ if c.callback else "") for c in app.registered_commands}


def unit(name: str) -> dict[str, dict[str, list[str]]]:
    """Section -> key -> values (a key such as Environment may be given more than once)."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] = {}
    for raw in (UNITS / name).read_text().splitlines():
        line = raw.strip()
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
        elif line and not line.startswith(("#", ";")):
            key, _, value = line.partition("=")
            current.setdefault(key, []).append(value)
    return sections


@pytest.mark.parametrize(
    ("name", "command"),
    [("posture-gateway.service", "gateway"), ("posture-recorder.service", "recorder")],
)
def test_each_unit_runs_its_posture_command(name: str, command: str) -> None:
    service = {k: v[-1] for k, v in unit(name)["Service"].items()}
    argv = service["ExecStart"].split()
    assert argv[0].endswith("/bin/posture")
    assert command in argv[1:]
    assert command in COMMANDS
    assert service["RestartPreventExitStatus"] == "2"  # a bad configuration is not retried
    assert service["User"] == "posture"
    assert service["EnvironmentFile"].startswith("-/etc/posture/")  # secrets, not in the unit


def test_the_gateway_starts_after_bluetooth_and_may_use_the_adapter() -> None:
    gateway = unit("posture-gateway.service")
    assert "bluetooth.target" in gateway["Unit"]["After"][0].split()
    assert "bluetooth" in gateway["Service"]["SupplementaryGroups"][0].split()
    assert "POSTURE_GATEWAY__STATE_DIR=/var/lib/posture" in gateway["Service"]["Environment"]
    assert gateway["Service"]["StateDirectory"] == ["posture"]


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not here")
def test_systemd_reads_the_units_without_a_complaint(tmp_path: Path) -> None:
    posture = Path(sys.executable).with_name("posture")
    for path in sorted(UNITS.glob("*.service")):
        text = path.read_text().replace("/opt/posture/bin/posture", str(posture))
        (tmp_path / path.name).write_text(text)
    done = subprocess.run(
        ["systemd-analyze", "verify", *sorted(str(p) for p in tmp_path.glob("*.service"))],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0
    assert done.stderr.strip() == ""
