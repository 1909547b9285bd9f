"""The gateway's radio loop: every configured sensor streaming into the edge analytics at once.

One asyncio program that does radio work only. `Gateway.run()` holds one task group: a task per
sensor (its link's events -> `SensorStream`: decode, clock model, batches -> `Analysis.offer`),
a loop-lag probe, a health reporter and a nudge sender. Nothing on the loop waits for anything
but the radio: the analytics run on their own thread (`analysis.py`) and MQTT on the publisher's
(`publisher.py`); a batch the analytics cannot take in time is counted as lost (`queue`), never
waited for.

Per sensor it counts samples, losses by reason, reconnects, stalls and bad packets;
`DeviceHealth` goes out (through the analytics thread, which adds what it refused) every
`health_every_s` and whenever a link changes, and the gateway's own `GatewayHealth` (the loop's
longest lag, the outbox) every `health_every_s`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from analytics.records import DeviceHealth, SampleBatch

from .analysis import Analysis
from .connection import Connected, LinkSettings, Lost, Notification, SensorLink
from .profiles import Nudge, Profile
from .radio import Radio
from .scanning import Finder
from .service import EdgeService, SensorKey
from .stream import SensorStream
from .timebase import TimeBase

log = logging.getLogger(__name__)
LAG_PROBE_S = 0.05  # how often the loop-lag probe asks to be woken
LAG_WARN_MS = 250.0  # a lag this long is logged: notifications wait that long
CANCEL_AGAIN_S = 1.0  # how long stopping waits for the sensor tasks before cancelling them again


class HealthSink(Protocol):
    """Where device health reports go (MQTT in production), called on the analytics thread."""

    def publish_device(self, health: DeviceHealth) -> None: ...


GatewayHealthSink = Callable[..., None]  # (t_s=, loop_lag_ms=): the gateway's own report


@dataclass(frozen=True, slots=True)
class SensorAssignment:
    """A configured sensor: where to find it, how to read it, whose it is."""

    address: str
    profile: Profile
    key: SensorKey


@dataclass(slots=True)
class SensorStats:
    """Counters for one sensor since the gateway started: its link's and its stream's."""

    stream: SensorStream
    reconnects: int = 0
    stalls: int = 0
    connected: bool = False

    @property
    def samples(self) -> int:
        return self.stream.samples

    @property
    def lost(self) -> int:
        return self.stream.lost_total

    @property
    def bad_packets(self) -> int:
        return self.stream.bad_packets

    @property
    def segments(self) -> list[tuple[float, float]]:
        return self.stream.segments


def sensor_id(address: str) -> str:
    """A short id for topics and tags: the address with anything but [A-Za-z0-9_.-] as '-'."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", address).strip("-")[:64] or "sensor"


