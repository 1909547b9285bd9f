"""The gateway service: every configured sensor streaming into the edge analytics at once.

One asyncio program: `Gateway.run()` holds one task group with a task per sensor (its link's
events -> decode -> clock model -> batches -> `EdgeService`), a device-health reporter and a
nudge sender. Per sensor it counts samples, lost samples, reconnects, stalls and bad packets;
`DeviceHealth` goes to the health sink every `health_every_s` and whenever a link changes.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from analytics.monitor import Output
from analytics.records import DeviceHealth, EventKind, WearerState

from .batching import Batcher
from .clock import ClockModel
from .connection import Connected, LinkSettings, Lost, Notification, SensorLink
from .profiles import DecodeError, Nudge, Profile
from .publisher import Sink
from .radio import Radio
from .scanning import Finder
from .service import EdgeService, SensorKey
from .timebase import TimeBase

log = logging.getLogger(__name__)


class HealthSink(Protocol):
    """Where device health reports go (MQTT in production)."""

    def publish_device(self, health: DeviceHealth) -> None: ...


@dataclass(frozen=True, slots=True)
class SensorAssignment:
    """A configured sensor: where to find it, how to read it, whose it is."""

    address: str
    profile: Profile
    key: SensorKey


@dataclass(slots=True)
class SensorStats:
    """Counters for one sensor since the gateway started."""

    samples: int = 0
    lost: int = 0
    bad_packets: int = 0
    reconnects: int = 0
    stalls: int = 0
    connected: bool = False
    segments: list[tuple[float, float]] = field(default_factory=list)  # (start, end) times


def sensor_id(address: str) -> str:
    """A short id for topics and tags: the address with anything but [A-Za-z0-9_.-] as '-'."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", address).strip("-")[:64] or "sensor"


