"""The real-service harness itself: free ports, liveness, a port taken by someone else."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from posture.testing import servers

pytestmark = pytest.mark.integration


def test_mosquitto_runs_on_a_free_port_and_stops(tmp_path: Path) -> None:
    server = servers.mosquitto(tmp_path)
    try:
        assert server.alive()
        with socket.create_connection(("127.0.0.1", server.port), 1.0):
            pass
    finally:
        server.stop()
    assert not server.alive()
    with (
        pytest.raises(ConnectionRefusedError),
        socket.create_connection(("127.0.0.1", server.port), 0.5),
    ):
        pass


def test_influxd_answers_ping_and_stops(tmp_path: Path) -> None:
    server = servers.influxd(tmp_path)
    try:
        assert server._answers()
    finally:
        server.stop()
    assert not server._answers()


def test_a_port_that_belongs_to_someone_else_is_refused(tmp_path: Path) -> None:
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        taken = other.getsockname()[1]
        with pytest.raises(servers.ServerError, match="mosquitto"):
            servers.mosquitto(tmp_path, port=taken)


def test_missing_binary_names_the_debian_package() -> None:
    with pytest.raises(servers.ServerError, match="apt-get install"):
        servers.find_binary("no-such-server-binary")
