"""The per-wearer streaming engine: sample batches in, seconds, events and minutes out.

    batches -> Epocher (per sensor) -> Aligner -> Classifier -> NotWornDetector -> Debouncer
            -> SlouchTracker -> PostureBouts, SittingBouts, MinuteAggregator

Every stage releases a second only when nothing that arrives later can change it, so the output
depends only on the samples and their timestamps, never on how they were chunked into batches.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from .align import Aligner
from .bouts import PostureBouts, SittingBouts
from .classify import Classifier
from .debounce import Debouncer
from .epochs import EpochBlock, Epocher
from .minutes import MinuteAggregator
from .notworn import NotWornDetector
from .orientation import Calibration
from .params import AnalyticsParams
from .records import Event, EventKind, MinuteMetrics, Placement, SampleBatch, WearerState
from .slouch import SlouchTracker
from .timeline import POSTURES, Timeline


@dataclass(slots=True)
class Output:
    """What one call to the engine released, in time order within each list."""

    timeline: Timeline = field(default_factory=Timeline.empty)
    events: list[Event] = field(default_factory=list)
    minutes: list[MinuteMetrics] = field(default_factory=list)

    @staticmethod
    def merge(parts: list[Output]) -> Output:
        """The outputs of consecutive calls as one."""
        return Output(
            timeline=Timeline.concat([p.timeline for p in parts]),
            events=[e for p in parts for e in p.events],
            minutes=[m for p in parts for m in p.minutes],
        )


class WearerMonitor:
    """Streaming analytics for one wearer with a trunk and/or a thigh sensor."""

    def __init__(
        self,
        wearer_id: str,
        *,
        placements: Iterable[Placement] = (Placement.TRUNK,),
        params: AnalyticsParams | None = None,
        calibrations: Mapping[Placement, Calibration] | None = None,
    ) -> None:
        self.wearer_id = wearer_id
        self.params = params or AnalyticsParams()
        th = self.params.thresholds
        self._epochers = {p: Epocher() for p in placements}
        self._aligner = Aligner(self._epochers, step_s=self.params.release_step_s)
        self._classifier = Classifier(
            self._aligner.placements, self.params, calibrations=calibrations
        )
        self._not_worn = NotWornDetector(th)
        self._debouncer = Debouncer(th.min_bout_s)
        self._slouch = SlouchTracker(wearer_id, self.params.slouch)
        self._posture_bouts = PostureBouts(wearer_id)
        self._sitting_bouts = SittingBouts(wearer_id, self.params.bouts)
        self._minutes = MinuteAggregator(wearer_id)

    @property
    def placements(self) -> tuple[Placement, ...]:
        return self._aligner.placements

    def state(self) -> WearerState | None:
        """The wearer's current posture and bouts; None before the first released second."""
        run = self._posture_bouts.current
        if run is None:
            return None
        bout = self._sitting_bouts.bout
        return WearerState(
            wearer_id=self.wearer_id,
            t_s=run.end_s,
            posture=POSTURES[run.code],
            posture_since_s=run.start_s,
            sitting_since_s=bout.start_s if bout is not None else None,
            calibrated=any(r.up is not None for r in self._classifier.references.values()),
        )

    def feed(self, placement: Placement, batch: SampleBatch) -> Output:
        """Process one batch of samples from the wearer's `placement` sensor."""
        epocher = self._epochers.get(placement)
        if epocher is None:
            raise ValueError(f"wearer {self.wearer_id} has no {placement} sensor")
        block = epocher.push(batch.times(), batch.accel_g, rate_hz=batch.rate_hz)
        return self._downstream(self._aligner.push(placement, block), final=False)

    def finish(self) -> Output:
        """Release everything still held: the end of the data."""
        parts = [
            self._downstream(self._aligner.push(placement, epocher.flush()), final=False)
            for placement, epocher in self._epochers.items()
        ]
        parts.append(self._downstream(self._aligner.flush(), final=True))
        return Output.merge(parts)

    def _downstream(self, aligned: dict[Placement, EpochBlock], *, final: bool) -> Output:
        timeline, calibrations = self._classifier.push(aligned, final=final)
        timeline = self._not_worn.push(timeline)
        if final:
            timeline = Timeline.concat([timeline, self._not_worn.flush()])
        timeline = self._debouncer.push(timeline)
        if final:
            timeline = Timeline.concat([timeline, self._debouncer.flush()])
        timeline, events = self._slouch.push(timeline)
        if final:
            tail, more = self._slouch.flush()
            timeline = Timeline.concat([timeline, tail])
            events = events + more
        events = [*self._calibration_events(calibrations), *events]
        events += self._posture_bouts.push(timeline) + self._sitting_bouts.push(timeline)
        minutes = self._minutes.push(timeline)
        if final:
            events += self._posture_bouts.flush() + self._sitting_bouts.flush()
            minutes += self._minutes.flush()
        events.sort(key=lambda e: (e.end_s, e.start_s, e.kind.value))
        return Output(timeline=timeline, events=events, minutes=minutes)

    def _calibration_events(self, calibrations: list[Calibration]) -> list[Event]:
        return [
            Event(
                wearer_id=self.wearer_id,
                kind=EventKind.CALIBRATION,
                start_s=c.t_s,
                end_s=c.t_s,
                values={"source": c.source, "up": ",".join(f"{v:.4f}" for v in c.up)},
            )
            for c in calibrations
        ]
