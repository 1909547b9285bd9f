"""Done-when for the gateway: virtual sensors of five profiles stream real recordings at 50 Hz
through the real gateway code (bleak, bleak-retry-connector, the clock model, batching, the
edge analytics) over Bumble's virtual link. Every link is dropped once mid-stream and comes
back; one sensor stalls while connected and is reconnected by the watchdog. What arrives must
be exactly what the sensors sent, in order, at the right times, with the dropped intervals as
gaps and nothing invented."""

from __future__ import annotations

import asyncio
import socket

import numpy as np
import pytest

from analytics.records import Placement, SampleBatch, Trace
from sensor_gateway.connection import LinkSettings
from sensor_gateway.gateway import Gateway, SensorAssignment
from sensor_gateway.profiles import Nudge, metamotion, microbit
from sensor_gateway.radio import Radio
from sensor_gateway.service import EdgeService, SensorKey
from sensor_gateway.timebase import PacedTimeBase, TimeBase
from sensor_gateway.traces import read_trace
from sensor_gateway.virtual import VirtualRadio, VirtualSensor, remote_adapter
from tests.conftest import DATASETS

pytestmark = pytest.mark.slow

RECORDINGS = {
    "microbit": "casale_chest/subject02.csv",
    "thingy52": "forth_trace_torso/participant04_torso.csv",
    "witmotion": "uci_hapt_waist/user01_exp01.csv",
    "polar_h10": "forth_trace_torso/participant11_torso.csv",
    "metamotion": "uci_hapt_waist/user02_exp03.csv",
}
DROP_AT_S = {
    "microbit": 3.0,
    "thingy52": 3.5,
    "witmotion": 4.0,
    "polar_h10": 4.5,
    "metamotion": 5.0,
}
SILENT = "thingy52"
SCANNING: dict[str, tuple[bool, ...]] = {}


class FakeSink:
    """Records what the edge service publishes (MQTT is tested separately)."""

    def __init__(self) -> None:
        self.outputs: list[object] = []
        self.states: list[object] = []
        self.devices: list[object] = []

    def publish_output(self, wearer_id: str, output: object) -> None:
        self.outputs.append(output)

    def publish_state(self, state: object, **_live: object) -> None:
        self.states.append(state)

    def publish_device(self, health: object) -> None:
        self.devices.append(health)


