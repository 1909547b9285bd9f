"""One sensor's stream without a link: notifications in, batches out, every sample accounted for
(`sensor_gateway.stream.SensorStream`); the paced time of simulations; the analytics thread."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from analytics.records import Placement, SampleBatch
from sensor_gateway.analysis import Analysis
from sensor_gateway.profiles import get_profile
from sensor_gateway.service import EdgeService, SensorKey
from sensor_gateway.stream import SensorStream
from sensor_gateway.timebase import PacedTimeBase, TimeBase

MICROBIT = get_profile("microbit")  # one sample (3 x int16 milli-g) per notification, 50 Hz


def payload(i: int) -> bytes:
    return np.array([i % 1000, 0, -1000], dtype="<i2").tobytes()


def feed(stream: SensorStream, indices: range, *, t0: float) -> list[SampleBatch]:
    """Notifications for samples `indices`, each received on time (sample i at t0 + i/50)."""
    out = []
    for i in indices:
        out += stream.notification(payload(i), t0 + i / 50.0)
    return out


def samples(batches: list[SampleBatch]) -> int:
    return sum(len(b.accel_g) for b in batches)


def test_a_steady_stream_becomes_batches_with_nothing_lost() -> None:
    stream = SensorStream("w1/trunk", MICROBIT)
    stream.connected()
    batches = feed(stream, range(500), t0=1000.0) + stream.finish()
    assert samples(batches) == stream.samples == 500
    assert stream.lost_total == 0
    assert np.allclose(np.concatenate([b.accel_g for b in batches])[:, 2], -1.0)
    assert len(stream.segments) == 1


def test_a_hole_within_a_connection_is_counted_as_a_gap() -> None:
    stream = SensorStream("w1/trunk", MICROBIT)
    stream.connected()
    feed(stream, range(200), t0=1000.0)
    feed(stream, range(300, 500), t0=1000.0)  # 100 samples (2 s) never arrived
    assert stream.samples == 400
    assert dict(stream.lost) == {"gap": pytest.approx(100, abs=2)}


def test_what_a_sensor_produced_while_its_link_was_down_is_counted_as_disconnected() -> None:
    stream = SensorStream("w1/trunk", MICROBIT)
    stream.connected()
    feed(stream, range(200), t0=1000.0)
    stream.lost_link()
    stream.connected()
    feed(stream, range(700, 900), t0=1000.0)  # 10 s later
    assert stream.lost["disconnected"] == pytest.approx(500, abs=2)
    assert stream.lost["gap"] == 0


def test_bad_packets_are_counted_and_batches_the_caller_drops_are_counted_by_reason() -> None:
    stream = SensorStream("w1/trunk", MICROBIT)
    stream.connected()
    assert stream.notification(b"\x01\x02", 1000.0) == []
    assert stream.bad_packets == 1
    stream.drop(batch(0), "queue")
    assert dict(stream.lost) == {"queue": 50}
    assert stream.lost_total == 50
    assert stream.take_losses() == [(1000.0, 1001.0, "queue")]


def test_paced_time_runs_at_its_speed_while_looked_at_often() -> None:
    timebase = PacedTimeBase(origin_s=0.0, speed=100.0)
    start = time.monotonic()
    while time.monotonic() - start < 0.2:
        timebase.now()
        time.sleep(0.001)
    assert timebase.now() == pytest.approx(100.0 * (time.monotonic() - start), rel=0.15)


def test_paced_time_never_jumps_further_than_its_step() -> None:
    timebase = PacedTimeBase(origin_s=0.0, speed=1000.0, max_step_s=5.0)
    before = timebase.now()
    time.sleep(0.1)  # a starved consumer: 100 s of stream time passed in real time
    assert timebase.now() - before == pytest.approx(5.0)


def test_paced_time_waits_while_held_and_tells_the_predicate_where_it_would_go() -> None:
    timebase = PacedTimeBase(origin_s=50.0, speed=100.0)
    asked: list[float] = []

    def held(t_s: float) -> bool:
        asked.append(t_s)
        return True

    timebase.hold_while(held)
    for _ in range(20):
        time.sleep(0.002)
        assert timebase.now() == 50.0
    assert asked
    assert all(t > 50.0 for t in asked)


def test_plain_time_does_not_wait() -> None:
    timebase = TimeBase(origin_s=0.0, speed=1000.0)
    time.sleep(0.05)
    assert timebase.now() > 40.0


class CountingSink:
    def __init__(self) -> None:
        self.outputs = 0

    def publish_output(self, wearer_id: str, output: object) -> None:
        self.outputs += 1

    def publish_state(self, state: object, **live: object) -> None:
        pass


def batch(seq: int, t0: float = 1000.0) -> SampleBatch:
    accel = np.tile([0.0, 0.0, 1.0], (50, 1))
    return SampleBatch(sensor_id="w1/trunk", seq=seq, t0=t0 + seq, rate_hz=50.0, accel_g=accel)


def test_the_analytics_queue_refuses_at_once_when_full_and_analyses_the_rest() -> None:
    key = SensorKey("w1", Placement.TRUNK)
    service = EdgeService({"w1": [Placement.TRUNK]}, CountingSink())
    analysis = Analysis(service, max_batches=3)
    assert [analysis.offer(key, batch(i)) for i in range(5)] == [True] * 3 + [False] * 2
    assert analysis.backlog == 3
    analysis.start()
    analysis.finish()
    assert analysis.analysed == 3
    assert analysis.backlog == 0


def test_an_error_in_the_analytics_thread_costs_that_call_only() -> None:
    service = EdgeService({"w1": [Placement.TRUNK]}, CountingSink())
    analysis = Analysis(service)
    ran = threading.Event()

    def broken() -> None:
        raise RuntimeError("a bug")

    analysis.start()
    analysis.call(broken)
    analysis.call(ran.set)
    analysis.finish()
    assert ran.is_set()
    assert analysis.errors == 1
