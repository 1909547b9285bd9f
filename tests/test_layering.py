"""The shape of the code: the analytics core imports nothing from the shells and does no I/O."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

CORE = Path(__file__).resolve().parents[1] / "analytics"
FORBIDDEN = {
    "sensor_gateway",
    "dashboards",
    "posture",  # the shells around the core
    "asyncio",
    "bleak",
    "paho",
    "influxdb_client",
    "socket",
    "subprocess",
    "threading",
    "time",
    "logging",
    "random",
}


@pytest.mark.parametrize("module", sorted(CORE.glob("*.py")), ids=lambda p: p.name)
def test_the_core_imports_only_numpy_scipy_and_the_standard_library(module: Path) -> None:
    tree = ast.parse(module.read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            imported.add(node.module.split(".")[0])
    assert not imported & FORBIDDEN, f"{module.name} imports {sorted(imported & FORBIDDEN)}"
    assert "open(" not in module.read_text(), f"{module.name} does file I/O"


# Who may import whom: each package only those below it.
#   analytics  <-  transport  <-  {sensor_gateway, dashboards}  <-  posture
ALLOWED = {
    "analytics": set(),
    "transport": {"analytics"},
    "sensor_gateway": {"analytics", "transport"},
    "dashboards": {"analytics", "transport"},
    "posture": {"analytics", "transport", "sensor_gateway", "dashboards"},
}
REPO = CORE.parent


def _imports(module: Path, package: str) -> set[str]:
    """The project packages `module` imports (absolute imports; relative ones stay inside)."""
    found = set()
    for node in ast.walk(ast.parse(module.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return (found & set(ALLOWED)) - {package}


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_dependencies_run_one_way(package: str) -> None:
    wrong = {
        str(module.relative_to(REPO)): sorted(_imports(module, package) - ALLOWED[package])
        for module in (REPO / package).rglob("*.py")
    }
    assert not {k: v for k, v in wrong.items() if v}, wrong


@pytest.mark.parametrize("package", ["sensor_gateway", "dashboards"])
def test_every_name_at_a_front_door_is_there(package: str) -> None:
    module = importlib.import_module(package)
    assert sorted(module.__all__) == sorted(module._EXPORTS)
    for name in module.__all__:
        assert getattr(module, name) is not None, name


def test_a_front_door_loads_nothing_before_it_is_asked() -> None:
    """Reading a trace does not load the radio, MQTT or InfluxDB libraries."""
    probe = (
        "import sys, sensor_gateway, dashboards, sensor_gateway.traces; "
        "heavy = ('bleak', 'paho', 'bumble', 'influxdb_client'); "
        "print(sorted(m for m in heavy if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=REPO, check=True
    )
    assert done.stdout.strip() == "[]"
