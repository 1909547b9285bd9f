"""Adaptive nudge timing kept in `state_dir`: saved atomically, loaded back, unusable files and
entries ignored with a warning, one wearer's entry forgotten with the others kept."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from sensor_gateway import nudge_timing

LEARNED = {"version": 1, "arms": {"1800": [2.5, 1.0], "2700": [0.0, 3.0]}}


def test_saved_timing_loads_back_and_wearers_without_it_are_left_out(tmp_path: Path) -> None:
    nudge_timing.save(tmp_path, {"w1": LEARNED, "w2": None})
    assert nudge_timing.load(tmp_path) == {"w1": LEARNED}
    assert [p.name for p in tmp_path.iterdir()] == [nudge_timing.FILE_NAME]  # no temporary left


@pytest.mark.parametrize("text", ["{not json", "[1, 2]", '"w1"'])
def test_an_unusable_file_is_ignored_with_a_warning(
    tmp_path: Path, text: str, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / nudge_timing.FILE_NAME).write_text(text)
    with caplog.at_level(logging.WARNING):
        assert nudge_timing.load(tmp_path) == {}
    assert "ignoring unusable nudge timing" in caplog.text


def test_an_entry_that_is_not_a_state_is_ignored(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / nudge_timing.FILE_NAME).write_text('{"w1": [1], "w2": {"version": 1}}')
    with caplog.at_level(logging.WARNING):
        assert nudge_timing.load(tmp_path) == {"w2": {"version": 1}}
    assert "wearer=w1" in caplog.text


def test_forgetting_a_wearer_keeps_everyone_else(tmp_path: Path) -> None:
    nudge_timing.save(tmp_path, {"w1": LEARNED, "w2": LEARNED})
    assert nudge_timing.forget(tmp_path, "w1") is True
    assert nudge_timing.forget(tmp_path, "w1") is False
    assert nudge_timing.held(tmp_path, "w1") is None
    assert nudge_timing.load(tmp_path) == {"w2": LEARNED}
    assert nudge_timing.forget(tmp_path / "none", "w2") is False  # no file: nothing held
