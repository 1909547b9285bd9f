"""docker-compose.yml and the Grafana provisioning, checked as far as is possible without a Docker
engine: the files parse, images are pinned, mounted paths exist, secrets are documented, and the
provisioning points at the data source and dashboards the repository ships."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from dashboards.boards.panels import (
    DATASOURCE,
    PROVISIONED_DATASOURCE,
    load_dashboards,
    panel_queries,
)
from posture.cli import app

REPO = Path(__file__).resolve().parents[2]
COMPOSE: dict[str, Any] = yaml.safe_load((REPO / "docker-compose.yml").read_text())
SERVICES: dict[str, Any] = COMPOSE["services"]
PROVISIONING = REPO / "dashboards" / "grafana" / "provisioning"
PINNED = re.compile(r"[\w./-]+:\d+(\.\d+)+[\w.-]*(@sha256:[0-9a-f]{64})?")


def host_mounts(service: dict[str, Any]) -> dict[str, str]:
    """Container path -> host path (relative to the repository) of the bind mounts."""
    out = {}
    for volume in service.get("volumes", []):
        parts = volume.split(":")
        if parts[0].startswith((".", "/")):
            out[parts[1]] = parts[0]
    return out


def test_the_compose_file_has_every_service() -> None:
    assert set(SERVICES) == {"mosquitto", "influxdb", "grafana", "recorder", "gateway"}


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_images_are_pinned(name: str) -> None:
    image = SERVICES[name]["image"]
    assert PINNED.fullmatch(image), f"{name}: {image} is not pinned to a version"


def test_the_project_image_is_built_from_a_pinned_base() -> None:
    froms = re.findall(r"^FROM\s+(\S+)", (REPO / "Dockerfile").read_text(), re.MULTILINE)
    assert froms
    assert all(PINNED.fullmatch(f) for f in froms)
    for name in ("recorder", "gateway"):
        assert SERVICES[name]["build"]["context"] == "."


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_mounted_paths_exist(name: str) -> None:
    for host in host_mounts(SERVICES[name]).values():
        if host.startswith("/"):
            continue  # the host's own files (the D-Bus socket)
        path = REPO / host
        example = path.with_name(f"{path.stem}.example{path.suffix}")
        assert path.exists() or example.exists(), f"{name} mounts {host}, which does not exist"


def test_the_gateway_reaches_bluez_and_the_broker() -> None:
    gateway = SERVICES["gateway"]
    assert gateway["network_mode"] == "host"
    assert "/run/dbus/system_bus_socket" in host_mounts(gateway)
    assert gateway["environment"]["POSTURE_MQTT__HOST"] == "127.0.0.1"
    assert any(str(p).endswith(":1883") for p in SERVICES["mosquitto"]["ports"])


def test_the_gateway_keeps_calibrations_in_a_volume() -> None:
    gateway = SERVICES["gateway"]
    state_dir = gateway["environment"]["POSTURE_GATEWAY__STATE_DIR"]
    named = {v.split(":")[0] for v in gateway["volumes"] if v.split(":")[1] == state_dir}
    assert named, f"nothing is mounted at {state_dir}"
    assert named <= set(COMPOSE["volumes"])


def test_mosquitto_runs_the_shipped_configuration() -> None:
    mounts = host_mounts(SERVICES["mosquitto"])
    config_dir = REPO / mounts["/mosquitto/config"]
    assert (config_dir / "mosquitto.conf").is_file()
    conf = (config_dir / "mosquitto.conf").read_text()
    assert "allow_anonymous false" in conf
    assert "persistence true" in conf


def test_every_shipped_listener_binds_client_ids_to_usernames() -> None:
    """use_username_as_clientid is a listener's setting: a listener without it lets any user
    take over another's client id (tests/integration/test_hostile.py shows what that costs)."""
    shipped = REPO / "deploy" / "mosquitto"
    for path in [shipped / "mosquitto.conf", *sorted((shipped / "conf.d").iterdir())]:
        blocks = re.split(r"^listener ", path.read_text(), flags=re.M)[1:]
        assert blocks, path
        for block in blocks:
            assert re.search(r"^use_username_as_clientid true$", block, flags=re.M), (path, block)


