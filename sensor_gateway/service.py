"""The edge service: one streaming engine per wearer, fed by that wearer's sensors.

Sources (BLE connections, trace replays) hand it sample batches keyed by wearer and placement;
it runs the wearer's `WearerMonitor`, passes everything released to the sink (MQTT), keeps what
the edge knows about each wearer right now (`WearerLive`: the retained state topic, Home
Assistant and live views read it) and applies what is said about the wearers (`apply`): their
commands (snooze and do-not-disturb, for a time or until a time, calibrate, quiet hours, move
the desk), busy states and desk heights, at the current data time. A busy state or desk height
said before a wearer's first data (a retained message, at start) waits for that data.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from analytics.messages import BusyUpdate, Command, DeskHeight, WearerInput
from analytics.monitor import Output, WearerMonitor
from analytics.orientation import Calibration
from analytics.params import AnalyticsParams
from analytics.records import EventKind, Placement, Posture, SampleBatch, WearerState

from .publisher import Sink

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SensorKey:
    """Whose sensor, and where it is worn."""

    wearer_id: str
    placement: Placement


@dataclass(slots=True)
class WearerLive:
    """What the edge knows about a wearer right now (as far as the released data go)."""

    state: WearerState | None = None
    flexion_deg: float | None = None  # of the last released second
    sitting_today_s: float = 0.0  # from the released minutes of the wearer's local day
    day: str = ""  # that day, YYYY-MM-DD in the wearer's time zone
    nudges: int = 0  # since the gateway started
    battery_pct: dict[Placement, int] = field(default_factory=dict)
    commands: int = 0  # applied since the gateway started
    published: tuple[Posture, float] | None = None  # posture and time of the last state sent

    @property
    def lowest_battery_pct(self) -> int | None:
        return min(self.battery_pct.values()) if self.battery_pct else None


class EdgeService:
    """Routes sample batches to per-wearer engines and publishes their output."""

    def __init__(
        self,
        wearers: Mapping[str, Iterable[Placement]],
        sink: Sink,
        *,
        params: AnalyticsParams | None = None,
        calibrations: Mapping[str, Mapping[Placement, Calibration]] | None = None,
        wearer_params: Mapping[str, AnalyticsParams] | None = None,
        nudge_states: Mapping[str, Mapping[str, Any]] | None = None,
        move_desk: Callable[[str, str], None] | None = None,
        state_every_s: float = 60.0,
        max_wait_s: float = 60.0,
    ) -> None:
        """`wearer_params`: a wearer's own parameters instead of `params` (their language);
        `nudge_states`: the adaptive nudge timing learned before, per wearer (one that is not
        usable is logged and learned anew); `move_desk(wearer, position)`: sends a wearer's
        desk to "stand" or "sit" (ValueError if it cannot); `max_wait_s`: how far (in stream
        time) one of a wearer's sensors may run ahead of the other before the engine goes on
        without it; it is about delivery jitter, so an accelerated stream scales it by its
        speed."""
        self.sink = sink
        self.params = params or AnalyticsParams()
        self.state_every_s = state_every_s
        self.move_desk = move_desk
        self.monitors = {
            wearer: _monitor(
                wearer,
                tuple(placements),
                (wearer_params or {}).get(wearer, self.params),
                calibrations=(calibrations or {}).get(wearer),
                nudge_state=(nudge_states or {}).get(wearer),
                max_wait_s=max_wait_s,
            )
            for wearer, placements in wearers.items()
        }
        self.live = {wearer: WearerLive() for wearer in self.monitors}
        self._zone = ZoneInfo(self.params.nudges.timezone)
        self._waiting: dict[str, dict[str, BusyUpdate | DeskHeight]] = {}  # for the first data

    def on_batch(self, key: SensorKey, batch: SampleBatch) -> Output:
        """Feed one batch; publish and return what the wearer's engine released."""
        monitor = self.monitors[key.wearer_id]
        for said in self._waiting.pop(key.wearer_id, {}).values():
            self._hear(monitor, said, batch.t0)
        return self._publish(monitor, monitor.feed(key.placement, batch))

    def finish(self) -> dict[str, Output]:
        """End of all data: release and publish everything still held."""
        return {wearer: self._publish(m, m.finish()) for wearer, m in self.monitors.items()}

    def set_battery(self, key: SensorKey, battery_pct: int | None) -> None:
        """The battery level a sensor reported (None: unknown)."""
        live = self.live.get(key.wearer_id)
        if live is not None and battery_pct is not None:
            live.battery_pct[key.placement] = battery_pct

    def note_loss(self, key: SensorKey, start_s: float, end_s: float, reason: str) -> None:
        """Samples of that sensor lost in [start_s, end_s) (see `WearerMonitor.note_loss`)."""
        monitor = self.monitors.get(key.wearer_id)
        if monitor is not None:
            monitor.note_loss(start_s, end_s, reason)

    def late_samples(self, key: SensorKey) -> int:
        """Samples of that sensor the wearer's engine dropped (timed before ones it had)."""
        monitor = self.monitors.get(key.wearer_id)
        return monitor.late_samples(key.placement) if monitor is not None else 0

    def apply(self, said: WearerInput, heard_s: float | None = None) -> None:
        """Apply what was said about a wearer; raises ValueError if it cannot be.

        A command takes effect at `heard_s`, when the gateway heard it (on its clock, the one the
        data are timed on), else at the current data time. Busy states and desk heights take
        effect at the current data time; those said before the wearer's first data wait for it.
        """
        if isinstance(said, Command):
            self.command(said, heard_s)
            return
        monitor = self.monitors.get(said.wearer_id)
        if monitor is None:
            raise ValueError(f"no wearer {said.wearer_id!r} on this gateway")
        if monitor.latest_s is None:  # the latest of each source waits for the first data
            key = said.source if isinstance(said, BusyUpdate) else "desk"
            self._waiting.setdefault(said.wearer_id, {})[key] = said
            return
        self._hear(monitor, said, None)

    def _hear(
        self, monitor: WearerMonitor, said: BusyUpdate | DeskHeight, t_s: float | None
    ) -> None:
        try:
            if isinstance(said, BusyUpdate):
                monitor.context(said.busy, said.source, t_s, until_s=said.until_s)
                log.info(
                    "busy=%s wearer=%s source=%s until=%s",
                    said.busy,
                    said.wearer_id,
                    said.source,
                    said.until_s,
                )
            else:
                monitor.desk_height(said.height_cm, t_s)
                log.debug("desk height=%.1f wearer=%s", said.height_cm, said.wearer_id)
        except ValueError as err:
            log.warning("not applied for wearer=%s: %s", said.wearer_id, err)

    def command(self, command: Command, t_s: float | None = None) -> None:
        """Apply a wearer's command at `t_s` (None: the current data time, which a command
        heard before the wearer's first data does not have); raises ValueError if it cannot."""
        monitor = self.monitors.get(command.wearer_id)
        if monitor is None:
            raise ValueError(f"no wearer {command.wearer_id!r} on this gateway")
        if command.name == "snooze":
            minutes = None if command.until_s is not None else command.minutes * 60.0
            monitor.snooze(minutes, t_s, until_s=command.until_s)
        elif command.name == "dnd":
            monitor.dnd(command.on, t_s, until_s=command.until_s)
        elif command.name == "calibrate":
            monitor.calibrate(t_s)
        elif command.name == "quiet_hours":
            monitor.quiet_hours(command.spans)
        elif command.name == "desk":
            if self.move_desk is None:
                raise ValueError("this gateway moves no desks")
            self.move_desk(command.wearer_id, command.position)
        self.live[command.wearer_id].commands += 1
        log.info("command %s wearer=%s", command.name, command.wearer_id)

    def _publish(self, monitor: WearerMonitor, output: Output) -> Output:
        live = self.live[monitor.wearer_id]
        if output.events or output.minutes:
            self.sink.publish_output(monitor.wearer_id, output)
        live.nudges += sum(1 for e in output.events if e.kind is EventKind.NUDGE)
        for minute in output.minutes:
            day = datetime.fromtimestamp(minute.start_s, UTC).astimezone(self._zone).date()
            if day.isoformat() != live.day:
                live.day, live.sitting_today_s = day.isoformat(), 0.0
            live.sitting_today_s += minute.posture_s.get(Posture.SITTING, 0)
        if len(output.timeline):
            flexion = float(output.timeline.flexion_deg[-1])
            live.flexion_deg = None if np.isnan(flexion) else round(flexion, 1)
        state = live.state = monitor.state()
        if state is None:
            return output
        last = live.published
        if (
            last is None
            or state.posture is not last[0]
            or state.t_s - last[1] >= self.state_every_s
        ):
            live.published = (state.posture, state.t_s)
            self.sink.publish_state(
                state, sitting_today_s=live.sitting_today_s, battery_pct=live.lowest_battery_pct
            )
        return output


def _monitor(
    wearer: str,
    placements: tuple[Placement, ...],
    params: AnalyticsParams,
    *,
    calibrations: Mapping[Placement, Calibration] | None,
    nudge_state: Mapping[str, Any] | None,
    max_wait_s: float,
) -> WearerMonitor:
    """A wearer's engine; learned nudge timing that cannot be used is logged and left out."""
    try:
        return WearerMonitor(
            wearer,
            placements=placements,
            params=params,
            calibrations=calibrations,
            nudge_state=nudge_state,
            max_wait_s=max_wait_s,
        )
    except ValueError as err:
        if nudge_state is None:
            raise
        log.warning("learning nudge timing anew wearer=%s: %s", wearer, err)
        return _monitor(
            wearer,
            placements,
            params,
            calibrations=calibrations,
            nudge_state=None,
            max_wait_s=max_wait_s,
        )
