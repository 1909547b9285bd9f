"""The stream's time axis: unix seconds, optionally running faster than real time.

Production uses real time. The demo and tests may accelerate virtual sensors (`speed` > 1): the
sensors produce and the gateway time-stamps samples on the same accelerated axis, while link
timeouts (watchdog, backoff) stay in real seconds because they are about the radio.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class TimeBase:
    """`now()` = origin + elapsed real time x speed."""

    origin_s: float = field(default_factory=time.time)
    speed: float = 1.0
    _started: float = field(default_factory=time.monotonic, repr=False)

    def __post_init__(self) -> None:
        if not self.speed > 0:
            raise ValueError(f"speed must be positive, got {self.speed}")

    def now(self) -> float:
        """Seconds on the stream's axis."""
        return self.origin_s + (time.monotonic() - self._started) * self.speed

    def real_s(self, stream_s: float) -> float:
        """How long `stream_s` of stream time lasts in real seconds."""
        return stream_s / self.speed
