"""Shared fixtures: real mosquitto and influxd on free ports, and the shared data sets."""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from dashboards.influx import InfluxClient
from dashboards.settings import InfluxSettings
from posture.testing import servers
from transport.settings import MqttSettings

# `./dev lowest` (--hypothesis-profile lowest): old releases on a shared, busy machine; it
# checks that the lower bounds work, not how fast, so no example has a deadline there
settings.register_profile("lowest", deadline=None, max_examples=10)  # API, not properties

REPO = Path(__file__).resolve().parents[1]
DATASETS = Path(os.environ.get("POSTURE_DATASETS", REPO.parent / "shared" / "datasets"))


def dataset_files(name: str | None = None) -> list[Path]:
    """Every recording (CSV) of one data set, or of all of them."""
    pattern = f"{name}/*.csv" if name else "*/*.csv"
    files = sorted(DATASETS.glob(pattern))
    if not files:
        pytest.fail(f"no recordings found under {DATASETS} (set POSTURE_DATASETS)")
    return files


@pytest.fixture(autouse=True)
def _root_logger_restored() -> Iterator[None]:
    """The CLI run in-process (typer's CliRunner) points the root logger at a stream that is
    closed after the test; later tests' threads would log into it ("Logging error")."""
    root = logging.getLogger()
    level = root.level
    yield
    for handler in root.handlers[:]:
        if getattr(getattr(handler, "stream", None), "closed", False):
            root.removeHandler(handler)
    root.setLevel(level)


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[servers.Mosquitto]:
    """A private mosquitto shared by the session (tests use their own topic roots)."""
    server = servers.mosquitto(tmp_path_factory.mktemp("mosquitto"))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def influxd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[servers.Influxd]:
    """A private influxd shared by the session (tests use their own databases)."""
    server = servers.influxd(tmp_path_factory.mktemp("influxd"))
    yield server
    server.stop()


@pytest.fixture
def mqtt_settings(broker: servers.Mosquitto) -> MqttSettings:
    """Settings for the session broker with a topic root of this test's own."""
    assert broker.alive(), "the session's mosquitto died"
    return MqttSettings(
        host="127.0.0.1", port=broker.port, topic_root=f"test/{uuid.uuid4().hex[:8]}/v1"
    )


@pytest.fixture
def influx(influxd: servers.Influxd) -> Iterator[InfluxClient]:
    """A client on a database of this test's own, dropped afterwards."""
    assert influxd.alive(), "the session's influxd died"
    client = InfluxClient(InfluxSettings(url=influxd.url, database=f"test_{uuid.uuid4().hex[:8]}"))
    client.ensure_database()
    yield client
    client.query(f'DROP DATABASE "{client.settings.database}"', method="POST")
    client.close()
