"""Wiring the gateway from settings, for real adapters and for virtual sensors alike.

`assignments()` turns `[gateway.sensors]` into profiles and keys; `virtual_sensors()` builds
emulated sensors that stream trace files (named `PROFILE=PATH`), taking over the configured
sensors' addresses where the profiles match; `open_publisher()` opens the outbox and connects;
`build_gateway()` wires the gateway, the wearers' engines and the publisher, and `serve()` runs
them as the `posture gateway` service.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import signal
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from analytics.messages import WearerInput
from analytics.records import Placement
from transport.mqtt import BrokerError

from . import calibrations, nudge_timing
from .connection import LinkSettings
from .gateway import Gateway, SensorAssignment
from .outbox import Outbox
from .profiles import Profile, generic, get_profile
from .publisher import MqttPublisher, Sink
from .radio import Radio
from .service import EdgeService, SensorKey
from .settings import GatewayConfig, GatewaySettings, SensorSettings
from .timebase import TimeBase
from .traces import read_trace

log = logging.getLogger(__name__)
_MAC = re.compile(r"([0-9A-Fa-f]{2}:){5}[0-9A-Fa-f]{2}")


class VirtualSpecError(ValueError):
    """A `--virtual PROFILE=TRACE` option that cannot be used."""


@dataclass(frozen=True, slots=True)
class VirtualSpec:
    profile: str
    trace: Path


def parse_virtual(text: str) -> VirtualSpec:
    """`PROFILE=PATH` as a spec; raises `VirtualSpecError`."""
    profile, sep, path = text.partition("=")
    if not sep or not path:
        raise VirtualSpecError(f"--virtual {text!r}: expected PROFILE=TRACE.csv")
    try:
        get_profile(profile)
    except KeyError as err:
        raise VirtualSpecError(f"--virtual {text!r}: {err.args[0]}") from None
    return VirtualSpec(profile, Path(path))


def profile_for(sensor: SensorSettings, settings: GatewaySettings) -> Profile:
    if sensor.profile != "generic":
        return get_profile(sensor.profile)
    g = settings.generic
    return generic.make(
        service_uuid=g.service_uuid,
        data_uuid=g.data_uuid,
        sample_format=g.sample_format,
        counts_per_g=g.counts_per_g,
        rate_hz=g.rate_hz,
        names=(g.name_prefix,),
        haptic_uuid=g.haptic_uuid,
    )


def assignments(settings: GatewaySettings) -> list[SensorAssignment]:
    return [
        SensorAssignment(s.address, profile_for(s, settings), SensorKey(s.wearer, s.placement))
        for s in settings.sensors
    ]


def virtual_sensors(
    specs: Sequence[VirtualSpec], settings: GatewaySettings, timebase: TimeBase
) -> tuple[list[object], list[SensorAssignment]]:
    """Virtual sensors streaming the spec'd traces from now on, and what the gateway reads.

    A configured sensor of the same profile lends its address (or advertised name); the rest
    get their own and a wearer `vNN` each (trunk). Raises `TraceError` for a bad trace.
    """
    from .virtual import VirtualSensor

    configured = list(settings.sensors)
    sensors: list[object] = []
    out: list[SensorAssignment] = []
    start = timebase.now() + 1.0
    for i, spec in enumerate(specs, start=1):
        trace, _notes = read_trace(spec.trace)
        trace = trace.shifted(start - float(trace.t_s[0]))
        match = next((s for s in configured if s.profile == spec.profile), None)
        if match is not None:
            configured.remove(match)
            mac = bool(_MAC.fullmatch(match.address))
            sensor = VirtualSensor(
                spec.profile,
                trace,
                address=match.address if mac else None,
                name=None if mac else match.address,
            )
            key = SensorKey(match.wearer, match.placement)
            profile = profile_for(match, settings)
        else:
            sensor = VirtualSensor(spec.profile, trace)
            key = SensorKey(f"v{i:02d}", Placement.TRUNK)
            profile = get_profile(spec.profile)
        sensors.append(sensor)
        out.append(SensorAssignment(sensor.address, profile, key))
    return sensors, out


def link_settings(settings: GatewaySettings) -> LinkSettings:
    return LinkSettings(watchdog_s=settings.watchdog_s, backoff_cap_s=settings.backoff_cap_s)


def open_publisher(
    settings: GatewayConfig, wearers: Iterable[str], *, require_broker: bool = False
) -> MqttPublisher:
    """The gateway's outbox (in `[gateway] state_dir`, else in memory) and its MQTT publisher,
    started. Raises `BrokerError` if the broker refuses us (or, with `require_broker`, cannot
    be reached), `OSError` or `sqlite3.Error` if the outbox cannot be opened."""
    g = settings.gateway
    if g.state_dir is None:
        log.warning("no [gateway] state_dir: the outbox is kept in memory, not across restarts")
    outbox = Outbox(
        g.state_dir / "outbox.sqlite" if g.state_dir is not None else None,
        max_bytes=int(g.outbox_max_mb * 1024 * 1024),
        replay_after_s=g.replay_after_s,
    )
    publisher = MqttPublisher(
        settings.mqtt,
        g.id,
        outbox,
        wearers=wearers,
        team=g.team,
        site=g.site,
        wearer_settings=settings.wearers,
    )
    try:
        publisher.start(require_broker=require_broker)
    except BaseException:
        outbox.close()
        raise
    return publisher


def wearers_of(sensors: Sequence[SensorAssignment]) -> dict[str, list[Placement]]:
    wearers: dict[str, list[Placement]] = {}
    for s in sensors:
        wearers.setdefault(s.key.wearer_id, []).append(s.key.placement)
    return wearers


def build_gateway(
    settings: GatewayConfig,
    sensors: Sequence[SensorAssignment],
    *,
    sink: Sink,
    publisher: MqttPublisher | None,
    radio: Radio,
    timebase: TimeBase,
) -> Gateway:
    """The gateway, its wearers' engines (with their own settings, and calibrations and nudge
    timing restored from `state_dir`) and, with a `publisher`, its health reports, what is said
    about the wearers (commands, busy states, desk heights) and their desks wired to it."""
    state_dir = settings.gateway.state_dir
    wearers = wearers_of(sensors)
    own = {w: s.params(settings.analytics) for w, s in settings.wearers.items() if w in wearers}
    service = EdgeService(
        wearers,
        sink,
        params=settings.analytics,
        calibrations=calibrations.load(state_dir) if state_dir else None,
        wearer_params=own,
        nudge_states=nudge_timing.load(state_dir) if state_dir else None,
        move_desk=publisher.publish_desk if publisher is not None else None,
        max_wait_s=60.0 * timebase.speed,
    )
    gateway = Gateway(
        sensors,
        service,
        gateway_id=settings.gateway.id,
        radio=radio,
        timebase=timebase,
        link_settings=link_settings(settings.gateway),
        health=publisher,
        gateway_health=publisher.publish_gateway_health if publisher is not None else None,
        health_every_s=settings.gateway.health_interval_s,
        analysis_queue=settings.gateway.analysis_queue,
    )
    if publisher is not None:
        publisher.listen_for_inputs(
            lambda said: gateway.analysis.call(_apply, service, said, timebase.now())
        )
    return gateway


async def serve(
    settings: GatewayConfig,
    sensors: Sequence[SensorAssignment],
    *,
    sink: Sink,
    radio: Radio,
    timebase: TimeBase,
    seconds: float | None = None,
    publisher: MqttPublisher | None = None,
    started: Callable[[Gateway], None] | None = None,
) -> Gateway:
    """Run the gateway until SIGINT/SIGTERM, `seconds`, or the broker refusing a message;
    returns it (with its counters).

    With a `publisher`, health reports and the wearers' commands go through it and (if enabled)
    Home Assistant discovery is announced; with `[gateway] state_dir`, calibrations and adaptive
    nudge timing are restored at start and saved at the end. `started` is called with the
    gateway once it runs. A refusal by the broker is raised as `BrokerError` once everything
    has stopped cleanly.
    """
    gateway = build_gateway(
        settings, sensors, sink=sink, publisher=publisher, radio=radio, timebase=timebase
    )
    loop = asyncio.get_running_loop()
    if publisher is not None:

        def refused(_error: BrokerError) -> None:  # the publisher's thread: stop cleanly
            loop.call_soon_threadsafe(gateway.stop)

        publisher.on_error = refused
        if settings.home_assistant.enabled:
            publisher.announce_home_assistant(
                prefix=settings.home_assistant.prefix,
                prolonged_s=settings.analytics.bouts.prolonged_s,
            )
    if started is not None:
        loop.call_soon(started, gateway)
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, gateway.stop)
    if seconds is not None:
        loop.call_later(seconds, gateway.stop)
    try:
        await gateway.run()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(sig)
        state_dir = settings.gateway.state_dir
        if state_dir is not None:
            _save_state(state_dir, gateway.service)
    if publisher is not None and publisher.error is not None:
        raise publisher.error
    return gateway


def _save_state(state_dir: Path, service: EdgeService) -> None:
    """What the wearers' engines learned, for the next start: calibrations, nudge timing."""
    monitors = service.monitors
    try:
        calibrations.save(state_dir, {w: m.calibration() for w, m in monitors.items()})
    except OSError as err:
        log.error("could not save calibrations dir=%s: %s", state_dir, err)
    try:
        nudge_timing.save(state_dir, {w: m.nudge_state() for w, m in monitors.items()})
    except OSError as err:
        log.error("could not save nudge timing dir=%s: %s", state_dir, err)


