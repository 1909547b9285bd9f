"""The recorder as the demo runs it: a process of its own whose log is kept, not left in a pipe."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from dashboards.influx import InfluxClient
from posture.recorder_process import RecorderProcess
from posture.settings import MqttSettings, RecorderSettings

pytestmark = pytest.mark.integration


def test_the_recorders_log_goes_to_a_file_that_never_fills_up(
    mqtt_settings: MqttSettings, influx: InfluxClient
) -> None:
    # a pipe nobody reads holds 64 KiB: a few minutes of health lines, then the recorder stops
    with RecorderProcess(mqtt_settings, influx.settings, RecorderSettings()) as recorder:
        stderr = Path(f"/proc/{recorder.pid}/fd/2").readlink()
        assert not str(stderr).startswith("pipe:"), stderr
        deadline = time.monotonic() + 10.0
        while "health" not in recorder.output() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert "health received=0" in recorder.output()
