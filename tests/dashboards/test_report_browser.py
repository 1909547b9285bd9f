"""`posture report` on every recording in the shared data sets writes a page that renders in
headless Chromium with every plot visible and nothing fetched from the network."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from typer.testing import CliRunner

from dashboards.plots import PLOTS
from posture.cli import app
from tests.browser import Figure, chromium, look
from tests.conftest import dataset_files

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def driver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[webdriver.Chrome]:
    with chromium(tmp_path_factory.mktemp("chromium-profile")) as d:
        yield d


def assert_every_plot_shows(figures: list[Figure], resources: list[str], what: str) -> None:
    assert [f.id for f in figures] == [f"plot-{name}" for name in PLOTS], what
    for f in figures:
        assert f.visible, (what, f)
        assert f.width >= 600, (what, f)
        assert f.height >= 120, (what, f)
        assert f.shapes >= 10, (what, f)  # axes, ticks, bars, lines
        assert f.texts >= 3, (what, f)  # tick labels and legend
        assert f.colours >= 8, (what, f)
        assert f.inked >= 0.02, (what, f)
    assert resources == [], what


@pytest.mark.parametrize("recording", dataset_files(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_recording_gives_a_report_a_browser_shows(
    driver: webdriver.Chrome, tmp_path: Path, recording: Path
) -> None:
    out = tmp_path / "report.html"
    placement = "thigh" if "thigh" in recording.parent.name else "trunk"  # per the data set README
    result = CliRunner().invoke(
        app, ["report", str(recording), "--out", str(out), "--placement", placement]
    )
    assert result.exit_code == 0, result.output
    figures, resources = look(driver, out)
    assert_every_plot_shows(figures, resources, str(recording))


def test_the_data_sets_are_all_there() -> None:
    assert len(dataset_files()) > 100
