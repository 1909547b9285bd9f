"""The per-wearer streaming engine: sample batches in, seconds, events and minutes out.

    batches -> Epocher (per sensor) -> Aligner -> Classifier -> NotWornDetector -> Debouncer
            -> SlouchTracker -> PostureBouts, SittingBouts, Nudger, DeskTrack, MinuteAggregator

Besides samples, the engine takes what the wearer and the world say, stamped with data time:
commands (calibrate, snooze, do-not-disturb, quiet hours), busy contexts and desk heights.

Every stage releases a second only when nothing that arrives later can change it, so the output
depends only on the samples and their timestamps, never on how they were chunked into batches.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .align import Aligner
from .bouts import PostureBouts, SittingBouts
from .classify import Classifier
from .debounce import Debouncer
from .desk import DeskTrack
from .epochs import EpochBlock, Epocher
from .minutes import MinuteAggregator
from .notworn import NotWornDetector
from .nudges import Nudger
from .orientation import Calibration
from .params import AnalyticsParams
from .records import (
    Context,
    Event,
    EventKind,
    MinuteMetrics,
    Placement,
    SampleBatch,
    WearerState,
)
from .schedule import MAX_PAUSE_S
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
        nudge_state: Mapping[str, Any] | None = None,
        max_wait_s: float = 60.0,
    ) -> None:
        """`calibrations`: references to start from (a wearer's persisted ones); `nudge_state`:
        the adaptive nudge timing learned before (`nudge_state()`; ValueError if it is not
        one); `max_wait_s`: how far one sensor may run ahead of another before its seconds are
        released without the other's (an offline run with long batches needs more than the
        batch length)."""
        self.wearer_id = wearer_id
        self.params = params or AnalyticsParams()
        th = self.params.thresholds
        self._epochers = {p: Epocher() for p in placements}
        self._aligner = Aligner(
            self._epochers, max_wait_s=max_wait_s, step_s=self.params.release_step_s
        )
        self._classifier = Classifier(
            self._aligner.placements, self.params, calibrations=calibrations
        )
        self._not_worn = NotWornDetector(th, breathing=Placement.TRUNK in self.placements)
        self._debouncer = Debouncer(th.min_bout_s)
        self._slouch = SlouchTracker(wearer_id, self.params.slouch)
        self._posture_bouts = PostureBouts(wearer_id)
        self._sitting_bouts = SittingBouts(wearer_id, self.params.bouts)
        self._minutes = MinuteAggregator(wearer_id)
        self._nudger = Nudger(
            wearer_id,
            self.params.nudges,
            self.params.bouts,
            self.params.slouch.hold_s,
            bandit_state=nudge_state,
        )
        self._desk = DeskTrack(wearer_id, self.params.desk)
        self._classifier.use_desk(self._desk)
        self._latest_t = -np.inf  # end of the latest samples fed: "now" for commands

    @property
    def placements(self) -> tuple[Placement, ...]:
        return self._aligner.placements

    def state(self) -> WearerState | None:
        """The wearer's current posture and bouts; None before the first released second.

        After `finish`, the posture of the last second released (with no open sitting bout).
        """
        run = self._posture_bouts.last
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

    def note_loss(self, start_s: float, end_s: float, reason: str) -> None:
        """The gateway lost one of this wearer's sensors' samples in [start_s, end_s) for
        `reason` (`records.LOSS_REASONS`): the minutes say why they have no data."""
        self._minutes.note_loss(start_s, end_s, reason)

    @property
    def latest_s(self) -> float | None:
        """The end of the latest samples fed ("now" for commands); None before any."""
        return float(self._latest_t) if np.isfinite(self._latest_t) else None

    def late_samples(self, placement: Placement) -> int:
        """Samples of that sensor dropped because they were timed before ones already taken."""
        epocher = self._epochers.get(placement)
        return epocher.late_samples if epocher is not None else 0

    def calibration(self) -> dict[Placement, Calibration]:
        """The upright references learned so far (to persist, and pass back in next time)."""
        t = float(self._latest_t) if np.isfinite(self._latest_t) else 0.0
        return {
            p: ref.snapshot(t, "restored")
            for p, ref in self._classifier.references.items()
            if ref.up is not None
        }

    def nudge_state(self) -> dict[str, Any] | None:
        """The adaptive nudge timing learned so far (to persist), None if not adaptive."""
        bandit = self._nudger.bandit
        return bandit.state() if bandit is not None else None

    # -- commands (from the wearer's cmd topic); times are data times, default "now" ---------

    def _now(self, t_s: float | None) -> float:
        if t_s is not None:
            return t_s
        if not np.isfinite(self._latest_t):
            raise ValueError("no data yet: give the command's time")
        return float(self._latest_t)

    def calibrate(self, t_s: float | None = None) -> None:
        """Manual calibration: the wearer sits (or stands) tall for `manual_s` from `t_s` on."""
        self._classifier.calibrate(self._now(t_s))

    def snooze(
        self,
        duration_s: float | None = None,
        t_s: float | None = None,
        *,
        until_s: float | None = None,
    ) -> None:
        """No nudges for `duration_s` (or until `until_s`) from `t_s` on, at most a day;
        replaces an earlier snooze. Raises ValueError."""
        if (duration_s is None) == (until_s is None):
            raise ValueError("give either the snooze's duration or its end")
        if duration_s is not None and not duration_s > 0:
            raise ValueError(f"snooze duration must be positive, got {duration_s}")
        start = self._now(t_s)
        end = start + duration_s if duration_s is not None else until_s
        assert end is not None
        if not end > start:
            raise ValueError(f"snooze must end after it starts, got {end - start:g} s")
        _at_most_a_day("snooze", end - start)
        self._nudger.schedule.snooze(start, end)

    def dnd(self, on: bool, t_s: float | None = None, *, until_s: float | None = None) -> None:
        """Do-not-disturb on or off from `t_s` on; on lasts until `until_s` (at most a day),
        else until the end of the wearer's day (midnight in `NudgePolicy.timezone`). Raises
        ValueError."""
        start = self._now(t_s)
        if on and until_s is not None:
            if not until_s > start:
                raise ValueError(
                    f"do-not-disturb must end after it starts, got {until_s - start:g} s"
                )
            _at_most_a_day("do-not-disturb", until_s - start)
        self._nudger.schedule.dnd(start, on=on, until_s=until_s)

    def context(
        self, busy: bool, source: str, t_s: float | None = None, *, until_s: float | None = None
    ) -> None:
        """From `t_s` on, `source` says the wearer is busy (until `until_s`, at most
        `NudgePolicy.context_max_s`) or no longer busy."""
        self._nudger.schedule.context(self._now(t_s), source, busy=busy, until_s=until_s)

    def busy(self, context: Context) -> None:
        """A busy interval known in advance (a calendar entry): nudges wait until it ends."""
        self._nudger.schedule.busy(context.start_s, context.end_s, context.source)

    def desk_height(self, height_cm: float, t_s: float | None = None) -> None:
        """The wearer's sit-stand desk is `height_cm` high from `t_s` on. Raises ValueError."""
        self._desk.report(self._now(t_s), height_cm)

    def quiet_hours(self, spans: Sequence[tuple[str, str]], t_s: float | None = None) -> None:
        """From `t_s` on, no nudges in these daily ("HH:MM", "HH:MM") spans (wearer's zone).

        Replaces the configured quiet hours; an empty list removes them. Raises ValueError.
        """
        self._nudger.schedule.quiet_hours(self._now(t_s), spans)

    # -- data -----------------------------------------------------------------------------

    def feed(self, placement: Placement, batch: SampleBatch) -> Output:
        """Process one batch of samples from the wearer's `placement` sensor."""
        epocher = self._epochers.get(placement)
        if epocher is None:
            raise ValueError(f"wearer {self.wearer_id} has no {placement} sensor")
        self._latest_t = max(self._latest_t, batch.t_end)
        epocher.push(batch.times(), batch.accel_g, rate_hz=batch.rate_hz)
        aligned = self._aligner.advance()
        return self._downstream(aligned, final=False) if aligned else Output()

    def finish(self) -> Output:
        """Release everything still held: the end of the data."""
        return self._downstream(self._aligner.flush(), final=True)

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
        events += self._nudger.push(timeline) + self._desk.push(timeline)
        minutes = self._minutes.push(timeline)
        if final:
            events += self._posture_bouts.flush() + self._sitting_bouts.flush()
            events += self._nudger.flush() + self._desk.flush()
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
                values={
                    "source": c.source,
                    "placement": c.placement.value,
                    "up": ",".join(f"{v:.4f}" for v in c.up),
                },
            )
            for c in calibrations
        ]


def _at_most_a_day(what: str, seconds: float) -> None:
    if seconds > MAX_PAUSE_S:
        raise ValueError(f"{what} lasts at most 24 h, asked for {seconds / 3600:.1f} h")
