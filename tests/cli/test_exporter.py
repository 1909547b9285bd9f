"""The HTTP port: /healthz and Prometheus /metrics, on its own and on the real services.

The unit tests serve made-up parts on a loopback port. The integration tests run `posture
recorder` and `posture gateway` (virtual sensors) against the real mosquitto and influxd of the
suite, with the port on, and read both paths as Prometheus and a container healthcheck would.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from prometheus_client.core import CounterMetricFamily
from prometheus_client.parser import text_string_to_metric_families

from dashboards.influx import InfluxClient, Latency
from posture.exporter import Health, HealthPort, Part
from posture.testing import servers
from posture.testing.loadgen import TrafficPublisher, contract_messages
from tests.conftest import DATASETS
from transport.settings import MqttSettings


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """(sample name, sorted labels) -> value, from the Prometheus text format."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def part(name: str, health: Health, counter: int = 7) -> Part:
    def metrics() -> Iterator[Any]:
        yield CounterMetricFamily(f"test_{name}_things", "things", value=counter)

    return Part(name, lambda: health, metrics)


@pytest.fixture
def port() -> Iterator[HealthPort]:
    port = HealthPort("127.0.0.1", 0)
    port.start()
    yield port
    port.stop()


def test_healthz_is_200_while_every_part_is_healthy(port: HealthPort) -> None:
    port.add(part("a", Health(True, details={"held": 3})))
    port.add(part("b", Health(True)))
    status, body = get(f"http://127.0.0.1:{port.port}/healthz")
    assert status == 200
    assert json.loads(body) == {"ok": True, "reasons": [], "a": {"held": 3}, "b": {}}


def test_healthz_is_503_with_the_reasons_when_one_part_is_not(port: HealthPort) -> None:
    port.add(part("a", Health(True)))
    port.add(part("b", Health(False, ("broker disconnected",))))

    def broken() -> Health:
        raise RuntimeError("no answer")

    port.add(Part("c", broken, lambda: iter(())))
    status, body = get(f"http://127.0.0.1:{port.port}/healthz")
    assert status == 503
    assert json.loads(body)["reasons"] == ["b: broker disconnected", "c: probe failed: no answer"]


def test_metrics_are_the_prometheus_text_of_every_part(port: HealthPort) -> None:
    port.add(part("a", Health(True), counter=7))
    port.add(part("b", Health(True), counter=9))
    status, text = get(f"http://127.0.0.1:{port.port}/metrics")
    assert status == 200
    got = samples(text)
    assert got[("test_a_things_total", ())] == 7
    assert got[("test_b_things_total", ())] == 9
    assert get(f"http://127.0.0.1:{port.port}/other")[0] == 404


def test_a_port_in_use_is_an_os_error(port: HealthPort) -> None:
    with pytest.raises(OSError):  # noqa: PT011 (what the CLI turns into its one-line error)
        HealthPort("127.0.0.1", port.port).start()


def test_write_latencies_are_cumulative_buckets() -> None:
    latency = Latency()
    for seconds in (0.001, 0.02, 0.02, 3.0, 60.0):
        latency.observe(seconds)
    snapshot = latency.snapshot()
    buckets = dict(snapshot.buckets)
    assert buckets["0.005"] == 1
    assert buckets["0.025"] == 3
    assert buckets["5.0"] == 4
    assert buckets["+Inf"] == 5
    assert snapshot.sum_s == pytest.approx(63.041)


def env_for(mqtt: MqttSettings, http_port: int, **more: str) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("POSTURE_")}
    return clean | {
        "POSTURE_MQTT__HOST": mqtt.host,
        "POSTURE_MQTT__PORT": str(mqtt.port),
        "POSTURE_MQTT__TOPIC_ROOT": mqtt.topic_root,
        "POSTURE_HTTP__PORT": str(http_port),
        **more,
    }


def wait_for(url: str, check: Any, *, timeout_s: float = 60.0) -> tuple[int, str]:
    deadline = time.monotonic() + timeout_s
    last: tuple[int, str] = (0, "")
    while time.monotonic() < deadline:
        try:
            last = get(url)
        except OSError:
            last = (0, "")
        if check(*last):
            return last
        time.sleep(0.3)
    raise AssertionError(f"{url} never became what was expected: {last[0]} {last[1][:500]}")


