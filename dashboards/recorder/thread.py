"""The recorder in a thread of this process (`posture run`, tests and benchmarks)."""

from __future__ import annotations

import threading
import time

from transport.mqtt import BrokerError

from .health import RecorderStats
from .service import Recorder


class RecorderThread:
    """`Recorder.run` in a daemon thread: `start` returns once it is connected and subscribed,
    `stop` once it has written what it took; an error in the thread is raised by either."""

    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="recorder", daemon=True)

    def _run(self) -> None:
        try:
            self.recorder.run(ready=self._ready)
        except BaseException as err:  # reported to the caller by start() / stop()
            self._error = err
            self._ready.set()

    def start(self, *, timeout_s: float = 30.0) -> None:
        self._thread.start()
        if not self._ready.wait(timeout_s):
            raise BrokerError("recorder did not connect in time")
        if self._error is not None:
            raise self._error

    def wait_for(self, count: int, *, timeout_s: float) -> bool:
        """Wait until `count` messages were written or rejected; False on timeout."""
        deadline = time.monotonic() + timeout_s
        stats = self.recorder.stats
        while stats.written_messages + stats.rejected < count:
            if time.monotonic() > deadline or self._error is not None:
                return False
            time.sleep(0.05)
        return True

    def stop(self) -> RecorderStats:
        self.recorder.stop()
        self._thread.join(30.0)
        if self._error is not None:
            raise self._error
        return self.recorder.stats
