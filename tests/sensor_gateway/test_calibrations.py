"""Wearers' calibrations survive a gateway restart; a damaged file is ignored, not fatal."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from analytics.orientation import Calibration
from analytics.records import Placement
from sensor_gateway import calibrations


def test_saved_calibrations_load_back(tmp_path: Path) -> None:
    up = np.array([0.0, 0.6, 0.8])
    saved = {
        "w1": {
            Placement.TRUNK: Calibration(
                12.0, up, "walking", Placement.TRUNK, np.array([1.0, 0, 0])
            )
        }
    }
    calibrations.save(tmp_path, saved)
    loaded = calibrations.load(tmp_path)
    got = loaded["w1"][Placement.TRUNK]
    np.testing.assert_allclose(got.up, up)
    np.testing.assert_allclose(got.forward, [1.0, 0, 0])
    assert got.source == "restored"


@pytest.mark.parametrize(
    "content",
    [
        "{not json",
        '{"w1": {"trunk": {"t_s": 1, "up": [0, 0]}}}',
        '{"w1": {"hip": {"t_s": 1, "up": [0, 0, 1]}}}',
        "[]",
    ],
)
def test_a_damaged_file_is_ignored(
    tmp_path: Path, content: str, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / calibrations.FILE_NAME).write_text(content)
    assert calibrations.load(tmp_path) == {}
    assert "ignoring unusable calibrations" in caplog.text


def test_no_file_means_no_calibrations(tmp_path: Path) -> None:
    assert calibrations.load(tmp_path / "nothing-here") == {}
