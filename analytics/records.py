"""The typed records that flow between the stages of the pipeline.

Time inside records is float seconds on the stream's own time axis: unix seconds (UTC) for live
sensors and anchored replays, seconds from the start of the recording for offline traces.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray


class Posture(StrEnum):
    """What the wearer is doing during one second."""

    SITTING = "sitting"
    STANDING = "standing"
    WALKING = "walking"
    LYING = "lying"
    NOT_WORN = "not_worn"
    UNKNOWN = "unknown"


UPRIGHT = frozenset({Posture.STANDING, Posture.WALKING})


class Placement(StrEnum):
    """Where on the body a sensor is worn."""

    TRUNK = "trunk"
    THIGH = "thigh"


class EventKind(StrEnum):
    """The kinds of event the analytics emit (docs/architecture.md section 6)."""

    POSTURE_BOUT = "posture_bout"  # a closed bout of one posture
    SITTING_BOUT = "sitting_bout"  # a closed sitting bout, with its breaks summarised
    SLOUCH = "slouch"  # a closed slouch episode
    NUDGE = "nudge"  # a nudge was issued
    NUDGE_OUTCOME = "nudge_outcome"  # whether a break followed a nudge in time
    NUDGE_DECISION = "nudge_decision"  # a moment a nudge was due: sent, withheld or dropped
    CALIBRATION = "calibration"  # a new upright reference
    DESK = "desk"  # a closed stretch with a sit-stand desk at one height


@dataclass(frozen=True, slots=True, eq=False)
class SampleBatch:
    """Consecutive accelerometer samples from one sensor at a uniform rate."""

    sensor_id: str
    seq: int  # packet counter; a jump means lost packets
    t0: float  # seconds, time of accel_g[0]
    rate_hz: float
    accel_g: NDArray[np.floating[Any]]  # shape (n, 3), in g

    def __post_init__(self) -> None:
        if self.accel_g.ndim != 2 or self.accel_g.shape[1] != 3:
            raise ValueError(f"accel_g must be (n, 3), got {self.accel_g.shape}")
        if not self.rate_hz > 0:
            raise ValueError(f"rate_hz must be positive, got {self.rate_hz}")

    def __len__(self) -> int:
        return int(self.accel_g.shape[0])

    @property
    def t_end(self) -> float:
        """Time one sample period after the last sample (the next batch's t0 if contiguous)."""
        return self.t0 + len(self) / self.rate_hz

    def times(self) -> NDArray[np.float64]:
        """Sample times in seconds, shape (n,)."""
        return self.t0 + np.arange(len(self), dtype=np.float64) / self.rate_hz


@dataclass(frozen=True, slots=True)
class Epoch:
    """The classification of one second of data."""

    t_s: float  # start of the second
    posture: Posture
    flexion_deg: float | None  # forward trunk flexion from the calibrated upright
    inclination_deg: float | None = None  # trunk angle from the calibrated upright, any direction


Value = float | int | str | bool


@dataclass(frozen=True, slots=True)
class Event:
    """Something that happened to a wearer, with a start and (for episodes) an end."""

    wearer_id: str
    kind: EventKind
    start_s: float
    end_s: float
    values: Mapping[str, Value] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.end_s < self.start_s:
            raise ValueError(f"event ends before it starts: {self.start_s} > {self.end_s}")

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s

    @property
    def event_id(self) -> str:
        """A stable id from the content that identifies the event (wearer, kind, start)."""
        key = f"{self.wearer_id}|{self.kind.value}|{round(self.start_s * 1000)}"
        if "placement" in self.values:  # one per sensor (calibrations of trunk and thigh)
            key += f"|{self.values['placement']}"
        return hashlib.sha1(key.encode(), usedforsecurity=False).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class Context:
    """A stretch of time in which the wearer is busy: a meeting, a call, driving, presenting."""

    start_s: float
    end_s: float
    source: str = "context"  # where it came from (a calendar, a presence topic, a file's kind)

    def __post_init__(self) -> None:
        if not self.end_s >= self.start_s:
            raise ValueError(f"context ends before it starts: {self.start_s} > {self.end_s}")


@dataclass(frozen=True, slots=True)
class WearerState:
    """What a wearer is doing now, as far as the released data go."""

    wearer_id: str
    t_s: float  # end of the last released second
    posture: Posture
    posture_since_s: float
    sitting_since_s: float | None  # start of the current sitting bout, if any
    calibrated: bool


@dataclass(frozen=True, slots=True)
class DeviceHealth:
    """How one sensor and its link are doing, as the gateway sees it."""

    gateway_id: str
    sensor_id: str  # a short id of the sensor (not its owner's name)
    wearer_id: str
    placement: Placement
    profile: str
    t_s: float  # unix seconds of the report
    connected: bool
    battery_pct: int | None
    rssi_dbm: int | None
    samples: int  # samples received since the gateway started
    lost: int  # samples known to be lost since the gateway started: the sum of `lost_by`
    reconnects: int
    lost_by: Mapping[str, int] = field(default_factory=dict)  # LOSS_REASONS -> samples


# Why a sample a sensor sent was not analysed (DeviceHealth.lost_by):
LOSS_REASONS: Final = (
    "gap",  # missing between packets while connected: radio loss, or the sensor's buffer full
    "disconnected",  # produced while the link was down (from the last sample to the reconnect)
    "queue",  # the gateway could not analyse it in time (its analysis queue was full)
    "clock",  # timed before samples already received: the clock model or the analytics refused it
)


# Why a second has no data (MinuteMetrics.nodata_s): a loss the gateway reported, or none.
NODATA_REASONS: Final = (*LOSS_REASONS, "unreported")


@dataclass(frozen=True, slots=True)
class GatewayHealth:
    """How one gateway is doing: its radio loop, its outbox and what it could not keep."""

    gateway_id: str
    t_s: float  # unix seconds of the report
    loop_lag_ms: float  # the radio loop's longest delay since the last report
    outbox_depth: int  # messages stored and not yet confirmed in InfluxDB (or by the broker)
    outbox_oldest_s: float  # age of the oldest of them (0 when empty)
    outbox_bytes: int
    outbox_dropped: int  # messages that could not be stored (outbox or disk full), since start
    replayed: int  # messages sent again because no recorder confirmed them, since start


EXPOSURE_BANDS_DEG = ((0.0, 20.0), (20.0, 60.0), (60.0, float("inf")))
LATERAL_LIMIT_DEG = 10.0  # ISO 11226 / EN 1005-4: sideways bending beyond this is not acceptable


@dataclass(frozen=True, slots=True)
class MinuteMetrics:
    """What one wearer did during one minute; the posture seconds add up to 60."""

    wearer_id: str
    start_s: float  # start of the minute
    posture_s: Mapping[Posture, int]
    slouch_s: int
    flexion_mean_deg: float | None
    flexion_max_deg: float | None
    band_s: tuple[int, int, int]  # seconds in EXPOSURE_BANDS_DEG
    enmo_mg: float  # mean Euclidean norm minus one, in milli-g
    steps: int = 0
    lateral_s: int = 0  # seconds bent sideways more than LATERAL_LIMIT_DEG (sitting, standing)
    # seconds without any data, by why (NODATA_REASONS); only reasons with seconds appear
    nodata_s: Mapping[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        total = sum(self.posture_s.values())
        if total != 60:
            raise ValueError(f"posture seconds add up to {total}, not 60")
        if sum(self.nodata_s.values()) > 60:
            raise ValueError(f"{sum(self.nodata_s.values())} seconds without data in a minute")


@dataclass(frozen=True, slots=True, eq=False)
class Trace:
    """A recording from one sensor: uniformly sampled, possibly with gaps."""

    t_s: NDArray[np.float64]  # (n,) sample times, increasing
    accel_g: NDArray[np.floating[Any]]  # (n, 3); 32 bits hold any sensor's samples
    rate_hz: float
    source: str = ""  # where it came from, for messages

    def __post_init__(self) -> None:
        if self.accel_g.ndim != 2 or self.accel_g.shape[1] != 3:
            raise ValueError(f"accel_g must be (n, 3), got {self.accel_g.shape}")
        if self.t_s.shape != (self.accel_g.shape[0],):
            raise ValueError(f"t_s must be ({self.accel_g.shape[0]},), got {self.t_s.shape}")

    def __len__(self) -> int:
        return int(self.t_s.shape[0])

    @property
    def duration_s(self) -> float:
        return float(self.t_s[-1] - self.t_s[0]) + 1.0 / self.rate_hz if len(self) else 0.0

    def shifted(self, offset_s: float) -> Trace:
        """The same samples with `offset_s` added to every time (e.g. to anchor at a unix time)."""
        return Trace(
            t_s=self.t_s + offset_s, accel_g=self.accel_g, rate_hz=self.rate_hz, source=self.source
        )

    def batches(self, *, sensor_id: str, max_s: float = 1.0) -> list[SampleBatch]:
        """The trace cut into uniform batches of at most `max_s`, never across a gap."""
        n_max = max(1, round(max_s * self.rate_hz))
        gaps = np.flatnonzero(np.diff(self.t_s) > 1.5 / self.rate_hz) + 1
        bounds = np.concatenate(([0], gaps, [len(self)]))
        out = []
        seq = 0
        for a, b in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True):
            for i in range(a, b, n_max):
                j = min(i + n_max, b)
                out.append(
                    SampleBatch(
                        sensor_id=sensor_id,
                        seq=seq,
                        t0=float(self.t_s[i]),
                        rate_hz=self.rate_hz,
                        accel_g=self.accel_g[i:j],
                    )
                )
                seq += 1
        return out
