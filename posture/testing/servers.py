"""Private mosquitto and influxd processes on free ports in a directory of their own.

Used by the test fixtures and by `posture demo`. Each server is started from the Debian
package's binary, waited for until it answers, checked to be our own process (a port can belong
to someone else), and stopped (or killed, for fault tests) on request.
"""

from __future__ import annotations

import contextlib
import getpass
import http.client
import logging
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)

_SEARCH = ("/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin")
_PACKAGE = {"mosquitto": "mosquitto", "influxd": "influxdb"}


class ServerError(RuntimeError):
    """A server that could not be started."""


def find_binary(name: str) -> Path:
    """The path of `name` on PATH or in the system binary directories."""
    found = shutil.which(name) or shutil.which(name, path=":".join(_SEARCH))
    if found is None:
        raise ServerError(
            f"{name} not found: install the Debian package {_PACKAGE.get(name, name)} "
            f"(sudo apt-get install {_PACKAGE.get(name, name)})"
        )
    return Path(found)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that the OS says is free right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    """A server process of ours."""

    name: str
    argv: list[str]
    port: int
    workdir: Path
    probe_s: float = 15.0
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def log_path(self) -> Path:
        return self.workdir / f"{self.name}.log"

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self) -> None:
        """Start the process and wait until it answers on its port."""
        if self.alive():
            return
        with self.log_path.open("ab") as out:
            self.process = subprocess.Popen(
                self.argv, stdout=out, stderr=subprocess.STDOUT, cwd=self.workdir
            )
        deadline = time.monotonic() + self.probe_s
        while time.monotonic() < deadline:
            if not self.alive():
                raise ServerError(f"{self.name} exited at start: {self._log_tail()}")
            if self._answers():
                time.sleep(0.1)  # a process that lost the port race exits right after start
                if not self.alive():  # someone else's server answered on our port
                    raise ServerError(f"{self.name}: port {self.port} belongs to another process")
                log.info("started server=%s port=%d pid=%d", self.name, self.port, self.process.pid)
                return
            time.sleep(0.05)
        self.stop()
        raise ServerError(
            f"{self.name} did not answer on port {self.port} within {self.probe_s:g} s"
        )

    def stop(self, *, timeout_s: float = 10.0) -> None:
        """Terminate the process (SIGTERM, then SIGKILL if it does not go)."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def kill(self) -> None:
        """SIGKILL, for fault tests."""
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def _answers(self) -> bool:
        raise NotImplementedError

    def _log_tail(self) -> str:
        try:
            lines = self.log_path.read_text(errors="replace").strip().splitlines()
        except OSError:
            return "(no log)"
        return lines[-1] if lines else "(empty log)"


class Mosquitto(Server):
    """A private mosquitto broker."""

    def _answers(self) -> bool:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), 0.2):
            return True
        return False


class Influxd(Server):
    """A private InfluxDB 1.x server."""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _answers(self) -> bool:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=0.5)
        try:
            conn.request("GET", "/ping")
            response = conn.getresponse()
            return response.status == 204 and response.getheader("X-Influxdb-Version") is not None
        except OSError:
            return False
        finally:
            conn.close()


MOSQUITTO_CONF = """\
listener {port} 127.0.0.1
user {user}
allow_anonymous true
persistence true
persistence_location {workdir}/
autosave_interval 1
max_queued_messages 1000000
max_inflight_messages 1000
log_dest file {workdir}/mosquitto.log
log_type error
log_type warning
log_type notice
"""

INFLUXD_CONF = """\
reporting-disabled = true
bind-address = "127.0.0.1:{rpc_port}"
[meta]
  dir = "{workdir}/meta"
[data]
  dir = "{workdir}/data"
  wal-dir = "{workdir}/wal"
  query-log-enabled = false
  wal-fsync-delay = "0s"
[http]
  bind-address = "127.0.0.1:{port}"
  log-enabled = false
  max-body-size = {max_body_size}
  auth-enabled = {auth}
[monitor]
  store-enabled = false
[continuous_queries]
  enabled = false
"""


def run_as() -> str:
    """mosquitto's `user` option: started as root, it would otherwise switch to the user
    `mosquitto`, which cannot write its log and persistence in our private directory."""
    return getpass.getuser()


def mosquitto(workdir: Path, *, extra_conf: str = "", port: int | None = None) -> Mosquitto:
    """A started private mosquitto in `workdir` (created), on a free port unless given."""
    workdir.mkdir(parents=True, exist_ok=True)
    binary = find_binary("mosquitto")
    for _attempt in range(3):
        chosen = port or free_port()
        conf = workdir / "mosquitto.conf"
        conf.write_text(
            MOSQUITTO_CONF.format(port=chosen, workdir=workdir, user=run_as()) + extra_conf
        )
        server = Mosquitto("mosquitto", [str(binary), "-c", str(conf)], chosen, workdir)
        try:
            server.start()
        except ServerError:
            if port is not None or _attempt == 2:
                raise
            continue
        return server
    raise AssertionError("unreachable")


def influxd(workdir: Path, *, max_body_size: int = 0, auth: bool = False) -> Influxd:
    """A started private influxd in `workdir` (created), on free ports.

    `max_body_size` limits a write's body (bytes, 0: no limit; InfluxDB answers 413 past it);
    `auth` turns authentication on (the first user, an admin, may be created without it).
    """
    workdir.mkdir(parents=True, exist_ok=True)
    binary = find_binary("influxd")
    for _attempt in range(3):
        port, rpc_port = free_port(), free_port()
        conf = workdir / "influxdb.conf"
        conf.write_text(
            INFLUXD_CONF.format(
                port=port,
                rpc_port=rpc_port,
                workdir=workdir,
                max_body_size=max_body_size,
                auth=str(auth).lower(),
            )
        )
        server = Influxd(
            "influxd", [str(binary), "-config", str(conf)], port, workdir, probe_s=30.0
        )
        try:
            server.start()
        except ServerError:
            if _attempt == 2:
                raise
            continue
        return server
    raise AssertionError("unreachable")
