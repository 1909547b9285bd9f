"""The recorder as the demo and the fault tests run it: a process of its own whose log is kept,
not left in a pipe."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from dashboards.influx import InfluxClient
from dashboards.settings import RecorderSettings
from posture.testing.recorder_process import RecorderProcess
from transport.settings import MqttSettings

pytestmark = pytest.mark.integration


def test_the_recorders_log_goes_to_a_file_that_never_fills_up(
    mqtt_settings: MqttSettings, influx: InfluxClient
) -> None:
    # a pipe nobody reads holds 64 KiB: a few minutes of health lines, then the recorder stops
    settings = RecorderSettings(client_id="kept-log", health_interval_s=0.5)
    with RecorderProcess(mqtt_settings, influx.settings, settings) as recorder:
        stderr = Path(f"/proc/{recorder.pid}/fd/2").readlink()
        assert not str(stderr).startswith("pipe:"), stderr
        deadline = time.monotonic() + 10.0
        while "health" not in recorder.output() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert "health received=0" in recorder.output()