def _apply(service: EdgeService, said: WearerInput, heard_s: float) -> None:
    """Apply what was said about a wearer (heard at `heard_s`) on the analytics thread; what
    cannot be applied is logged and dropped."""
    try:
        service.apply(said, heard_s)
    except ValueError as err:
        what = getattr(said, "name", type(said).__name__)
        log.warning("%s for wearer=%s not applied: %s", what, said.wearer_id, err)


@contextlib.asynccontextmanager
async def open_radio(
    settings: GatewayConfig, specs: Sequence[VirtualSpec], *, speed: float = 1.0
) -> AsyncIterator[tuple[Radio, TimeBase, list[SensorAssignment]]]:
    """The configured adapter, or a virtual radio streaming `specs` (started and stopped here).

    Yields the radio, the stream's time base and the sensors the gateway should read.
    """
    timebase = TimeBase(speed=speed)
    if not specs:
        yield Radio(adapter=settings.gateway.adapter), timebase, assignments(settings.gateway)
        return
    from .virtual import VirtualRadio, VirtualSensor

    sensors, assigned = virtual_sensors(specs, settings.gateway, timebase)
    async with VirtualRadio(timebase=timebase) as world:
        world.extend(s for s in sensors if isinstance(s, VirtualSensor))
        yield Radio.virtual(world.adapter), timebase, assigned
