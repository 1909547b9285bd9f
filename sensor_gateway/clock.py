"""The clock model: sample times for notifications that carry no timestamps.

Sensors sample at a steady (nominal, slightly wrong) rate and notify in bursts. Receive times are
production times plus a latency that is never negative and often large, so the earliest arrivals
bound production from above: sample times follow the nominal grid anchored to the lower envelope
of receive times over a sliding window, and the rate is re-estimated from that envelope across
windows (drift correction, clamped to `max_drift`). Times never go backwards.

A packet that arrives later than `gap_tolerance_s` after its predicted time means packets were
lost: the stream starts a new segment at the receive time and reports the lost samples estimated
from the hole. Profiles with a device clock (Polar H10) give the exact count instead, and the
hole stays in the grid. Gaps are never filled: missing samples stay missing.

Pure and synchronous: time comes in as arguments (seconds on any axis), nothing is read.
"""

from __future__ import annotations

import collections
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Placed:
    """Where the samples of one packet sit in time."""

    t0: float  # time of the packet's first sample
    rate_hz: float  # the estimated true sample rate
    lost: int  # samples lost just before this packet (0 when contiguous)
    new_segment: bool  # first packet after a (re)start or a gap

    def t_end(self, n: int) -> float:
        """One period after the last of `n` samples."""
        return self.t0 + n / self.rate_hz


class ClockModel:
    """Sample times for one sensor's packets, oldest first (see the module docstring)."""

    def __init__(
        self,
        rate_hz: float,
        *,
        gap_tolerance_s: float = 0.5,
        window_s: float = 10.0,
        max_drift: float = 0.02,
    ) -> None:
        if not rate_hz > 0:
            raise ValueError(f"rate_hz must be positive, got {rate_hz}")
        self.nominal_hz = rate_hz
        self.rate_hz = rate_hz
        self.gap_tolerance_s = gap_tolerance_s
        self.window_s = window_s
        self.max_drift = max_drift
        self.lost = 0  # samples known or estimated lost, in total
        self.gaps = 0
        self._started = False
        self.reset()

    def reset(self) -> None:
        """Forget the anchor (e.g. after a reconnect): the next packet starts a new segment."""
        self._k = 0  # index of the next sample in the segment
        self._next_t: float | None = None  # earliest time the next sample may take
        self._recent: collections.deque[tuple[int, float]] = collections.deque()
        self._window_start = 0.0
        self._window_min: tuple[int, float] | None = None
        self._minima: list[tuple[int, float]] = []
        self._device_t: float | None = None
        self._fresh = True

    def place(self, n: int, received_s: float, *, device_time_s: float | None = None) -> Placed:
        """Times for a packet of `n` samples received at `received_s`."""
        if n <= 0:
            raise ValueError(f"a packet has at least one sample, got {n}")
        lost = self._device_gap(n, device_time_s)
        self._k += lost
        k_last = self._k + n - 1
        if not self._fresh:
            late = received_s - (self._anchor() + k_last / self.rate_hz)
            if late > self.gap_tolerance_s and device_time_s is None:
                lost += max(1, round(late * self.rate_hz))
                self.reset()
                self._device_t = device_time_s
                k_last = n - 1
        new_segment = self._fresh
        if self._fresh:
            self._window_start = received_s
            self._fresh = False
        self._observe(k_last, received_s)
        t0 = self._anchor() + (k_last - n + 1) / self.rate_hz
        end = t0 + n / self.rate_hz
        rate = self.rate_hz
        if self._next_t is not None:
            earliest = self._next_t + lost / self.rate_hz
            if t0 < earliest:  # placed too late so far: catch up, at most max_drift faster
                fastest = self.rate_hz * (1 + self.max_drift)
                t0, rate = earliest, max(self.rate_hz, min(fastest, n / max(end - earliest, 1e-9)))
        self._next_t = t0 + n / rate
        self._k = k_last + 1
        if lost:
            self.lost += lost
            self.gaps += 1
        return Placed(t0=t0, rate_hz=rate, lost=lost, new_segment=new_segment)

    def _device_gap(self, n: int, device_time_s: float | None) -> int:
        """Samples missing between the last packet and this one, from the sensor's clock."""
        previous, self._device_t = self._device_t, device_time_s
        if device_time_s is None or previous is None or self._fresh:
            return 0
        return max(0, round((device_time_s - previous) * self.nominal_hz) - n)

    def _anchor(self) -> float:
        """Time of sample 0: the lower envelope of receive times over the recent window."""
        return min(r - k / self.rate_hz for k, r in self._recent)

    def _observe(self, k_last: int, received_s: float) -> None:
        recent = self._recent
        offset = received_s - k_last / self.rate_hz
        while recent and recent[-1][1] - recent[-1][0] / self.rate_hz >= offset:
            recent.pop()  # can never be the minimum again (monotonic deque)
        recent.append((k_last, received_s))
        while recent[0][1] < received_s - self.window_s and len(recent) > 1:
            recent.popleft()
        if (
            self._window_min is None
            or offset < self._window_min[1] - self._window_min[0] / self.rate_hz
        ):
            self._window_min = (k_last, received_s)
        if received_s - self._window_start >= self.window_s:
            self._minima.append(self._window_min)
            self._window_min, self._window_start = None, received_s
            self._estimate_rate()

    def _estimate_rate(self) -> None:
        if len(self._minima) < 3:
            return
        (k0, r0), (k1, r1) = self._minima[0], self._minima[-1]
        if r1 <= r0 or k1 <= k0:
            return
        rate = (k1 - k0) / (r1 - r0)
        lo, hi = self.nominal_hz * (1 - self.max_drift), self.nominal_hz * (1 + self.max_drift)
        self.rate_hz = min(max(rate, lo), hi)
