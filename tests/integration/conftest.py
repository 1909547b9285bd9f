"""The fleet the dashboard and report tests share (built once per session), and no recorder
process outliving its test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from posture.testing import servers
from posture.testing.recorder_process import RecorderProcess
from tests.shipped_broker import ShippedBroker, shipped_broker

from .fleet_data import Fleet, build_fleet


@pytest.fixture(scope="session")
def fleet(broker: servers.Mosquitto, influxd: servers.Influxd) -> Iterator[Fleet]:
    built = build_fleet(broker, influxd)
    yield built
    built.influx.query(f'DROP DATABASE "{built.influx.settings.database}"', method="POST")
    built.influx.close()


@pytest.fixture(scope="module")
def shipped(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ShippedBroker]:
    """The shipped broker configuration, running for the tests of one module."""
    broker = shipped_broker(tmp_path_factory.mktemp("shipped-mosquitto"))
    yield broker
    broker.stop()


@pytest.fixture(autouse=True)
def _no_recorder_left_running() -> Iterator[None]:
    yield
    while RecorderProcess.started:
        RecorderProcess.started.pop().stop()