class Gateway:
    """Runs the sensors' links and the edge analytics (see the module docstring)."""

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
        health_every_s: float = 60.0,
        batch_s: float = 1.0,
        gap_tolerance_s: float = 0.5,
        clock_window_s: float = 10.0,
    ) -> None:
        self.service = service
        self.gateway_id = gateway_id
        self.radio = radio or Radio()
        self.timebase = timebase or TimeBase()
        self.finder = Finder(self.radio)
        self.health = health
        self.health_every_s = health_every_s
        self.batch_s = batch_s
        # both are about the radio (real seconds), while the clock model works on stream time
        self.gap_tolerance_s = gap_tolerance_s * self.timebase.speed
        self.clock_window_s = clock_window_s * self.timebase.speed
        self.sensors = list(sensors)
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
        self.stats = {s.key: SensorStats() for s in self.sensors}
        self._nudges: asyncio.Queue[tuple[str, Nudge]] = asyncio.Queue()
        self._stop = asyncio.Event()
        self.running = asyncio.Event()

    def stop(self) -> None:
        """Ask `run()` to finish: links close, the analytics release what they hold."""
        self._stop.set()

    def nudge(self, wearer_id: str, nudge: Nudge) -> None:
        """Show `nudge` on the wearer's devices that can show one (sent by the nudge task)."""
        self._nudges.put_nowait((wearer_id, nudge))

    async def run(self) -> None:
        """Stream until `stop()`; then flush every batch and finish the analytics."""
        try:
            async with asyncio.TaskGroup() as group:
                tasks = [
                    group.create_task(self._stream(s), name=f"sensor {s.address}")
                    for s in self.sensors
                ]
                tasks.append(group.create_task(self._report_health(), name="health"))
                tasks.append(group.create_task(self._send_nudges(), name="nudges"))
                self.running.set()
                await self._stop.wait()
                for task in tasks:
                    task.cancel()
        finally:
            await self.finder.close()
            self.service.finish()
            for assignment in self.sensors:
                self.stats[assignment.key].connected = False
                self._report(assignment)

    async def _stream(self, assignment: SensorAssignment) -> None:
        key, profile = assignment.key, assignment.profile
        link, stats = self.links[key], self.stats[key]
        clock = ClockModel(
            profile.rate_hz, gap_tolerance_s=self.gap_tolerance_s, window_s=self.clock_window_s
        )
        batcher = Batcher(f"{key.wearer_id}/{key.placement.value}", batch_s=self.batch_s)
        last_end: float | None = None
        try:
            async for event in link.events():
                if isinstance(event, Notification):
                    try:
                        decoded = profile.decode(event.data)
                    except DecodeError as err:
                        stats.bad_packets += 1
                        log.debug("bad packet sensor=%s %s", assignment.address, err)
                        continue
                    n = len(decoded)
                    placed = clock.place(n, event.received_s, device_time_s=decoded.device_time_s)
                    if placed.new_segment and last_end is not None:
                        stats.lost += max(0, round((placed.t0 - last_end) * placed.rate_hz))
                    stats.lost += placed.lost
                    stats.samples += n
                    if placed.new_segment or placed.lost or not stats.segments:
                        stats.segments.append((placed.t0, placed.t_end(n)))
                    stats.segments[-1] = (stats.segments[-1][0], placed.t_end(n))
                    last_end = placed.t_end(n)
                    for batch in batcher.add(placed, decoded.accel_g):
                        self.service.on_batch(key, batch)
                elif isinstance(event, Connected):
                    if link.connects > 1:
                        stats.reconnects += 1
                    stats.connected = True
                    clock.reset()
                    self._report(assignment)
                elif isinstance(event, Lost):
                    stats.connected = False
                    stats.stalls = link.stalls
                    for batch in batcher.flush():
                        self.service.on_batch(key, batch)
                    self._report(assignment)
        finally:
            for batch in batcher.flush():
                self.service.on_batch(key, batch)

    def health_of(self, assignment: SensorAssignment) -> DeviceHealth:
        link, stats = self.links[assignment.key], self.stats[assignment.key]
        return DeviceHealth(
            gateway_id=self.gateway_id,
            sensor_id=sensor_id(assignment.address),
            wearer_id=assignment.key.wearer_id,
            placement=assignment.key.placement,
            profile=assignment.profile.name,
            t_s=self.timebase.now(),
            connected=stats.connected,
            battery_pct=link.battery_pct,
            rssi_dbm=link.rssi_dbm,
            samples=stats.samples,
            lost=stats.lost,
            reconnects=stats.reconnects,
        )

    def _report(self, assignment: SensorAssignment) -> None:
        self.service.set_battery(assignment.key, self.links[assignment.key].battery_pct)
        if self.health is not None:
            self.health.publish_device(self.health_of(assignment))

    async def _report_health(self) -> None:
        while True:
            await asyncio.sleep(self.health_every_s)
            for assignment in self.sensors:
                self._report(assignment)

    async def _send_nudges(self) -> None:
        while True:
            wearer_id, nudge = await self._nudges.get()
            for assignment in self.sensors:
                writes = assignment.profile.nudge_writes(nudge)
                if assignment.key.wearer_id == wearer_id and writes:
                    sent = await self.links[assignment.key].write(writes)
                    log.info("nudge %s wearer=%s sent=%s", nudge.value, wearer_id, sent)


class NudgingSink:
    """A sink that also shows the analytics' nudges on the wearer's devices."""

    def __init__(self, sink: Sink, gateway: Gateway | None = None) -> None:
        self.sink = sink
        self.gateway = gateway

    def publish_output(self, wearer_id: str, output: Output) -> None:
        self.sink.publish_output(wearer_id, output)
        if self.gateway is None:
            return
        for event in output.events:
            reason = event.values.get("reason")
            if event.kind is EventKind.NUDGE and reason in {n.value for n in Nudge}:
                self.gateway.nudge(wearer_id, Nudge(str(reason)))

    def publish_state(
        self, state: WearerState, *, sitting_today_s: float, battery_pct: int | None
    ) -> None:
        self.sink.publish_state(state, sitting_today_s=sitting_today_s, battery_pct=battery_pct)
