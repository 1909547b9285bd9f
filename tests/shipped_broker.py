"""The shipped mosquitto configuration (deploy/mosquitto), running for a test.

The configuration, the TLS listener (conf.d/tls.conf.example, enabled as an operator would) and
the ACL are used as shipped; only what must differ on a test machine is rewritten: listeners
bind 127.0.0.1 on free ports, the container paths point into the test's directory, mosquitto
keeps running as the user who started it, and (for fault tests that kill the broker) the
autosave interval may be shortened. The password file is made with mosquitto's own
`mosquitto_passwd`; the TLS certificate comes from a throwaway CA.
"""

from __future__ import annotations

import re
import subprocess
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from posture.testing import servers
from posture.testing.loadgen import TrafficPublisher
from tests.certs import TlsFiles, make_tls_files
from transport.settings import MqttSettings

SHIPPED = Path(__file__).resolve().parents[1] / "deploy" / "mosquitto"
ROOT = "posture/v1"  # the topic root the shipped ACL is written for
USERS = ("gw1", "gw2", "recorder", "recorder2", "homeassistant", "desks", "monitor")


@dataclass
class ShippedBroker:
    server: servers.Mosquitto
    tls_port: int
    tls: TlsFiles
    passwords: dict[str, str] = field(default_factory=dict)

    @property
    def port(self) -> int:
        return self.server.port

    def settings(self, user: str | None, *, tls: bool = False, **changes: object) -> MqttSettings:
        """Client settings for `user` (None: no credentials), plain or over TLS."""
        values: dict[str, object] = {
            "host": "localhost" if tls else "127.0.0.1",
            "port": self.tls_port if tls else self.port,
            "topic_root": ROOT,
            "connect_timeout_s": 5.0,
        }
        if user is not None:
            values |= {"username": user, "password": self.passwords[user]}
        if tls:
            values |= {"tls": True, "ca_file": self.tls.ca_cert}
        return MqttSettings.model_validate(values | changes)

    def stop(self) -> None:
        self.server.stop()


def render(
    conf: str, *, port: int, tls_port: int, workdir: Path, autosave_s: int | None, main: bool
) -> str:
    """A shipped configuration file with test ports, paths and (optionally) autosave interval."""
    conf = re.sub(r"^listener 1883$", f"listener {port} 127.0.0.1", conf, flags=re.M)
    conf = re.sub(r"^listener 8883$", f"listener {tls_port} 127.0.0.1", conf, flags=re.M)
    for directory in ("config", "data", "certs"):
        conf = conf.replace(f"/mosquitto/{directory}/", f"{workdir}/{directory}/")
    if autosave_s is not None:
        conf = re.sub(
            r"^autosave_interval \d+$", f"autosave_interval {autosave_s}", conf, flags=re.M
        )
    if main:
        conf += f"user {servers.run_as()}\n"  # stay who we are (root would switch users)
    return conf


def shipped_broker(
    workdir: Path, *, autosave_s: int | None = None, acl_lines: str = ""
) -> ShippedBroker:
    """A started mosquitto with the shipped configuration, ACL and a password for each user.

    `acl_lines` are added to the end of the ACL, as an operator adds each gateway's wearers.
    """
    for directory in ("config/conf.d", "data", "certs"):
        (workdir / directory).mkdir(parents=True, exist_ok=True)
    acl = (SHIPPED / "acl").read_text()
    (workdir / "config" / "acl").write_text(acl + ("\n" + acl_lines if acl_lines else ""))
    passwords = {user: f"pw-{user}-{i}7Qz" for i, user in enumerate(USERS)}
    passwd = workdir / "config" / "passwd"
    tool = servers.find_binary("mosquitto_passwd")
    for user, password in passwords.items():
        create = [] if passwd.exists() else ["-c"]
        subprocess.run([tool, *create, "-b", passwd, user, password], check=True)
    tls = make_tls_files(workdir / "certs")
    binary = servers.find_binary("mosquitto")
    for attempt in range(3):
        port, tls_port = servers.free_port(), servers.free_port()
        conf = workdir / "config" / "mosquitto.conf"
        for source, target in (
            (SHIPPED / "mosquitto.conf", conf),
            (SHIPPED / "conf.d" / "tls.conf.example", workdir / "config" / "conf.d" / "tls.conf"),
        ):
            target.write_text(
                render(
                    source.read_text(),
                    port=port,
                    tls_port=tls_port,
                    workdir=workdir,
                    autosave_s=autosave_s,
                    main=target == conf,
                )
            )
        server = servers.Mosquitto("mosquitto", [str(binary), "-c", str(conf)], port, workdir)
        try:
            server.start()
        except servers.ServerError:
            if attempt == 2:
                raise
            continue
        return ShippedBroker(server=server, tls_port=tls_port, tls=tls, passwords=passwords)
    raise AssertionError("unreachable")


def refusals(settings: MqttSettings, messages: list[tuple[str, bytes]]) -> list[str]:
    """Publish at QoS 1 and return the broker's refusals (PUBACK reason codes)."""
    with TrafficPublisher(settings, f"p-{uuid.uuid4().hex[:8]}") as publisher:
        publisher.publish(messages)
        publisher.flush(timeout_s=10)
        return [reason for _mid, reason in publisher.refused]
