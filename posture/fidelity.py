"""Is the live path faithful? What InfluxDB holds after a live run, against the offline analysis
of the very samples the virtual sensors sent, and every sample accounted for.

The demo and `bench/fidelity.py` end with this check: a run that lost samples, or whose sitting
time read back from InfluxDB differs from the offline analysis by more than `tolerance_pct`,
fails loudly instead of printing numbers as if all were well. `bench/fidelity.py` also counts
messages: what the gateway released (`Released`, a tap on its sink) against the points in
InfluxDB (`delivery`).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field

from analytics.monitor import Output
from analytics.offline import analyze
from analytics.params import AnalyticsParams
from analytics.records import DeviceHealth, Event, MinuteMetrics, Placement, Trace, WearerState
from analytics.summary import DaySummary
from sensor_gateway.gateway import HealthSink
from sensor_gateway.publisher import Sink

SITTING_TOLERANCE_PCT = 1.0


@dataclass(frozen=True, slots=True)
class SensorCount:
    """What became of one virtual sensor's samples."""

    wearer_id: str
    placement: Placement
    produced: int  # samples in its trace: everything it was to send
    received: int  # samples the gateway decoded
    refused: int  # received, then not analysed (analysis queue full, timed too early)

    @property
    def lost(self) -> int:
        return max(0, self.produced - self.received) + self.refused


@dataclass(frozen=True, slots=True)
class WearerCheck:
    """One wearer's day: read back from InfluxDB against the offline analysis."""

    wearer_id: str
    offline: DaySummary
    readback: DaySummary

    @property
    def sitting_diff_pct(self) -> float:
        reference = max(self.offline.sitting_s, 1)
        return 100.0 * abs(self.readback.sitting_s - self.offline.sitting_s) / reference

    @property
    def bout_diff(self) -> int:
        return self.readback.sitting_bouts - self.offline.sitting_bouts


@dataclass(frozen=True, slots=True)
class Fidelity:
    sensors: tuple[SensorCount, ...]
    wearers: tuple[WearerCheck, ...]
    tolerance_pct: float = SITTING_TOLERANCE_PCT

    @property
    def samples_lost(self) -> int:
        return sum(s.lost for s in self.sensors)

    @property
    def max_sitting_diff_pct(self) -> float:
        return max((w.sitting_diff_pct for w in self.wearers), default=0.0)

    @property
    def ok(self) -> bool:
        return self.samples_lost == 0 and self.max_sitting_diff_pct <= self.tolerance_pct

    def lines(self) -> list[str]:
        """The differences, in plain words, one line each."""
        out = []
        for s in self.sensors:
            if s.lost:
                out.append(
                    f"{s.wearer_id} {s.placement.value}: {s.lost} of {s.produced} samples lost "
                    f"({s.produced - s.received} never received, {s.refused} not analysed)"
                )
        for w in self.wearers:
            out.append(
                f"{w.wearer_id}: sitting {w.readback.sitting_s} s in InfluxDB, "
                f"{w.offline.sitting_s} s offline ({w.sitting_diff_pct:.2f} %); sitting bouts "
                f"{w.readback.sitting_bouts} vs {w.offline.sitting_bouts}"
            )
        return out

    def result_line(self) -> str:
        return (
            f"RESULT wearers={len(self.wearers)} samples_lost={self.samples_lost} "
            f"max_sitting_diff_pct={self.max_sitting_diff_pct:.2f}"
        )


def offline_summaries(
    traces: Mapping[str, Mapping[Placement, Trace]], params: AnalyticsParams
) -> dict[str, DaySummary]:
    """Each wearer's day as the offline analysis sees the same samples."""
    return {
        wearer: analyze(by_placement, wearer_id=wearer, params=params).summary
        for wearer, by_placement in traces.items()
    }


def check(
    sensors: Iterable[SensorCount],
    offline: Mapping[str, DaySummary],
    readback: Mapping[str, DaySummary],
    *,
    tolerance_pct: float = SITTING_TOLERANCE_PCT,
) -> Fidelity:
    return Fidelity(
        sensors=tuple(sensors),
        wearers=tuple(WearerCheck(wearer, offline[wearer], readback[wearer]) for wearer in offline),
        tolerance_pct=tolerance_pct,
    )


@dataclass
class Released:
    """The gateway's sink (and, given `health`, its device health sink), passing everything on
    and keeping the events, minutes and device reports (called on the analytics thread only)."""

    sink: Sink
    health: HealthSink | None = None
    events: list[Event] = field(default_factory=list)
    minutes: list[MinuteMetrics] = field(default_factory=list)
    devices: list[DeviceHealth] = field(default_factory=list)

    def publish_device(self, health: DeviceHealth) -> None:
        self.devices.append(health)
        if self.health is not None:
            self.health.publish_device(health)

    def publish_output(self, wearer_id: str, output: Output) -> None:
        self.events += output.events
        self.minutes += output.minutes
        self.sink.publish_output(wearer_id, output)

    def publish_state(
        self, state: WearerState, *, sitting_today_s: float, battery_pct: int | None
    ) -> None:
        self.sink.publish_state(state, sitting_today_s=sitting_today_s, battery_pct=battery_pct)


@dataclass(frozen=True, slots=True)
class Delivery:
    """One kind of record: what the gateway released against what InfluxDB holds."""

    kind: str
    released: int  # distinct records released
    missing: int  # released, and not in InfluxDB
    duplicates: int  # points in InfluxDB beyond one per record
    unknown: int  # records in InfluxDB that were never released

    def line(self) -> str:
        return (
            f"{self.kind}: {self.released} released, {self.missing} missing in InfluxDB, "
            f"{self.duplicates} duplicate(s), {self.unknown} never released"
        )


def delivery(kind: str, released: Iterable[Hashable], stored: Iterable[Hashable]) -> Delivery:
    """Compare the keys of the records released (repeats are one record) with the keys of the
    points stored (one per point: a repeat is a duplicate)."""
    sent = set(released)
    points = list(stored)
    held = set(points)
    return Delivery(
        kind,
        released=len(sent),
        missing=len(sent - held),
        duplicates=len(points) - len(held),
        unknown=len(held - sent),
    )
