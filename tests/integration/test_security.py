"""The shipped broker configuration (deploy/mosquitto) refuses strangers and keeps each gateway
to its own topics; TLS works with a test CA; secrets come from files and never reach a log."""

from __future__ import annotations

import time
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

import pytest

from analytics.contract import deadletter_topic, recorder_topic
from analytics.messages import BusyUpdate, DeskHeight, WearerInput
from dashboards.influx import InfluxClient
from dashboards.recorder import Recorder, RecorderThread
from dashboards.settings import InfluxSettings, RecorderSettings
from posture.settings import load_settings
from posture.testing import servers
from posture.testing.loadgen import contract_messages
from posture.testing.recorder_process import RecorderProcess
from sensor_gateway.outbox import Outbox
from sensor_gateway.publisher import MqttPublisher
from tests.certs import make_tls_files
from tests.integration.recording import (
    expected_points,
    stored_points,
    wait_until,
    watching,
)
from tests.shipped_broker import ROOT, ShippedBroker, refusals
from transport.mqtt import BrokerError, connect, make_client
from transport.settings import MqttSettings

pytestmark = pytest.mark.integration

W042_EVENT = f"{ROOT}/w042/event"  # gw1's wearer in the shipped ACL
W043_EVENT = f"{ROOT}/w043/event"  # gw2's
EXAMPLE = Path(__file__).resolve().parents[2] / "posture.example.toml"


def try_connect(settings: MqttSettings) -> None:
    client = make_client(settings, f"c-{uuid.uuid4().hex[:8]}")
    try:
        connect(client, settings)
    finally:
        client.disconnect()
        client.loop_stop()


@pytest.mark.parametrize(
    "changes",
    [{"username": None, "password": None}, {"password": "guess"}, {"username": "gw9"}],
    ids=["anonymous", "wrong-password", "unknown-user"],
)
def test_a_client_without_valid_credentials_is_refused(
    shipped: ShippedBroker, changes: dict[str, object]
) -> None:
    with pytest.raises(BrokerError, match="refused the connection: Not authorized"):
        try_connect(shipped.settings("gw1", **changes))
    try_connect(shipped.settings("gw1"))  # and the right ones are accepted


def test_a_gateway_publishes_only_its_own_topics(shipped: ShippedBroker) -> None:
    own = [(W042_EVENT, b"1"), (f"{ROOT}/gateway/gw1/device", b"2")]
    foreign = [
        (W043_EVENT, b"3"),
        (f"{ROOT}/gateway/gw2/device", b"4"),
        (f"{ROOT}/gateway/gw2/status", b"5"),
        (f"{ROOT}/w042/cmd", b"6"),  # commands go to the gateway, not from it
        (deadletter_topic(ROOT), b"7"),
    ]
    with watching(shipped.settings("monitor"), f"{ROOT}/#") as monitor:
        assert refusals(shipped.settings("gw1"), own) == []
        assert refusals(shipped.settings("gw1"), foreign) == ["Not authorized"] * len(foreign)
        wait_until(lambda: len(monitor.messages) >= 2, timeout_s=5, what="gw1's own messages")
        time.sleep(0.3)
        assert sorted(topic for topic, _ in monitor.messages) == sorted(t for t, _ in own)


def test_a_gateway_reads_nothing_of_other_gateways(shipped: ShippedBroker) -> None:
    with watching(shipped.settings("gw1"), f"{ROOT}/#") as gw1:
        with watching(shipped.settings("monitor"), W043_EVENT) as monitor:
            assert refusals(shipped.settings("gw2"), [(W043_EVENT, b"private")]) == []
            wait_until(lambda: bool(monitor.messages), timeout_s=5, what="the monitor")
        time.sleep(0.3)
        assert gw1.messages == []


def test_the_recorder_reads_data_and_writes_only_dead_letters_and_health(
    shipped: ShippedBroker,
) -> None:
    recorder = shipped.settings("recorder")
    data = [(W042_EVENT, b"x"), (f"{ROOT}/gateway/gw1/device", b"x"), (f"{ROOT}/w042/cmd", b"x")]
    assert refusals(recorder, data) == ["Not authorized"] * len(data)
    allowed = [(deadletter_topic(ROOT), b"{}"), (recorder_topic(ROOT, "r1"), b"{}")]
    assert refusals(recorder, allowed) == []


