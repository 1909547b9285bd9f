"""The stream's time axis: unix seconds, optionally running faster than real time.

Production uses real time. The demo and tests may accelerate virtual sensors (`speed` > 1): the
sensors produce and the gateway time-stamps samples on the same accelerated axis, while link
timeouts (watchdog, backoff) stay in real seconds because they are about the radio.

A real radio cannot wait; a simulated day can. `PacedTimeBase` is the time of a simulation whose
sensors are paced by their consumer: it advances at `speed` only while the consumer keeps up,
and never by more than `max_step_s` of stream time at once, so a busy host slows the simulation
down instead of making its sensors overflow.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class TimeBase:
    """`now()` = origin + elapsed real time x speed."""

    __slots__ = ("_started", "origin_s", "speed")

    def __init__(self, origin_s: float | None = None, speed: float = 1.0) -> None:
        if not speed > 0:
            raise ValueError(f"speed must be positive, got {speed}")
        self.origin_s = time.time() if origin_s is None else origin_s
        self.speed = speed
        self._started = time.monotonic()

    def now(self) -> float:
        """Seconds on the stream's axis."""
        return self.origin_s + (time.monotonic() - self._started) * self.speed

    def real_s(self, stream_s: float) -> float:
        """How long `stream_s` of stream time lasts in real seconds (at most)."""
        return stream_s / self.speed

    def __repr__(self) -> str:
        return f"{type(self).__name__}(origin_s={self.origin_s!r}, speed={self.speed!r})"


class PacedTimeBase(TimeBase):
    """Stream time that waits for its consumer (simulations only; see the module docstring).

    Held (not advancing) while `held(t)` is true for the time `t` it would advance to, which
    the simulation sets with `hold_while` (for example: while the gateway is still connecting
    its sensors, while a sensor has more than a few samples due by `t` that it could not send
    yet, or while the analytics have batches waiting). Thread-safe; `held` must not call
    `now()`.
    """

    __slots__ = ("_held", "_last", "_lock", "_stream", "max_step_s")

    def __init__(
        self, origin_s: float | None = None, speed: float = 1.0, *, max_step_s: float = 5.0
    ) -> None:
        super().__init__(origin_s, speed)
        self.max_step_s = max_step_s  # of stream time, between two looks at the clock
        self._lock = threading.Lock()
        self._last = time.monotonic()
        self._stream = 0.0
        self._held: Callable[[float], bool] = lambda _t: False

    def hold_while(self, held: Callable[[float], bool]) -> None:
        self._held = held

    def now(self) -> float:
        with self._lock:
            real = time.monotonic()
            step = min((real - self._last) * self.speed, self.max_step_s)
            self._last = real
            if step > 0 and not self._held(self.origin_s + self._stream + step):
                self._stream += step
            return self.origin_s + self._stream