def test_influxdb_is_initialised_with_org_bucket_token_and_dbrp() -> None:
    influx = SERVICES["influxdb"]
    env = influx["environment"]
    assert env["DOCKER_INFLUXDB_INIT_MODE"] == "setup"
    for key in ("ORG", "BUCKET", "ADMIN_TOKEN", "USERNAME", "PASSWORD"):
        assert env[f"DOCKER_INFLUXDB_INIT_{key}"]
    init = REPO / host_mounts(influx)["/docker-entrypoint-initdb.d"]
    scripts = sorted(init.glob("*.sh"))
    assert scripts
    assert all(os.access(s, os.X_OK) for s in scripts)  # the image runs only +x
    text = "".join(s.read_text() for s in scripts)
    assert "influx v1 dbrp create" in text
    assert "--read-bucket" in text
    for script in scripts:
        subprocess.run(["bash", "-n", str(script)], check=True)
    provided = set(env) | {"DOCKER_INFLUXDB_INIT_BUCKET_ID", "DOCKER_INFLUXDB_INIT_ORG_ID"}
    assert set(re.findall(r"\$\{(\w+)\}", text)) <= provided


def test_the_recorder_writes_where_grafana_reads() -> None:
    recorder = SERVICES["recorder"]["environment"]
    influx = SERVICES["influxdb"]["environment"]
    # InfluxDB 2's v1 API: the database is the bucket's DBRP mapping (deploy/influxdb/init)
    assert recorder["POSTURE_INFLUX__API"] == "v1"
    assert recorder["POSTURE_INFLUX__DATABASE"] == influx["DOCKER_INFLUXDB_INIT_BUCKET"]
    (datasource,) = yaml.safe_load((PROVISIONING / "datasources" / "influxdb.yaml").read_text())[
        "datasources"
    ]
    assert datasource["jsonData"]["dbName"] == influx["DOCKER_INFLUXDB_INIT_BUCKET"]
    assert datasource["url"] == recorder["POSTURE_INFLUX__URL"]


def test_secrets_come_from_the_environment_and_are_documented() -> None:
    text = (REPO / "docker-compose.yml").read_text()
    required = set(re.findall(r"\$\{(\w+):\?", text))
    optional = set(re.findall(r"\$\{(\w+):-", text))
    documented = set(re.findall(r"^(\w+)=", (REPO / "deploy" / "env.example").read_text(), re.M))
    assert required
    assert required | optional <= documented
    assert ".env" in (REPO / ".gitignore").read_text()


def test_the_datasource_is_the_one_the_dashboards_use() -> None:
    config = yaml.safe_load((PROVISIONING / "datasources" / "influxdb.yaml").read_text())
    assert config["apiVersion"] == 1
    (datasource,) = config["datasources"]
    assert datasource["type"] == DATASOURCE["type"]
    assert datasource["uid"] == PROVISIONED_DATASOURCE["uid"]
    assert datasource["name"] == PROVISIONED_DATASOURCE["name"]
    assert datasource["access"] == "proxy"
    assert datasource["jsonData"].get("version", "InfluxQL") == "InfluxQL"
    grafana_env = SERVICES["grafana"]["environment"]
    for name in re.findall(
        r"\$(\w+)", (PROVISIONING / "datasources" / "influxdb.yaml").read_text()
    ):
        assert name in grafana_env, f"the data source needs ${name} in grafana's environment"
    for model in load_dashboards().values():
        for pq in panel_queries(model):
            assert pq.query  # every target is a raw InfluxQL query on that data source


