"""The shape of the code: the analytics core imports nothing from the shells and does no I/O."""

from __future__ import annotations

import ast
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