@pytest.mark.integration
def test_the_recorder_port_reports_writes_and_a_lost_broker(
    influx: InfluxClient, tmp_path: Any
) -> None:
    broker = servers.mosquitto(tmp_path / "broker")  # its own: the test stops it
    mqtt = MqttSettings(host="127.0.0.1", port=broker.port, topic_root="exp/v1")
    http_port = servers.free_port()
    env = env_for(
        mqtt,
        http_port,
        POSTURE_INFLUX__URL=influx.url,
        POSTURE_INFLUX__DATABASE=influx.settings.database,
        POSTURE_RECORDER__HEALTH_INTERVAL_S="1",
        POSTURE_RECORDER__FLUSH_INTERVAL_S="0.2",
    )
    recorder = subprocess.Popen(
        [sys.executable, "-m", "posture.cli", "recorder"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{http_port}"
    try:
        wait_for(f"{base}/healthz", lambda status, _body: status == 200)
        traffic = contract_messages(mqtt.topic_root, wearers=2, hours=0.5)
        with TrafficPublisher(mqtt, "exporter-test") as publisher:
            publisher.publish(traffic.messages)
            publisher.flush(timeout_s=60)
        recorded = len(traffic.events) + len(traffic.minutes) + len(traffic.devices)
        _, text = wait_for(
            f"{base}/metrics",
            lambda _s, body: (
                samples(body).get(("posture_recorder_messages_written_total", ())) == recorded
            ),
        )
        got = samples(text)
        assert got[("posture_recorder_messages_received_total", ())] == recorded
        assert got[("posture_recorder_messages_rejected_total", ())] == 0
        assert got[("posture_recorder_write_seconds_count", ())] >= 1
        assert got[("posture_recorder_connected", ())] == 1
        broker.stop()
        _, body = wait_for(f"{base}/healthz", lambda status, _body: status == 503)
        assert "recorder: broker disconnected" in json.loads(body)["reasons"]
    finally:
        recorder.terminate()
        recorder.communicate(timeout=60)
        broker.stop()


@pytest.mark.integration
def test_the_gateway_port_reports_samples_losses_outbox_and_loop_lag(
    mqtt_settings: MqttSettings, tmp_path: Any
) -> None:
    http_port = servers.free_port()
    env = env_for(
        mqtt_settings,
        http_port,
        POSTURE_GATEWAY__ID="gw-http",
        POSTURE_GATEWAY__STATE_DIR=str(tmp_path / "state"),
    )
    trace = DATASETS / "uci_hapt_waist/user01_exp01.csv"
    gateway = subprocess.Popen(
        [
            *(sys.executable, "-m", "posture.cli", "gateway"),
            *("--virtual", f"microbit={trace}", "--speed", "5", "--seconds", "25"),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{http_port}"
    try:

        def streaming(_status: int, body: str) -> bool:
            return any(
                name == "posture_gateway_samples_total" and value > 500
                for (name, _labels), value in samples(body).items()
            )

        _, text = wait_for(f"{base}/metrics", streaming)
        status, body = get(f"{base}/healthz")
    finally:
        gateway.terminate()
        _, err = gateway.communicate(timeout=60)
    assert status == 200, body
    health = json.loads(body)["gateway"]
    assert health["sensors"] == health["sensors_connected"] == 1
    got = samples(text)
    sensor = [dict(k) for (name, k), _ in got.items() if name == "posture_gateway_samples_total"]
    assert (sensor[0]["wearer"], sensor[0]["placement"]) == ("v01", "trunk")
    for name in (
        "posture_gateway_outbox_messages",
        "posture_gateway_outbox_oldest_seconds",
        "posture_gateway_loop_lag_seconds",
        "posture_gateway_loop_lag_max_seconds",
        "posture_gateway_broker_connected",
    ):
        assert (name, ()) in got, name
    assert got[("posture_gateway_broker_connected", ())] == 1
    assert 0 <= got[("posture_gateway_loop_lag_seconds", ())] < 2
    lost = {
        dict(k)["reason"]
        for (name, k), _ in got.items()
        if name.startswith("posture_gateway_samples_lost")
    }
    assert lost <= {"gap", "disconnected", "queue"}
    assert "Traceback" not in err, err[-2000:]