def test_recording_over_tls_with_a_test_ca(shipped: ShippedBroker, influx: InfluxClient) -> None:
    traffic = contract_messages(ROOT, wearers=1, hours=1.0, fleet=[("w042", "gw1")])
    gateway = shipped.settings("gw1", tls=True)
    recorder = RecorderThread(
        Recorder(
            shipped.settings("recorder", tls=True),
            influx,
            RecorderSettings(client_id=f"tls-{uuid.uuid4().hex[:6]}", flush_interval_s=0.2),
        )
    )
    recorder.start()
    try:
        assert refusals(gateway, list(traffic.messages)) == []
        assert recorder.wait_for(len(traffic.recordable), timeout_s=30)
    finally:
        recorder.stop()
    assert stored_points(influx) == expected_points(traffic)


# paho 2.2 leaves the socket of a failed TLS handshake to the garbage collector
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_tls_refuses_a_broker_certificate_from_another_ca(
    shipped: ShippedBroker, tmp_path: Path
) -> None:
    other = make_tls_files(tmp_path / "other-ca")
    with pytest.raises(BrokerError, match=r"CERTIFICATE_VERIFY_FAILED|certificate verify failed"):
        try_connect(shipped.settings("gw1", tls=True, ca_file=other.ca_cert))
    with pytest.raises(BrokerError):  # plain MQTT on the TLS port
        try_connect(shipped.settings("gw1", tls=False, port=shipped.tls_port, connect_timeout_s=2))


def _create_influx_admin(url: str, user: str, password: str) -> None:
    query = f"CREATE USER {user} WITH PASSWORD '{password}' WITH ALL PRIVILEGES"
    data = urllib.parse.urlencode({"q": query}).encode()
    with urllib.request.urlopen(f"{url}/query", data=data, timeout=10) as response:
        assert response.status == 200


def test_posture_recorder_takes_secrets_from_files_and_never_logs_them(
    shipped: ShippedBroker, tmp_path: Path
) -> None:
    mqtt_password = shipped.passwords["recorder"]
    influx_password = "Influx-S3cret-" + uuid.uuid4().hex[:8]
    (tmp_path / "mqtt_password").write_text(mqtt_password + "\n")
    (tmp_path / "influx_password").write_text(influx_password + "\n")
    server = servers.influxd(tmp_path / "influxd", auth=True)
    try:
        _create_influx_admin(server.url, "recorder", influx_password)
        influx = InfluxSettings(
            url=server.url,
            database="secured",
            username="recorder",
            password_file=tmp_path / "influx_password",
        )
        mqtt = shipped.settings("recorder", tls=True).model_copy(
            update={"password": None, "password_file": tmp_path / "mqtt_password"}
        )
        settings = RecorderSettings(client_id="secretive", flush_interval_s=0.2)
        health = recorder_topic(ROOT, "secretive")
        with watching(shipped.settings("monitor"), health) as monitor:
            process = RecorderProcess(
                mqtt, influx, settings, log_path=tmp_path / "rec.log", args=("-vv",)
            ).start()
            wait_until(lambda: monitor.last(health) is not None, timeout_s=20, what="recorder")
        traffic = contract_messages(ROOT, wearers=1, hours=1.0, fleet=[("w042", "gw1")])
        try:
            assert refusals(shipped.settings("gw1", tls=True), list(traffic.messages)) == []
            reader = InfluxClient(influx)
            wait_until(
                lambda: stored_points(reader) == expected_points(traffic),
                timeout_s=30,
                what="the recorder to write over TLS into an InfluxDB with authentication",
            )
            reader.close()
        finally:
            assert process.stop() == 0
        output = process.output()
        assert "DEBUG" in output  # -vv: the most verbose logs, and still no secret
        assert "recorder stopped: received" in output
        for secret in (mqtt_password, influx_password):
            assert secret not in output
    finally:
        server.stop()