class Gateway:
    """Runs the sensors' links into the analytics (see the module docstring)."""

    def __init__(
        self,
        sensors: Sequence[SensorAssignment],
        service: EdgeService,
        *,
        gateway_id: str,
        radio: Radio | None = None,
        timebase: TimeBase | None = None,
        link_settings: LinkSettings | None = None,
        health: HealthSink | None = None,
        gateway_health: GatewayHealthSink | None = None,
        health_every_s: float = 60.0,
        batch_s: float = 1.0,
        gap_tolerance_s: float = 0.5,
        clock_window_s: float = 10.0,
        analysis_queue: int = 5000,
    ) -> None:
        """`analysis_queue`: sample batches that may wait for the analytics (about a second of
        one sensor each) before the radio loop drops them."""
        self.service = service
        self.analysis = Analysis(service, max_batches=analysis_queue)
        self.gateway_id = gateway_id
        self.radio = radio or Radio()
        self.timebase = timebase or TimeBase()
        self.finder = Finder(self.radio)
        self.health = health
        self.gateway_health = gateway_health
        self.health_every_s = health_every_s
        self.sensors = list(sensors)
        # both are about the radio (real seconds), while the clock model works on stream time
        self.gap_tolerance_s = gap_tolerance_s * self.timebase.speed
        self.clock_window_s = clock_window_s * self.timebase.speed
        self.links = {
            s.key: SensorLink(
                s.address,
                s.profile,
                radio=self.radio,
                finder=self.finder,
                timebase=self.timebase,
                settings=link_settings,
            )
            for s in self.sensors
        }
        self.streams = {
            s.key: SensorStream(
                f"{s.key.wearer_id}/{s.key.placement.value}",
                s.profile,
                gap_tolerance_s=self.gap_tolerance_s,
                clock_window_s=self.clock_window_s,
                batch_s=batch_s,
            )
            for s in self.sensors
        }
        self.stats = {s.key: SensorStats(self.streams[s.key]) for s in self.sensors}
        self.loop_lag_ms = 0.0  # longest since the last gateway health report
        self.max_loop_lag_ms = 0.0  # longest since the start
        self._nudges: asyncio.Queue[tuple[str, Nudge]] = asyncio.Queue()
        self._stop = asyncio.Event()
        self.running = asyncio.Event()

    def stop(self) -> None:
        """Ask `run()` to finish: links close, the analytics release what they hold."""
        self._stop.set()

    def nudge(self, wearer_id: str, nudge: Nudge) -> None:
        """Show `nudge` on the wearer's devices that can show one (on the loop's thread)."""
        self._nudges.put_nowait((wearer_id, nudge))

    def nudger(self, loop: asyncio.AbstractEventLoop) -> Callable[[str, Nudge], None]:
        """`nudge` for other threads (the analytics)."""

        def nudge(wearer_id: str, nudge: Nudge) -> None:
            loop.call_soon_threadsafe(self.nudge, wearer_id, nudge)

        return nudge

    async def run(self) -> None:
        """Stream until `stop()`; then flush every batch and finish the analytics."""
        self.analysis.on_nudge = self.nudger(asyncio.get_running_loop())
        self.analysis.start()
        try:
            async with asyncio.TaskGroup() as group:
                tasks = [
                    group.create_task(self._stream(s), name=f"sensor {s.address}")
                    for s in self.sensors
                ]
                tasks.append(group.create_task(self._probe_lag(), name="loop lag"))
                tasks.append(group.create_task(self._report_health(), name="health"))
                tasks.append(group.create_task(self._send_nudges(), name="nudges"))
                self.running.set()
                await self._stop.wait()
                while pending := [task for task in tasks if not task.done()]:
                    # Again until they end: on Python 3.11 a cancellation that meets an
                    # expiring timeout inside a task (bleak's, the watchdog's) can be lost.
                    for task in pending:
                        task.cancel()
                    await asyncio.wait(pending, timeout=CANCEL_AGAIN_S)
        finally:
            await self.finder.close()
            for assignment in self.sensors:
                self.stats[assignment.key].connected = False
                self._report(assignment)
            self._report_gateway()
            await asyncio.to_thread(self.analysis.finish)

    async def _stream(self, assignment: SensorAssignment) -> None:
        key = assignment.key
        link, stream, stats = self.links[key], self.streams[key], self.stats[key]
        try:
            async for event in link.events():
                if isinstance(event, Notification):
                    for batch in stream.notification(event.data, event.received_s):
                        self._analyse(key, batch)
                elif isinstance(event, Connected):
                    if link.connects > 1:
                        stats.reconnects += 1
                    stats.connected = True
                    stream.connected()
                    self._report(assignment)
                elif isinstance(event, Lost):
                    stats.connected = False
                    stats.stalls = link.stalls
                    for batch in stream.lost_link():
                        self._analyse(key, batch)
                    self._report(assignment)
        finally:
            for batch in stream.finish():  # the end: always taken
                self.analysis.call(self.service.on_batch, key, batch)

    def _analyse(self, key: SensorKey, batch: SampleBatch) -> None:
        stream = self.streams[key]
        self._note_losses(key, stream)  # before the batch that may complete their minutes
        if not self.analysis.offer(key, batch):
            stream.drop(batch, "queue")
            self._note_losses(key, stream)

    def _note_losses(self, key: SensorKey, stream: SensorStream) -> None:
        """Tell the analytics why samples are missing: the minutes say so."""
        for loss in stream.take_losses():
            self.analysis.call(self.service.note_loss, key, *loss)

    def health_of(self, assignment: SensorAssignment) -> DeviceHealth:
        """The sensor's health as the radio loop knows it (without the analytics' refusals)."""
        key = assignment.key
        link, stream, stats = self.links[key], self.streams[key], self.stats[key]
        return DeviceHealth(
            gateway_id=self.gateway_id,
            sensor_id=sensor_id(assignment.address),
            wearer_id=key.wearer_id,
            placement=key.placement,
            profile=assignment.profile.name,
            t_s=self.timebase.now(),
            connected=stats.connected,
            battery_pct=link.battery_pct,
            rssi_dbm=link.rssi_dbm,
            samples=stream.samples,
            lost=stream.lost_total,
            reconnects=stats.reconnects,
            lost_by=dict(stream.lost),
        )

    def _report(self, assignment: SensorAssignment) -> None:
        health = self.health_of(assignment)
        self.analysis.call(self._publish_device, assignment.key, health)

    def _publish_device(self, key: SensorKey, health: DeviceHealth) -> None:
        """On the analytics thread: add the samples the analytics refused, publish."""
        self.service.set_battery(key, health.battery_pct)
        clock = self.service.late_samples(key)
        if clock:
            lost_by = dict(health.lost_by) | {"clock": clock}
            health = dataclasses.replace(health, lost=health.lost + clock, lost_by=lost_by)
        if self.health is not None:
            self.health.publish_device(health)

    def _report_gateway(self) -> None:
        lag, self.loop_lag_ms = self.loop_lag_ms, 0.0
        report = self.gateway_health
        if report is not None:
            t_s = self.timebase.now()
            self.analysis.call(lambda: report(t_s=t_s, loop_lag_ms=lag))

    async def _probe_lag(self) -> None:
        """How late the loop wakes a task that asked to sleep: the loop's lag."""
        loop = asyncio.get_running_loop()
        while True:
            asked = loop.time()
            await asyncio.sleep(LAG_PROBE_S)
            lag_ms = (loop.time() - asked - LAG_PROBE_S) * 1000.0
            if lag_ms > LAG_WARN_MS:
                log.warning("the radio loop was held up for %.0f ms", lag_ms)
            self.loop_lag_ms = max(self.loop_lag_ms, lag_ms)
            self.max_loop_lag_ms = max(self.max_loop_lag_ms, lag_ms)

    async def _report_health(self) -> None:
        while True:
            await asyncio.sleep(self.health_every_s)
            for assignment in self.sensors:
                self._report(assignment)
            self._report_gateway()

    async def _send_nudges(self) -> None:
        while True:
            wearer_id, nudge = await self._nudges.get()
            for assignment in self.sensors:
                writes = assignment.profile.nudge_writes(nudge)
                if assignment.key.wearer_id == wearer_id and writes:
                    sent = await self.links[assignment.key].write(writes)
                    log.info("nudge %s wearer=%s sent=%s", nudge.value, wearer_id, sent)
