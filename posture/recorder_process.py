"""The recorder as a process of its own (`posture recorder`), for the demo.

It runs on its own core, as in a deployment; the demo hands it the endpoints through
`POSTURE_*` environment variables, waits for its retained "online" health report (it has
subscribed: nothing published from then on is missed), and reads its counters from the same
retained report until everything published is written.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from types import TracebackType
from typing import Any

from pydantic import BaseModel, SecretStr

from analytics.contract import recorder_topic
from dashboards.health import RecorderStats

from .mqtt import BrokerError, connect, make_client
from .settings import InfluxSettings, MqttSettings, RecorderSettings


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
    """`posture recorder` in a child process; a context manager that always stops it."""

    def __init__(
        self, mqtt: MqttSettings, influx: InfluxSettings, recorder: RecorderSettings
    ) -> None:
        self.mqtt = mqtt
        self.recorder = recorder.model_copy(
            update={"client_id": f"posture-demo-recorder-{os.getpid()}", "health_interval_s": 0.5}
        )
        self._env = os.environ | environment("mqtt", mqtt) | environment("influx", influx)
        self._env |= environment("recorder", self.recorder)
        self._env.pop("POSTURE_CONFIG", None)
        self._health: dict[str, Any] = {}
        self._changed = threading.Condition()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def __enter__(self) -> RecorderProcess:
        topic = recorder_topic(self.mqtt.topic_root, self.recorder.client_id)
        self._watch = make_client(self.mqtt, "")
        self._watch.on_connect = lambda c, *_: c.subscribe(topic, qos=1)
        self._watch.on_message = self._on_health
        connect(self._watch, self.mqtt)
        # its log goes to a file: a pipe nobody reads fills up (64 KiB, a few minutes of health
        # lines) and the recorder would stop at its next log line
        self._log = tempfile.TemporaryFile()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "posture.cli", "recorder"],
            env=self._env,
            stdout=subprocess.DEVNULL,
            stderr=self._log,
        )
        try:
            self._wait(lambda h: h.get("status") == "online", timeout_s=30.0, what="start")
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30.0)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._watch.disconnect()
        self._watch.loop_stop()
        self._log.close()

    def output(self) -> str:
        """What the recorder logged so far."""
        self._log.seek(0)
        return self._log.read().decode(errors="replace")

    def _on_health(self, _c: object, _u: object, msg: Any) -> None:
        try:
            report = json.loads(msg.payload)
        except ValueError:
            return
        with self._changed:
            self._health = report if isinstance(report, dict) else {}
            self._changed.notify_all()

    def _wait(self, done: Any, *, timeout_s: float, what: str) -> dict[str, Any]:
        deadline = time.monotonic() + timeout_s
        with self._changed:
            while not done(self._health):
                assert self.process is not None
                if self.process.poll() is not None:
                    error = self.output()
                    last = error.strip().splitlines()[-1] if error.strip() else "no message"
                    raise BrokerError(f"the recorder stopped at {what}: {last}")
                if time.monotonic() > deadline:
                    raise BrokerError(f"the recorder did not {what} within {timeout_s:g} s")
                self._changed.wait(0.2)
            return dict(self._health)

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