def test_wrong_influx_credentials_are_retried_never_dead_lettered(
    mqtt_settings: MqttSettings, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    server = servers.influxd(tmp_path / "influxd", auth=True)
    try:
        _create_influx_admin(server.url, "admin", "right-password")
        influx = InfluxClient(
            InfluxSettings(url=server.url, database="db", username="admin", password="wrong-one")
        )
        recorder = RecorderThread(
            Recorder(
                mqtt_settings,
                influx,
                RecorderSettings(client_id=f"r-{uuid.uuid4().hex[:6]}", retry_max_s=0.3),
            )
        )
        recorder.start()
        try:
            traffic = contract_messages(mqtt_settings.topic_root, wearers=1, hours=0.5)
            assert refusals(mqtt_settings, list(traffic.messages)) == []
            wait_until(
                lambda: recorder.recorder.stats.write_retries >= 3,
                timeout_s=20,
                what="retries",
            )
            assert recorder.recorder.stats.rejected == 0
            assert recorder.recorder.stats.written_messages == 0
        finally:
            recorder.stop()
        assert "401" in caplog.text
        assert "wrong-one" not in caplog.text
    finally:
        server.stop()


def test_a_wearers_busy_states_and_desk_reach_only_their_gateway(shipped: ShippedBroker) -> None:
    """The example configuration's busy-state and desk topics for w042, with the shipped ACL:
    Home Assistant's statestream, a context from an operator and a desk's height reach gw1; gw1
    may send w042's desk a command, which the desk bridge gets, and nobody else but Home
    Assistant may; gw2 hears none of it. (A user logged in twice replaces its first session,
    so each user's watcher is its only client until the watchers close.)"""
    wearer = load_settings(EXAMPLE).wearers["w042"]
    assert wearer.desk is not None
    command_topic = wearer.desk.command_topic
    heard: list[WearerInput] = []
    gw1 = MqttPublisher(
        shipped.settings("gw1"),
        "gw1",
        Outbox(None),
        wearers=["w042"],
        wearer_settings={"w042": wearer},
    )
    gw1.listen_for_inputs(heard.append)
    gw1.start(require_broker=True)
    said = [
        ("homeassistant", wearer.busy[0].topic, b"on"),
        ("homeassistant", wearer.busy[1].topic, b"InAMeeting"),
        ("monitor", f"{ROOT}/w042/context", b'{"busy": false, "source": "frontdesk"}'),
        ("homeassistant", wearer.desk.height_topic, b"109.5"),
    ]
    try:
        with (
            watching(shipped.settings("gw2"), *{t for _, t, _ in said}, command_topic) as gw2,
            watching(shipped.settings("desks"), command_topic) as desk,
        ):
            wait_until(lambda: gw1.connected, timeout_s=5, what="gw1 connected")
            time.sleep(0.3)  # subscribed
            for user, topic, payload in said:
                assert refusals(shipped.settings(user), [(topic, payload)]) == [], (user, topic)
            wait_until(lambda: len(heard) == len(said), timeout_s=5, what="what gw1 hears")
            gw1.publish_desk("w042", "stand")
            wait_until(lambda: bool(desk.messages), timeout_s=5, what="the desk's command")
            time.sleep(0.3)
    finally:
        gw1.close()
    assert gw2.messages == []
    assert heard == [
        BusyUpdate("w042", f"topic:{wearer.busy[0].topic}", busy=True),
        BusyUpdate("w042", f"topic:{wearer.busy[1].topic}", busy=True),
        BusyUpdate("w042", "context:frontdesk", busy=False),
        DeskHeight("w042", 109.5),
    ]
    assert desk.messages == [(command_topic, wearer.desk.stand_payload.encode())]
    assert sum(gw1.rejected.values()) == 0
    assert refusals(shipped.settings("desks"), [(wearer.desk.height_topic, b"72")]) == []
    for user in ("gw2", "monitor", "desks"):
        assert refusals(shipped.settings(user), [(command_topic, b"110")]) == ["Not authorized"], (
            user
        )
