"""`posture run`: the gateway and the recorder in one process, for a single machine."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from dashboards.influx import InfluxClient
from dashboards.readback import wearer_records
from tests.conftest import DATASETS
from transport.settings import MqttSettings

pytestmark = pytest.mark.integration


def test_run_streams_virtual_sensors_into_influxdb(
    mqtt_settings: MqttSettings, influx: InfluxClient
) -> None:
    env = {
        **os.environ,
        "POSTURE_MQTT__HOST": mqtt_settings.host,
        "POSTURE_MQTT__PORT": str(mqtt_settings.port),
        "POSTURE_MQTT__TOPIC_ROOT": mqtt_settings.topic_root,
        "POSTURE_INFLUX__URL": influx.url,
        "POSTURE_INFLUX__DATABASE": influx.settings.database,
        "POSTURE_RECORDER__CLIENT_ID": f"run-{mqtt_settings.topic_root.split('/')[1]}",
    }
    recording = DATASETS / "uci_hapt_waist/user01_exp01.csv"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "posture.cli",
            "run",
            "--virtual",
            f"polar_h10={recording}",
            "--speed",
            "20",
            "--seconds",
            "12",
        ],
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    events, minutes = wearer_records(influx, "v01")
    assert len(minutes) >= 3, "about 4 minutes of the recording streamed, recorded in one process"
    assert events
    assert "recorder:" in result.stdout