class RecordingService(EdgeService):
    """The real edge service, also keeping every batch it was fed."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.batches: dict[SensorKey, list[SampleBatch]] = {}

    def on_batch(self, key: SensorKey, batch: SampleBatch):  # type: ignore[no-untyped-def]
        self.batches.setdefault(key, []).append(batch)
        return super().on_batch(key, batch)


def recording(path: str, start_s: float, seconds: float = 40.0) -> Trace:
    trace, _ = read_trace(DATASETS / path)
    n = int(seconds * trace.rate_hz)
    t = trace.t_s[:n] - trace.t_s[0] + start_s
    return Trace(t_s=t, accel_g=trace.accel_g[:n], rate_hz=trace.rate_hz, source=path)


def expected_samples(sensor: VirtualSensor) -> np.ndarray:
    """What the gateway should decode from what the sensor sent: the trace in wire precision."""
    per = sensor.emulation.per_notification
    rows = []
    for lo, hi in sensor.sent:
        for i in range(lo, hi, per):
            chunk = sensor.trace.accel_g[i : i + per]
            payload = sensor.emulation.encode(chunk, float(sensor.trace.t_s[i + per - 1]))
            rows.append(sensor.profile.decode(payload).accel_g)
    return np.concatenate(rows)


async def scenario() -> tuple[dict[str, VirtualSensor], Gateway, RecordingService, FakeSink]:
    timebase = TimeBase()
    start = timebase.now() + 0.5
    async with VirtualRadio(timebase=timebase) as radio:
        sensors = {
            profile: radio.add(VirtualSensor(profile, recording(path, start)))
            for profile, path in RECORDINGS.items()
        }
        keys = {p: SensorKey(f"w{i}", Placement.TRUNK) for i, p in enumerate(sensors)}
        sink = FakeSink()
        service = RecordingService({k.wearer_id: [k.placement] for k in keys.values()}, sink)
        gateway = Gateway(
            [SensorAssignment(s.address, s.profile, keys[p]) for p, s in sensors.items()],
            service,
            gateway_id="gw-test",
            radio=Radio.virtual(radio.adapter),
            timebase=timebase,
            link_settings=LinkSettings(watchdog_s=1.0, backoff_base_s=0.2, backoff_cap_s=1.0),
            health=sink,
            health_every_s=2.0,
        )
        async with asyncio.TaskGroup() as group:
            group.create_task(gateway.run())
            loop = asyncio.get_running_loop()
            t0 = loop.time()
            await asyncio.sleep(2.5)
            SCANNING["all connected"] = (gateway.finder.scanning, radio.adapter.scanning)
            SCANNING["connected"] = tuple(link.connected for link in gateway.links.values())
            for profile, at in sorted(DROP_AT_S.items(), key=lambda item: item[1]):
                await asyncio.sleep(max(0.0, t0 + at - loop.time()))
                await sensors[profile].drop_link(offline_s=1.0)
            await asyncio.sleep(max(0.0, t0 + 7.0 - loop.time()))
            gateway.nudge(keys["microbit"].wearer_id, Nudge.SITTING)
            gateway.nudge(keys["metamotion"].wearer_id, Nudge.SLOUCH)
            gateway.nudge(keys["witmotion"].wearer_id, Nudge.SITTING)  # cannot show one
            await asyncio.sleep(max(0.0, t0 + 8.0 - loop.time()))
            sensors[SILENT].go_silent(2.5)
            await asyncio.sleep(max(0.0, t0 + 15.0 - loop.time()))
            gateway.stop()
        SCANNING["max pending connects"] = (radio.adapter.max_pending,)
    SCANNING["tasks left"] = (len(asyncio.all_tasks()),)
    return sensors, gateway, service, sink


@pytest.fixture(scope="module")
def run() -> tuple[dict[str, VirtualSensor], Gateway, RecordingService, FakeSink]:
    return asyncio.run(scenario())


def match(got: np.ndarray, times: np.ndarray, sensor: VirtualSensor) -> np.ndarray:
    """For each received sample, the trace index it is: the next sent sample with the same
    value and a time within 0.25 s. Fails if a received sample matches none (invented data)."""
    sent = sensor.sent_indices()
    expected = expected_samples(sensor)
    out = np.empty(len(got), dtype=int)
    j = 0
    for i, (value, t) in enumerate(zip(got, times, strict=True)):
        while j < len(sent) and not (
            np.array_equal(expected[j], value) and abs(sensor.trace.t_s[sent[j]] - t) < 0.25
        ):
            j += 1
        assert j < len(sent), f"received sample {i} was never sent (at {t:.3f})"
        out[i] = sent[j]
        j += 1
    return out


@pytest.mark.parametrize("profile", list(RECORDINGS))
def test_what_arrives_is_what_was_sent_with_the_drop_as_a_gap(run, profile: str) -> None:  # type: ignore[no-untyped-def]
    sensors, gateway, service, _ = run
    sensor = sensors[profile]
    key = next(a.key for a in gateway.sensors if a.address == sensor.address)
    batches = service.batches[key]
    got = np.concatenate([b.accel_g for b in batches])
    times = np.concatenate([b.times() for b in batches])
    sent = sensor.sent_indices()
    assert len(sensor.sent) >= 2, "the link was dropped, so the sensor sent at least two runs"
    # every received sample is a sent one, in order, at its recorded time (nothing invented)
    index = match(got, times, sensor)
    assert np.all(np.diff(index) > 0)
    assert np.all(np.diff(times) > 0)
    # what was sent but never arrived: the few packets in flight when a link broke (and at the
    # end, while the gateway shut down)
    unreceived = np.setdiff1d(sent, index)
    assert len(unreceived) <= 10 * per_packet(sensor) * len(sensor.sent)
    # the intervals the sensor could not send show as gaps of the right length
    holes = np.flatnonzero(np.diff(index) > 1)
    assert len(holes) >= 1
    true_t = sensor.trace.t_s[index]
    for i in holes:
        assert times[i + 1] - times[i] == pytest.approx(true_t[i + 1] - true_t[i], abs=0.25)
    stats = gateway.stats[key]
    assert stats.reconnects >= 1
    missing = index[-1] + 1 - index[0] - len(got)
    assert stats.lost == pytest.approx(missing, abs=6 * len(holes))


def per_packet(sensor: VirtualSensor) -> int:
    return sensor.emulation.per_notification


def test_a_silent_sensor_is_detected_and_reconnected(run) -> None:  # type: ignore[no-untyped-def]
    sensors, gateway, _service, _ = run
    sensor = sensors[SILENT]
    link = next(gateway.links[a.key] for a in gateway.sensors if a.address == sensor.address)
    assert link.stalls >= 1
    assert link.connects >= 3  # first connect, after the drop, after the stall
    assert sensor.sent[-1][1] - sensor.sent[-1][0] > 100, "it streamed again after the stall"


def test_device_health_was_reported_for_every_sensor(run) -> None:  # type: ignore[no-untyped-def]
    sensors, _gateway, _, sink = run
    reported = {h.sensor_id for h in sink.devices}
    assert len(reported) == len(sensors)
    last = {h.profile: h for h in sink.devices}
    assert all(h.battery_pct == 87 for h in last.values())
    assert all(h.rssi_dbm is not None for h in last.values())
    assert all(h.reconnects >= 1 for h in last.values())


def test_nudges_reach_the_devices_that_can_show_them(run) -> None:  # type: ignore[no-untyped-def]
    sensors, *_ = run
    assert sensors["microbit"].nudges == [(microbit.LED_TEXT, b"MOVE")]
    assert sensors["metamotion"].nudges == [
        (metamotion.COMMAND, metamotion.haptic(200)),
        (metamotion.COMMAND, metamotion.haptic(200)),
    ]
    assert sensors["witmotion"].nudges == []
    assert all(uuid != microbit.LED_TEXT for uuid, _ in sensors["thingy52"].writes)


def test_start_writes_reached_the_devices(run) -> None:  # type: ignore[no-untyped-def]
    sensors, gateway, *_ = run
    polar = next(gateway.links[a.key] for a in gateway.sensors if a.profile.name == "polar_h10")
    assert polar.control_answers[0] == bytes.fromhex("f002020000")  # PMD start: success
    for profile, sensor in sensors.items():
        sent = [(w.char_uuid, w.data) for w in sensor.profile.start]
        assert sensor.writes[: len(sent)] == sent, profile


def test_scanning_runs_only_while_a_sensor_is_missing(run) -> None:  # type: ignore[no-untyped-def]
    _, gateway, *_ = run
    assert SCANNING["connected"] == (True,) * len(RECORDINGS)
    assert SCANNING["all connected"] == (False, False)
    assert not gateway.finder.scanning
    # one scan at start-up, then at most one per reconnection (drops and the stall)
    assert 2 <= gateway.finder.scans <= 1 + len(RECORDINGS) + 1


def test_connects_are_serialised_and_everything_stops(run) -> None:  # type: ignore[no-untyped-def]
    assert SCANNING["max pending connects"] == (1,)
    assert SCANNING["tasks left"] == (1,)  # only the test's own task


def test_a_missing_sensor_is_searched_for_again_with_backoff() -> None:
    async def missing() -> tuple[int, int, bool]:
        timebase = TimeBase()
        async with VirtualRadio(timebase=timebase) as radio:
            key = SensorKey("w1", Placement.TRUNK)
            service = EdgeService({"w1": [Placement.TRUNK]}, FakeSink())
            profile = VirtualSensor("microbit", recording(RECORDINGS["microbit"], 0.0)).profile
            gateway = Gateway(
                [SensorAssignment("D0:5E:FF:FF:FF:FF", profile, key)],
                service,
                gateway_id="gw-test",
                radio=Radio.virtual(radio.adapter),
                timebase=timebase,
                link_settings=LinkSettings(scan_timeout_s=0.2, backoff_base_s=0.1),
            )
            async with asyncio.TaskGroup() as group:
                group.create_task(gateway.run())
                await asyncio.sleep(1.5)
                scanning = radio.adapter.scanning
                gateway.stop()
            link = gateway.links[key]
            return link.failures, link.connects, scanning

    failures, connects, scanning = asyncio.run(missing())
    assert 2 <= failures <= 6  # 0.2 s searches, then 0.05-0.1 s, 0.1-0.2 s, 0.2-0.4 s ... waits
    assert connects == 0
    assert scanning, "it keeps scanning while the sensor is missing"


def test_a_held_simulated_clock_is_not_a_stalled_sensor() -> None:
    """A paced simulation holds its clock while its consumer is behind (the demo, the fidelity
    benchmark); its sensors then have nothing to send. Once this held the clock for longer than
    the watchdog, every link was declared stalled, which held the clock longer still: the demo
    at a low speed never reached the end of its day."""
    hold = {"on": False}

    async def held() -> tuple[int, int, int, int]:
        timebase = PacedTimeBase(speed=1.0)
        timebase.hold_while(lambda _t: hold["on"])
        async with VirtualRadio(timebase=timebase) as radio:
            sensor = radio.add(
                VirtualSensor("microbit", recording(RECORDINGS["microbit"], timebase.now()))
            )
            key = SensorKey("w1", Placement.TRUNK)
            gateway = Gateway(
                [SensorAssignment(sensor.address, sensor.profile, key)],
                EdgeService({"w1": [Placement.TRUNK]}, FakeSink()),
                gateway_id="gw-test",
                radio=Radio.virtual(radio.adapter),
                timebase=timebase,
                link_settings=LinkSettings(watchdog_s=0.5),
            )
            async with asyncio.TaskGroup() as group:
                group.create_task(gateway.run())
                await asyncio.sleep(1.5)
                before = gateway.stats[key].samples
                hold["on"] = True
                await asyncio.sleep(2.0)  # four watchdog periods with nothing to send
                hold["on"] = False
                await asyncio.sleep(1.0)
                gateway.stop()
            link = gateway.links[key]
            return link.stalls, link.connects, before, gateway.stats[key].samples

    stalls, connects, before, after = asyncio.run(held())
    assert before > 0
    assert (stalls, connects) == (0, 1)
    assert after > before + 25, "it streamed on once the clock moved again"


def test_sensors_on_a_radio_reached_over_a_socket_stream_exactly_what_they_sent() -> None:
    """`bench/gateway.py` runs the sensors in a process of their own, as a real radio's are:
    their radio exposes a controller over TCP and the gateway's adapter is a host stack on the
    far end. Here both ends share one loop; the bytes cross a real socket."""

    async def remote() -> tuple[VirtualSensor, list[SampleBatch]]:
        timebase = TimeBase()
        listening = socket.create_server(("127.0.0.1", 0))
        async with VirtualRadio(timebase=timebase, adapters=0) as radio:
            sensor = radio.add(
                VirtualSensor("polar_h10", recording(RECORDINGS["polar_h10"], timebase.now(), 4))
            )
            await radio.expose(listening)
            port = listening.getsockname()[1]
            async with remote_adapter(f"tcp-client:127.0.0.1:{port}") as adapter:
                key = SensorKey("w1", Placement.TRUNK)
                service = RecordingService({"w1": [Placement.TRUNK]}, FakeSink())
                gateway = Gateway(
                    [SensorAssignment(sensor.address, sensor.profile, key)],
                    service,
                    gateway_id="gw-test",
                    radio=Radio.virtual(adapter),
                    timebase=timebase,
                )
                async with asyncio.TaskGroup() as group:
                    group.create_task(gateway.run())
                    end = float(sensor.trace.t_s[-1]) + 1.0
                    while timebase.now() < end:
                        await asyncio.sleep(0.2)
                    gateway.stop()
        return sensor, service.batches.get(key, [])

    sensor, batches = asyncio.run(remote())
    got = np.concatenate([b.accel_g for b in batches])
    sent = sensor.trace.accel_g[sensor.sent_indices()]
    assert len(sent) > 100
    assert len(got) == len(sent)
    np.testing.assert_allclose(got, sent, atol=0.01)
