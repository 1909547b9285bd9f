"""One sensor's link, as sample batches for the analytics, with every sample accounted for.

    Connected    -> connected()
    Notification -> notification(payload, received_s) -> batches  (decode -> clock -> batch)
    Lost         -> lost_link() -> batches                         (what was being filled)
    the end      -> finish() -> batches

Pure and synchronous: no I/O, no clock reads (receive times come in as arguments), so the gateway
and `posture record` time-stamp a stream alike, and tests feed it without a link. Every sample the
sensor sent is either in a batch or counted in `lost` with a reason
(`analytics.records.LOSS_REASONS`): `gap` for a hole within a connection (the clock model's
estimate, or the sensor's own clock's exact count), `disconnected` for what the sensor produced
while its link was down, and, counted by the caller through `drop`, `queue` for batches the
analytics could not take in time.
"""

from __future__ import annotations

import collections
import logging

from analytics.records import SampleBatch

from .batching import Batcher
from .clock import ClockModel
from .profiles import DecodeError, Profile

log = logging.getLogger(__name__)


class SensorStream:
    """Decode, time-stamp and batch one sensor's notifications (see the module docstring).

    `gap_tolerance_s` and `clock_window_s` are on the stream's time axis (the caller scales
    real-time tolerances by the time base's speed).
    """

    def __init__(
        self,
        name: str,
        profile: Profile,
        *,
        gap_tolerance_s: float = 0.5,
        clock_window_s: float = 10.0,
        batch_s: float = 1.0,
    ) -> None:
        self.name = name
        self.profile = profile
        self.clock = ClockModel(
            profile.rate_hz, gap_tolerance_s=gap_tolerance_s, window_s=clock_window_s
        )
        self.batcher = Batcher(name, batch_s=batch_s)
        self.samples = 0  # decoded samples
        self.bad_packets = 0  # notifications that did not follow the profile's format
        self.lost: collections.Counter[str] = collections.Counter()  # reason -> samples
        self.segments: list[tuple[float, float]] = []  # (start, end) of contiguous data
        self.losses: list[tuple[float, float, str]] = []  # (start, end, reason), for the taking
        self._last_end: float | None = None
        self._link_lost = False  # the link dropped since the last sample

    def connected(self) -> None:
        """A (re)connection: the next packet starts a new segment."""
        self.clock.reset()

    def notification(self, payload: bytes, received_s: float) -> list[SampleBatch]:
        """One notification; returns the batches it completes."""
        try:
            decoded = self.profile.decode(payload)
        except DecodeError as err:
            self.bad_packets += 1
            log.debug("bad packet sensor=%s %s", self.name, err)
            return []
        n = len(decoded)
        placed = self.clock.place(n, received_s, device_time_s=decoded.device_time_s)
        if placed.new_segment and self._last_end is not None:  # the hole since the last sample
            hole = max(0, round((placed.t0 - self._last_end) * placed.rate_hz))
            reason = "disconnected" if self._link_lost else "gap"
            self.lost[reason] += hole
            if hole:
                self.losses.append((self._last_end, placed.t0, reason))
        elif placed.lost:  # counted by the sensor's own clock
            self.lost["gap"] += placed.lost
            self.losses.append((placed.t0 - placed.lost / placed.rate_hz, placed.t0, "gap"))
        self._link_lost = False
        self.samples += n
        end = placed.t_end(n)
        if placed.new_segment or placed.lost or not self.segments:
            self.segments.append((placed.t0, end))
        self.segments[-1] = (self.segments[-1][0], end)
        self._last_end = end
        return self.batcher.add(placed, decoded.accel_g)

    def lost_link(self) -> list[SampleBatch]:
        """The link dropped: what was being batched, now."""
        self._link_lost = True
        return self.batcher.flush()

    def finish(self) -> list[SampleBatch]:
        """The end of the stream: what is still being batched."""
        return self.batcher.flush()

    def drop(self, batch: SampleBatch, reason: str) -> None:
        """A batch the caller could not pass on (reason `queue`: the analytics were full)."""
        self.lost[reason] += len(batch.accel_g)
        self.losses.append((batch.t0, batch.t_end, reason))

    def take_losses(self) -> list[tuple[float, float, str]]:
        """The losses since the last call (start, end, reason), oldest first."""
        losses, self.losses = self.losses, []
        return losses

    @property
    def lost_total(self) -> int:
        return sum(self.lost.values())
