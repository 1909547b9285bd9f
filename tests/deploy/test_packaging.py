"""The packaging: each role's extra holds what that role imports, the lock file pins every declared
dependency within its range, and the pre-commit hooks run the locked tools."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
import zipfile
from functools import cache
from importlib import metadata
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parents[2]
PROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
LOCK = REPO / "deploy" / "constraints.txt"

# What each role runs, as the modules its commands import (the CLI imports the rest lazily).
ROLES: dict[str, list[str]] = {
    "": ["posture.cli", "posture.analysis", "analytics.offline", "posture.notify"],
    "gateway": [
        "posture.cli",
        "sensor_gateway.runner",
        "sensor_gateway.service",
        "sensor_gateway.gateway",
        "sensor_gateway.publisher",
        "sensor_gateway.homeassistant",
        "sensor_gateway.scanning",
        "sensor_gateway.recording",
    ],
    "recorder": [
        "posture.cli",
        "dashboards.recorder",
        "dashboards.influx",
        "dashboards.recorder.health",
    ],
    "report": ["posture.cli", "dashboards.report", "dashboards.readback", "dashboards.influx"],
    "notify": ["posture.cli", "posture.notify"],
}


def requirements(extra: str) -> list[Requirement]:
    """The requirements of the base (extra "") or of one extra, with the extras it names."""
    own = PROJECT["dependencies"] if not extra else PROJECT["optional-dependencies"][extra]
    out = []
    for text in own:
        req = Requirement(text)
        if canonicalize_name(req.name) == canonicalize_name(PROJECT["name"]):
            for name in req.extras:
                out += requirements(name)
        elif req.marker is None or req.marker.evaluate():
            out.append(req)
    return out


@cache
def installed_closure(name: str) -> frozenset[str]:
    """A distribution and everything it pulls in on this machine."""
    found = {canonicalize_name(name)}
    for text in metadata.requires(name) or []:
        req = Requirement(text)
        if req.marker is None or req.marker.evaluate({"extra": ""}):
            found |= installed_closure(req.name)
    return frozenset(found)


def top_modules(dists: set[str]) -> set[str]:
    return {
        module
        for module, owners in metadata.packages_distributions().items()
        if not module.startswith("_") and {canonicalize_name(o) for o in owners} & dists
    }


@pytest.mark.parametrize("role", sorted(ROLES), ids=lambda r: r or "base")
def test_each_role_runs_without_the_other_roles_dependencies(role: str) -> None:
    declared = {
        canonicalize_name(r.name)
        for extra in ["", *PROJECT["optional-dependencies"]]
        if extra != "dev"
        for r in requirements(extra)
    }
    present: set[str] = set()
    for req in requirements("") + (requirements(role) if role else []):
        present |= installed_closure(req.name)
    absent = top_modules(declared - present) - top_modules(present)
    assert absent, "nothing to leave out: the test would prove nothing"
    imports = "\n".join(f"import {module}" for module in ROLES[role])
    done = run_without(absent, imports)
    assert done.returncode == 0, done.stderr.strip().splitlines()[-1]


def run_without(absent: set[str], code: str) -> subprocess.CompletedProcess[str]:
    """Run `code` in a fresh interpreter in which the `absent` top-level modules cannot load."""
    script = f"""
import importlib.abc, sys
class Absent(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {sorted(absent)!r}:
            raise ModuleNotFoundError(f"{{name}} is not installed", name=name)
sys.meta_path.insert(0, Absent())
{code}
"""
    return subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=120
    )


def test_notify_without_dbus_fast_falls_back_to_the_terminal() -> None:
    done = run_without(
        {"dbus_fast"},
        "import asyncio\n"
        "from rich.console import Console\n"
        "from posture.notify import pick_notifier\n"
        "print(asyncio.run(pick_notifier(Console())).name)",
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "terminal"


def test_the_gateway_image_carries_no_plotting_or_scipy() -> None:
    gateway = {canonicalize_name(r.name) for r in requirements("") + requirements("gateway")}
    assert not gateway & {"matplotlib", "scipy", "influxdb-client", "bumble"}


def locked() -> dict[str, list[str]]:
    """Package -> pinned versions (several where markers choose by platform or Python)."""
    pins: dict[str, list[str]] = {}
    for line in LOCK.read_text().splitlines():
        if line and not line.startswith((" ", "#")):
            req = Requirement(line)
            (spec,) = req.specifier
            assert spec.operator == "==", line
            pins.setdefault(canonicalize_name(req.name), []).append(spec.version)
    return pins


@pytest.mark.parametrize(
    "extra", ["", *PROJECT["optional-dependencies"]], ids=lambda e: e or "base"
)
def test_the_lock_pins_every_declared_dependency_within_its_range(extra: str) -> None:
    pins = locked()
    own = PROJECT["dependencies"] if not extra else PROJECT["optional-dependencies"][extra]
    for req in map(Requirement, own):
        name = canonicalize_name(req.name)
        if name == canonicalize_name(PROJECT["name"]):
            continue
        assert name in pins, f"{req} is not in {LOCK.name}: run ./dev lock"
        assert all(req.specifier.contains(v) for v in pins[name]), (
            f"{LOCK.name} pins {name} at {pins[name]}, outside {req}: run ./dev lock"
        )


def test_the_pre_commit_hooks_run_the_locked_ruff_and_the_projects_mypy() -> None:
    config = yaml.safe_load((REPO / ".pre-commit-config.yaml").read_text())
    hooks = {hook["id"]: hook for repo in config["repos"] for hook in repo["hooks"]}
    assert {"ruff", "ruff-format", "mypy"} <= set(hooks)
    (ruff_version,) = locked()["ruff"]
    for name in ("ruff", "ruff-format"):
        assert hooks[name]["additional_dependencies"] == [f"ruff=={ruff_version}"]
    assert hooks["mypy"]["language"] == "system"  # mypy --strict needs the project's own imports
    assert hooks["mypy"]["pass_filenames"] is False  # the packages in pyproject.toml, as ./dev


def test_the_image_installs_a_role_extra_at_the_locked_versions() -> None:
    dockerfile = (REPO / "Dockerfile").read_text()
    assert "--constraint deploy/constraints.txt" in dockerfile
    assert '".[${ROLE}]"' in dockerfile
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())["services"]
    for name in ("gateway", "recorder"):
        assert compose[name]["build"]["args"]["ROLE"] == name
        assert name in PROJECT["optional-dependencies"]


def test_the_wheel_holds_every_package_and_the_dashboards(tmp_path: Path) -> None:
    """What an image installs: a wheel of the project, built by the project's build backend."""
    source = tmp_path / "source"  # a clean copy: a build/ left in the checkout would leak in
    source.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(REPO / name, source / name)
    for top in ("analytics", "transport", "sensor_gateway", "dashboards", "posture"):
        shutil.copytree(REPO / top, source / top, ignore=shutil.ignore_patterns("__pycache__"))
    uv = Path(sys.executable).with_name("uv")  # the dev extra's
    done = subprocess.run(
        [str(uv), "build", "--quiet", "--wheel", "--out-dir", str(tmp_path), str(source)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    (wheel,) = tmp_path.glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    packages = {
        str(init.relative_to(REPO))
        for top in ("analytics", "transport", "sensor_gateway", "dashboards", "posture")
        for init in (REPO / top).rglob("__init__.py")
    }
    assert packages - names == set()
    boards = {str(p.relative_to(REPO)) for p in (REPO / "dashboards" / "grafana").rglob("*.json")}
    assert boards - names == set()
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
