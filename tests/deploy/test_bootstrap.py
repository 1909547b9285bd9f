"""deploy/bootstrap: the deployment's secrets, made once, private, and never overwritten."""

from __future__ import annotations

import base64
import hashlib
import importlib.machinery
import importlib.util
import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from posture.testing import servers
from transport.mqtt import BrokerError, connect, make_client
from transport.settings import MqttSettings

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "deploy" / "bootstrap"


def load_script() -> ModuleType:
    loader = importlib.machinery.SourceFileLoader("bootstrap", str(SCRIPT))
    spec = importlib.util.spec_from_loader("bootstrap", loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


bootstrap = load_script()


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """The files the bootstrap reads and writes, as in a fresh clone."""
    (tmp_path / "deploy" / "mosquitto").mkdir(parents=True)
    shutil.copy(REPO / "deploy" / "env.example", tmp_path / "deploy" / "env.example")
    return tmp_path


def run(checkout: Path, *args: str) -> subprocess.CompletedProcess[str]:
    owner = f"{os.getuid()}:{os.getgid()}"
    return subprocess.run(
        [sys.executable, str(SCRIPT), "--repo", str(checkout), "--broker-owner", owner, *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


def env_of(checkout: Path) -> dict[str, str]:
    return dict(re.findall(r"^(\w+)=(.*)$", (checkout / ".env").read_text(), re.MULTILINE))


def test_every_placeholder_becomes_a_distinct_secret_and_the_rest_stays(checkout: Path) -> None:
    assert run(checkout).returncode == 0
    env = env_of(checkout)
    example = dict(
        re.findall(r"^(\w+)=(.*)$", (checkout / "deploy" / "env.example").read_text(), re.M)
    )
    assert set(env) == set(example)
    secrets = [v for k, v in env.items() if example[k].startswith("change-me")]
    assert len(secrets) >= 8
    assert len(set(secrets)) == len(secrets)
    assert all(len(v) >= 40 and re.fullmatch(r"[\w-]+", v) for v in secrets)
    assert {k: v for k, v in env.items() if not example[k].startswith("change-me")} == {
        k: v for k, v in example.items() if not v.startswith("change-me")
    }


def test_both_files_are_private_to_their_owner(checkout: Path) -> None:
    assert run(checkout).returncode == 0
    for path in (checkout / ".env", checkout / "deploy" / "mosquitto" / "passwd"):
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == 0o600, f"{path.name} has mode {mode:o}"


@pytest.mark.skipif(os.geteuid() != 0, reason="changing a file's owner needs root")
def test_the_password_file_belongs_to_the_brokers_user(checkout: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--repo", str(checkout)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "SUDO_UID": "4321", "SUDO_GID": "4322"},
    )
    assert done.returncode == 0, done.stderr
    passwd = (checkout / "deploy" / "mosquitto" / "passwd").stat()
    assert (passwd.st_uid, passwd.st_gid) == (1883, 1883)  # eclipse-mosquitto's mosquitto user
    env = (checkout / ".env").stat()
    assert (env.st_uid, env.st_gid) == (4321, 4322)  # whoever called sudo runs docker compose


@pytest.mark.parametrize("existing", [".env", "deploy/mosquitto/passwd"])
def test_existing_secrets_are_never_overwritten(checkout: Path, existing: str) -> None:
    (checkout / existing).write_text("keep me\n")
    done = run(checkout)
    assert done.returncode == 1
    assert "already exist" in done.stderr
    assert done.stderr.count("\n") == 1  # one line, no traceback
    assert (checkout / existing).read_text() == "keep me\n"
    others = {".env", "deploy/mosquitto/passwd"} - {existing}
    assert not any((checkout / other).exists() for other in others)  # nothing half-written


def test_a_second_run_changes_nothing(checkout: Path) -> None:
    assert run(checkout).returncode == 0
    before = (checkout / ".env").read_text()
    assert run(checkout).returncode == 1
    assert (checkout / ".env").read_text() == before


def test_the_hash_is_mosquittos_pbkdf2_sha512() -> None:
    # mosquitto_passwd's format: $7$iterations$base64(salt)$base64(pbkdf2-sha512)
    digest = hashlib.pbkdf2_hmac("sha512", b"secret", bytes(12), 101)
    expected = f"$7$101$AAAAAAAAAAAAAAAA${base64.b64encode(digest).decode()}"
    assert bootstrap.broker_hash("secret", salt=bytes(12)) == expected


@pytest.mark.integration
def test_the_broker_lets_in_exactly_the_users_with_their_env_passwords(
    checkout: Path, tmp_path: Path
) -> None:
    assert run(checkout).returncode == 0
    env = env_of(checkout)
    passwd = checkout / "deploy" / "mosquitto" / "passwd"
    users = [line.split(":")[0] for line in passwd.read_text().splitlines()]
    assert users == ["recorder", env["MQTT_GATEWAY_USER"], "homeassistant", "monitor"]
    broker = servers.mosquitto(
        tmp_path / "broker", extra_conf=f"allow_anonymous false\npassword_file {passwd}\n"
    )
    try:

        def login(user: str, password: str) -> None:
            settings = MqttSettings(
                host="127.0.0.1", port=broker.port, username=user, password=password
            )
            client = make_client(settings, user)
            try:
                connect(client, settings)
            finally:
                client.disconnect()
                client.loop_stop()

        for user, variable in [
            ("recorder", "MQTT_RECORDER_PASSWORD"),
            (env["MQTT_GATEWAY_USER"], "MQTT_GATEWAY_PASSWORD"),
            ("homeassistant", "MQTT_HOMEASSISTANT_PASSWORD"),
            ("monitor", "MQTT_MONITOR_PASSWORD"),
        ]:
            login(user, env[variable])
        with pytest.raises(BrokerError):
            login("recorder", env["MQTT_GATEWAY_PASSWORD"])
    finally:
        broker.stop()
