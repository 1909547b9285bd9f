"""`posture recorder` as a process of its own, as an operator runs it: for the demo (on its own
core, as in a deployment), the benchmarks and the fault tests (which kill it).

The process is configured only by `POSTURE_*` environment variables made from the settings it
is given (none are inherited). Its log goes to a file: a pipe nobody reads fills up (64 KiB, a
few minutes of health lines) and the recorder would stop at its next log line. Whether it is up
and what it wrote are read from its own retained health report.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import IO, Any, ClassVar

from pydantic import BaseModel, SecretStr

from analytics.contract import recorder_topic
from dashboards.recorder.health import RecorderStats
from dashboards.settings import InfluxSettings, RecorderSettings
from transport.mqtt import BrokerError, connect, make_client
from transport.settings import MqttSettings

Report = dict[str, Any]


def environment(section: str, model: BaseModel) -> dict[str, str]:
    """`POSTURE_<SECTION>__<FIELD>` variables that reproduce `model` in another process."""
    env = {}
    for name, value in model:
        if value is None:
            continue
        if isinstance(value, SecretStr):
            text = value.get_secret_value()
        elif isinstance(value, bool):
            text = "true" if value else "false"
        else:
            text = str(value)
        env[f"POSTURE_{section.upper()}__{name.upper()}"] = text
    return env


class RecorderProcess:
    """`posture recorder` in a child process.

    `start()` only starts it (a fault test may expect it to fail); as a context manager it also
    waits for its retained "online" report and always stops it. The report is read with `watch`
    (default: `mqtt` under a random client id); on a broker that binds client ids to user names
    (the shipped one) that must be another user, or the watcher would log the recorder out.
    Every process started is in `started`, for a test fixture to stop what a failed test left.
    """

    started: ClassVar[list[RecorderProcess]] = []

    def __init__(
        self,
        mqtt: MqttSettings,
        influx: InfluxSettings,
        recorder: RecorderSettings,
        *,
        log_path: Path | None = None,
        args: tuple[str, ...] = (),
        watch: MqttSettings | None = None,
    ) -> None:
        self.mqtt, self.recorder = mqtt, recorder
        self.log_path, self.args = log_path, args
        self.watch_settings = watch or mqtt
        clean = {k: v for k, v in os.environ.items() if not k.startswith("POSTURE_")}
        self._env = clean | environment("mqtt", mqtt) | environment("influx", influx)
        self._env |= environment("recorder", recorder)
        self._health: Report = {}
        self._changed = threading.Condition()
        self._watch: Any = None
        self._log: IO[bytes] | None = None
        self._kept = ""  # what a temporary log held when it was closed
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self.process is not None, "not started"
        return self.process.pid

    def start(self) -> RecorderProcess:
        if self.log_path is not None:
            self._log = self.log_path.open("ab")
        else:  # closed by stop() or kill(), which keep what it holds
            self._log = tempfile.TemporaryFile()  # noqa: SIM115
        self.process = subprocess.Popen(
            [sys.executable, "-m", "posture.cli", *self.args, "recorder"],
            env=self._env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        RecorderProcess.started.append(self)
        return self

    def __enter__(self) -> RecorderProcess:
        self.start()
        try:
            self.wait_online(timeout_s=30.0)
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def stop(self) -> int:
        """SIGTERM, and SIGKILL if it has not ended 30 s later; its return code."""
        process = self._process()
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(30.0)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self._close()
        return process.returncode

    def kill(self) -> None:
        """SIGKILL: no chance to write or acknowledge anything more."""
        process = self._process()
        process.send_signal(signal.SIGKILL)
        process.wait(10.0)
        self._close()

    def output(self) -> str:
        """What the recorder logged so far."""
        if self.log_path is not None:
            return self.log_path.read_text(errors="replace")
        assert self._log is not None, "not started"
        if self._log.closed:
            return self._kept
        fd = self._log.fileno()  # the child shares its offset: read without moving it
        return os.pread(fd, os.fstat(fd).st_size, 0).decode(errors="replace")

    def wait_online(self, *, timeout_s: float) -> Report:
        """Block until its retained health report says "online" (it has subscribed)."""
        return self._wait(lambda h: h.get("status") == "online", timeout_s=timeout_s, what="start")

    def wait_until_written(self, count: int, *, timeout_s: float) -> RecorderStats:
        """Block until `count` messages are written (or dead-lettered); the recorder's counters."""
        report = self._wait(
            lambda h: (
                h.get("written_messages", 0) + h.get("rejected", 0) >= count
                and h.get("held", 1) == 0
            ),
            timeout_s=timeout_s,
            what="write everything",
        )
        fields = RecorderStats.__dataclass_fields__
        return RecorderStats(**{k: int(v) for k, v in report.items() if k in fields})

    def _process(self) -> subprocess.Popen[bytes]:
        assert self.process is not None, "not started"
        return self.process

    def _close(self) -> None:
        if self._watch is not None:
            self._watch.disconnect()
            self._watch.loop_stop()
            self._watch = None
        if self.process is not None and self.process.poll() is not None:
            with contextlib.suppress(ValueError):
                RecorderProcess.started.remove(self)
        if self._log is not None and not self._log.closed:
            if self.log_path is None:
                self._kept = self.output()  # the temporary file was the only copy
            self._log.close()

    def _watching(self) -> None:
        if self._watch is not None:
            return
        topic = recorder_topic(self.mqtt.topic_root, self.recorder.client_id)
        self._watch = make_client(self.watch_settings, "")
        self._watch.on_connect = lambda c, *_: c.subscribe(topic, qos=1)
        self._watch.on_message = self._on_health
        connect(self._watch, self.watch_settings)

    def _on_health(self, _c: object, _u: object, msg: Any) -> None:
        try:
            report = json.loads(msg.payload)
        except ValueError:
            return
        with self._changed:
            self._health = report if isinstance(report, dict) else {}
            self._changed.notify_all()

    def _wait(self, done: Callable[[Report], bool], *, timeout_s: float, what: str) -> Report:
        self._watching()
        process = self._process()
        deadline = time.monotonic() + timeout_s
        with self._changed:
            while not done(self._health):
                if process.poll() is not None:
                    error = self.output().strip()
                    last = error.splitlines()[-1] if error else "no message"
                    raise BrokerError(f"the recorder stopped at {what}: {last}")
                if time.monotonic() > deadline:
                    raise BrokerError(f"the recorder did not {what} within {timeout_s:g} s")
                self._changed.wait(0.2)
            return dict(self._health)
