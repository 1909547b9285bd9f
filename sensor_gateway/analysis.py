"""The edge analytics in a thread of their own, fed by the radio loop through a bounded queue.

The radio loop must never wait for anything but the radio. `offer` takes a sample batch or
refuses it at once, when `max_batches` are already waiting: the caller counts those samples as
lost (reason `queue`), as a real sensor's buffer would lose them. Everything else the loop hands
over (`call`: commands, health reports, the end) is small and rare and always taken.

The thread ("analytics") is the only user of the `EdgeService` (the wearers' engines) and of
what the service publishes to (the outbox): a slow broker or disk never reaches the radio. The
service's `live` view may be read from other threads (plain attributes, replaced whole).
Nudges the engines issue go back to the loop through `on_nudge`, which must be thread-safe.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from typing import Any

from analytics.monitor import Output
from analytics.records import EventKind, SampleBatch

from .profiles import Nudge
from .service import EdgeService, SensorKey

log = logging.getLogger(__name__)

_FINISH = object()


class Analysis:
    """Runs `service` on its own thread (see the module docstring)."""

    def __init__(
        self,
        service: EdgeService,
        *,
        max_batches: int = 5000,
        on_nudge: Callable[[str, Nudge], None] | None = None,
    ) -> None:
        self.service = service
        self.on_nudge = on_nudge
        self.max_batches = max_batches
        self.offered = 0  # batches taken by `offer` (written by the caller's thread only)
        self.analysed = 0  # batches analysed (written by the analytics thread only)
        self.errors = 0  # calls that raised (logged; the thread goes on)
        self._room = threading.BoundedSemaphore(max_batches)
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="analytics", daemon=True)
        self._results: dict[str, Output] = {}

    def start(self) -> None:
        self._thread.start()

    @property
    def backlog(self) -> int:
        """Batches waiting (each counter has one writer, so this is safe to read anywhere)."""
        return self.offered - self.analysed

    def offer(self, key: SensorKey, batch: SampleBatch) -> bool:
        """Queue `batch` for analysis unless the queue is full; never waits."""
        if not self._room.acquire(blocking=False):
            return False
        self.offered += 1
        self._queue.put((key, batch))
        return True

    def call(self, fn: Callable[..., object], *args: object) -> None:
        """Run `fn(*args)` on the analytics thread, in order with the batches."""
        self._queue.put((fn, args))

    def finish(self, timeout_s: float = 60.0) -> dict[str, Output]:
        """Analyse what is queued, release everything the engines hold, stop the thread.

        Blocks: call it from a worker thread (`asyncio.to_thread`) inside a running loop.
        """
        self._queue.put(_FINISH)
        self._thread.join(timeout_s)
        if self._thread.is_alive():
            log.error("analytics did not finish within %.0f s", timeout_s)
        return self._results

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is _FINISH:
                self._results = self._guarded(self.service.finish) or {}
                for wearer, output in self._results.items():
                    self._nudges(wearer, output)
                return
            first, second = item
            if isinstance(first, SensorKey):
                self._room.release()
                output = self._guarded(self.service.on_batch, first, second)
                self.analysed += 1  # after: `backlog` counts the batch in hand
                if output is not None:
                    self._nudges(first.wearer_id, output)
            else:
                self._guarded(first, *second)

    def _guarded(self, fn: Callable[..., Any], *args: object) -> Any:
        try:
            return fn(*args)
        except Exception:  # one bad batch or command must not end the analytics
            self.errors += 1
            log.exception("analytics: %s failed", getattr(fn, "__name__", fn))
            return None

    def _nudges(self, wearer_id: str, output: Output) -> None:
        if self.on_nudge is None:
            return
        for event in output.events:
            reason = event.values.get("reason")
            if event.kind is EventKind.NUDGE and reason in {n.value for n in Nudge}:
                self.on_nudge(wearer_id, Nudge(str(reason)))
