"""The whole pipeline in one process, for tests: traces -> edge analytics -> MQTT -> recorder ->
InfluxDB."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from analytics.monitor import Output
from analytics.params import AnalyticsParams
from analytics.records import Placement, Trace, WearerState
from dashboards.influx import InfluxClient
from dashboards.recorder import Recorder, RecorderStats, RecorderThread
from dashboards.settings import RecorderSettings
from sensor_gateway.outbox import Outbox
from sensor_gateway.publisher import MqttPublisher
from sensor_gateway.replay import replay
from sensor_gateway.service import EdgeService, SensorKey
from transport.mqtt import BrokerError
from transport.settings import MqttSettings

log = logging.getLogger(__name__)

Progress = Callable[[float, Mapping[str, WearerState | None]], None]


@dataclass(frozen=True, slots=True)
class PipelineRun:
    published: int  # events, minutes, states and status messages the gateway published
    recorded: int  # event and minute messages the recorder wrote
    recorder: RecorderStats


async def stream(
    traces: Mapping[SensorKey, Trace],
    service: EdgeService,
    *,
    speed: float = 0.0,
    progress: Progress | None = None,
) -> None:
    """Replay `traces` through the edge service, reporting progress about ten times a second."""
    t_start = min(float(t.t_s[0]) for t in traces.values())
    t_end = max(float(t.t_s[-1]) for t in traces.values())
    last_report = 0.0
    async for key, batch in replay(traces, speed=speed):
        service.on_batch(key, batch)
        now = time.monotonic()
        if progress is not None and now - last_report > 0.1:
            last_report = now
            fraction = (batch.t_end - t_start) / max(t_end - t_start, 1e-9)
            progress(min(fraction, 1.0), {w: m.state() for w, m in service.monitors.items()})
    states = {w: m.state() for w, m in service.monitors.items()}
    service.finish()
    if progress is not None:
        progress(1.0, states)


def run_pipeline(
    traces: Mapping[SensorKey, Trace],
    *,
    mqtt: MqttSettings,
    influx: InfluxClient,
    recorder_settings: RecorderSettings,
    gateway_id: str = "demo",
    team: str = "",
    site: str = "",
    params: AnalyticsParams | None = None,
    speed: float = 0.0,
    progress: Progress | None = None,
    drain_timeout_s: float = 120.0,
) -> PipelineRun:
    """Stream `traces` through the gateway into MQTT and record them into InfluxDB.

    Returns once the recorder has written everything the gateway published.
    """
    wearers: dict[str, list[Placement]] = {}
    for key in traces:
        wearers.setdefault(key.wearer_id, []).append(key.placement)
    recorder = RecorderThread(Recorder(mqtt, influx, recorder_settings))
    recorder.start()
    try:
        publisher = MqttPublisher(
            mqtt, gateway_id, Outbox(None), wearers=wearers, team=team, site=site
        )
        publisher.start(require_broker=True)
        counting = _Counting(publisher)
        service = EdgeService(wearers, counting, params=params)
        try:
            asyncio.run(stream(traces, service, speed=speed, progress=progress))
            publisher.flush(timeout_s=drain_timeout_s)  # every record confirmed by the recorder
        finally:
            publisher.close()
        if not recorder.wait_for(counting.records, timeout_s=drain_timeout_s):
            stats = recorder.recorder.stats
            raise BrokerError(
                f"recorder wrote {stats.written_messages} of {counting.records} messages "
                f"within {drain_timeout_s:g} s"
            )
    finally:
        stats = recorder.stop()
    return PipelineRun(published=publisher.published, recorded=counting.records, recorder=stats)


class _Counting:
    """Counts the recordable messages (events and minutes) on their way to the publisher."""

    def __init__(self, publisher: MqttPublisher) -> None:
        self.publisher = publisher
        self.records = 0

    def publish_output(self, wearer_id: str, output: Output) -> None:
        self.records += len(output.events) + len(output.minutes)
        self.publisher.publish_output(wearer_id, output)

    def publish_state(
        self, state: WearerState, *, sitting_today_s: float, battery_pct: int | None
    ) -> None:
        self.publisher.publish_state(
            state, sitting_today_s=sitting_today_s, battery_pct=battery_pct
        )