def test_the_dashboard_providers_point_at_the_shipped_dashboards() -> None:
    config = yaml.safe_load((PROVISIONING / "dashboards" / "posture.yaml").read_text())
    assert config["apiVersion"] == 1
    mounts = host_mounts(SERVICES["grafana"])
    assert REPO / mounts["/etc/grafana/provisioning"] == PROVISIONING
    provided = set()
    for provider in config["providers"]:
        assert provider["type"] == "file"
        assert provider["allowUiUpdates"] is False
        container = Path(provider["options"]["path"])
        host = next(
            REPO / h / container.relative_to(c)
            for c, h in mounts.items()
            if container.is_relative_to(c)
        )
        files = sorted(host.glob("*.json"))
        assert files, f"provider {provider['name']} finds no dashboards in {host}"
        provided |= {f.name for f in files}
    assert provided == set(load_dashboards())
    home = SERVICES["grafana"]["environment"]["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    assert any(Path(home).is_relative_to(c) for c in mounts)


@pytest.mark.parametrize("name", ["recorder", "gateway"])
def test_the_services_run_posture_commands(name: str) -> None:
    command = SERVICES[name]["command"]
    assert command[0] == "posture"
    commands = {
        c.name or (c.callback.__name__ if c.callback else "") for c in app.registered_commands
    }
    if command[1] not in commands:
        pytest.skip(f"posture {command[1]} is not in this branch yet (issues 4 and 5)")


# -- the Compose specification, after interpolating deploy/env.example ----------------------------

_INTERPOLATION = re.compile(r"\$\$|\$\{(\w+)(?:(:?[-?])([^}]*))?\}|\$(\w+)")


def interpolate(text: str, env: dict[str, str]) -> str:
    """What `docker compose` makes of ${VAR}, ${VAR:-default}, ${VAR:?error} and $$."""

    def value(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name = match.group(1) or match.group(4)
        op, arg = match.group(2), match.group(3)
        present = env.get(name)
        if op in (":-", "-"):
            unset = present is None or (op == ":-" and present == "")
            return arg if unset else str(present)
        if op in (":?", "?") and (present is None or (op == ":?" and present == "")):
            raise ValueError(f"{name}: {arg}")
        return present or ""

    return _INTERPOLATION.sub(value, text)


def example_env() -> dict[str, str]:
    text = (REPO / "deploy" / "env.example").read_text()
    return dict(re.findall(r"^(\w+)=(.*)$", text, re.MULTILINE))


def test_the_compose_file_follows_the_compose_specification() -> None:
    from jsonschema import Draft7Validator

    from tests.schemas import SCHEMAS

    schema = json.loads((SCHEMAS / "compose" / "compose-spec.json").read_text())
    model = yaml.safe_load(interpolate((REPO / "docker-compose.yml").read_text(), example_env()))
    errors = [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}"
        for e in Draft7Validator(schema).iter_errors(model)
    ]
    assert errors == []


def test_the_compose_check_finds_what_is_wrong() -> None:
    from jsonschema import Draft7Validator

    from tests.schemas import SCHEMAS

    schema = json.loads((SCHEMAS / "compose" / "compose-spec.json").read_text())
    model = yaml.safe_load(interpolate((REPO / "docker-compose.yml").read_text(), example_env()))
    model["services"]["recorder"]["healthcheck"] = {"test": ["CMD", "true"], "interval": 5}
    model["services"]["grafana"]["restart"] = ["always"]
    assert len(list(Draft7Validator(schema).iter_errors(model))) >= 2
    with pytest.raises(ValueError, match=r"set INFLUX_ADMIN_PASSWORD in \.env"):
        interpolate((REPO / "docker-compose.yml").read_text(), {})


def test_interpolation_follows_compose() -> None:
    env = {"A": "a", "E": ""}
    assert interpolate("${A} $A ${B:-b} ${E:-e} ${E-e} $$A", env) == "a a b e  $A"
    with pytest.raises(ValueError, match="need E"):
        interpolate("${E:?need E}", env)


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_every_service_has_a_healthcheck(name: str) -> None:
    check = SERVICES[name].get("healthcheck")
    assert check, f"{name} has no healthcheck"
    assert check["test"][0] in ("CMD", "CMD-SHELL")
    assert not check.get("disable", False)


def test_the_recorder_writes_with_a_write_only_user_not_the_admin_token() -> None:
    recorder = SERVICES["recorder"]["environment"]
    influx = SERVICES["influxdb"]["environment"]
    assert "INFLUX_ADMIN_TOKEN" not in json.dumps(recorder)
    assert recorder["POSTURE_INFLUX__USERNAME"] == influx["INFLUX_RECORDER_USER"]
    assert recorder["POSTURE_INFLUX__PASSWORD"] == influx["INFLUX_RECORDER_PASSWORD"]
    init = (REPO / "deploy" / "influxdb" / "init" / "10-posture.sh").read_text()
    block = init[init.index('--username "${INFLUX_RECORDER_USER}"') :]
    block = block[: block.index("\n\n")] if "\n\n" in block else block
    assert "--write-bucket" in block
    assert "--read-bucket" not in block


def test_retention_is_finite_by_default_and_configurable() -> None:
    setting = SERVICES["influxdb"]["environment"]["DOCKER_INFLUXDB_INIT_RETENTION"]
    match = re.fullmatch(r"\$\{INFLUX_RETENTION:-(\w+)\}(?:\s.*)?", setting)
    assert match, setting
    assert match.group(1) not in ("0", "")
    assert example_env()["INFLUX_RETENTION"] == match.group(1)


@pytest.mark.parametrize("name", ["recorder", "gateway"])
def test_the_services_healthchecks_ask_their_own_http_port(name: str) -> None:
    service = SERVICES[name]
    port = service["environment"]["POSTURE_HTTP__PORT"]
    test = service["healthcheck"]["test"]
    assert test[:3] == ["CMD", "python", "-c"]
    assert f"http://127.0.0.1:{port}/healthz" in test[3]
    compile(test[3], "healthcheck", "exec")  # the one-liner is Python
