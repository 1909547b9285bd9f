"""The fleet the dashboard and report tests share (built once per session), and no recorder
process outliving its test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from posture import servers

from .fleet_data import Fleet, build_fleet
from .recording import RecorderProcess


@pytest.fixture(scope="session")
def fleet(broker: servers.Mosquitto, influxd: servers.Influxd) -> Iterator[Fleet]:
    built = build_fleet(broker, influxd)
    yield built
    built.influx.query(f'DROP DATABASE "{built.influx.settings.database}"', method="POST")
    built.influx.close()


@pytest.fixture(autouse=True)
def _no_recorder_left_running() -> Iterator[None]:
    yield
    while RecorderProcess.started:
        RecorderProcess.started.pop().stop()
