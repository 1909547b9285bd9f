"""The edge service: one streaming engine per wearer, fed by that wearer's sensors.

Sources (BLE connections, trace replays) hand it sample batches keyed by wearer and placement;
it runs the wearer's `WearerMonitor` and passes everything released to the sink (MQTT).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from analytics.monitor import Output, WearerMonitor
from analytics.params import AnalyticsParams
from analytics.records import Placement, Posture, SampleBatch

from .publisher import Sink

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SensorKey:
    """Whose sensor, and where it is worn."""

    wearer_id: str
    placement: Placement


class EdgeService:
    """Routes sample batches to per-wearer engines and publishes their output."""

    def __init__(
        self,
        wearers: Mapping[str, Iterable[Placement]],
        sink: Sink,
        *,
        params: AnalyticsParams | None = None,
    ) -> None:
        self.sink = sink
        self.monitors = {
            wearer: WearerMonitor(wearer, placements=tuple(placements), params=params)
            for wearer, placements in wearers.items()
        }
        self._posture: dict[str, Posture | None] = dict.fromkeys(self.monitors)

    def on_batch(self, key: SensorKey, batch: SampleBatch) -> Output:
        """Feed one batch; publish and return what the wearer's engine released."""
        monitor = self.monitors[key.wearer_id]
        return self._publish(monitor, monitor.feed(key.placement, batch))

    def finish(self) -> dict[str, Output]:
        """End of all data: release and publish everything still held."""
        return {wearer: self._publish(m, m.finish()) for wearer, m in self.monitors.items()}

    def _publish(self, monitor: WearerMonitor, output: Output) -> Output:
        if output.events or output.minutes:
            self.sink.publish_output(monitor.wearer_id, output)
        state = monitor.state()
        if state is not None and state.posture is not self._posture[monitor.wearer_id]:
            self._posture[monitor.wearer_id] = state.posture
            self.sink.publish_state(state)
        return output
