"""The clock model under jitter, bursts, drift and gaps (seeded, synthetic receive times)."""

from __future__ import annotations

import numpy as np
import pytest

from sensor_gateway.clock import ClockModel, Placed

RATE = 50.0


def stream(
    true_hz: float,
    seconds: float,
    *,
    per_packet: int = 1,
    latency: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Production times of each packet's last sample, and receive times."""
    n_packets = int(seconds * true_hz / per_packet)
    produced = (np.arange(n_packets) * per_packet + per_packet - 1) / true_hz
    received = produced + (latency[:n_packets] if latency is not None else 0.0)
    return produced, np.maximum.accumulate(received)  # a link delivers in order


def run(model: ClockModel, received: np.ndarray, per_packet: int = 1) -> list[Placed]:
    return [model.place(per_packet, float(r)) for r in received]


def sample_times(placed: list[Placed], per_packet: int) -> np.ndarray:
    return np.concatenate([p.t0 + np.arange(per_packet) / p.rate_hz for p in placed])


def test_jittered_packets_stay_contiguous_and_on_time() -> None:
    rng = np.random.default_rng(1234)
    latency = rng.uniform(0.005, 0.060, size=30_000)
    produced, received = stream(RATE, 300, latency=latency)
    model = ClockModel(RATE)
    placed = run(model, received)
    t = sample_times(placed, 1)
    assert model.lost == 0
    assert np.all(np.diff(t) > 0)
    assert np.abs(t - produced).max() < 0.08
    duration = t[-1] - t[0]
    assert duration == pytest.approx(produced[-1] - produced[0], rel=1e-3)


def test_bursts_are_not_mistaken_for_gaps() -> None:
    # the radio holds packets back and delivers them in bursts of up to 300 ms
    produced, _ = stream(RATE, 120, per_packet=2)
    received = np.ceil(produced / 0.3) * 0.3 + 0.004
    model = ClockModel(RATE)
    placed = run(model, received, per_packet=2)
    t = sample_times(placed, 2)
    assert model.lost == 0
    assert model.gaps == 0
    assert np.all(np.diff(t) > 0)
    assert np.abs(t[1::2] - produced).max() < 0.35


@pytest.mark.parametrize("true_hz", [49.5, 50.5])
def test_drift_is_corrected(true_hz: float) -> None:
    rng = np.random.default_rng(7)
    latency = rng.uniform(0.005, 0.040, size=60_000)
    produced, received = stream(true_hz, 600, latency=latency)
    model = ClockModel(RATE)
    t = sample_times(run(model, received), 1)
    assert model.lost == 0, "drift must not look like lost packets"
    assert model.rate_hz == pytest.approx(true_hz, rel=1e-3)
    assert abs(t[-1] - produced[-1]) < 0.15  # uncorrected: 6 s off after 10 minutes
    assert (t[-1] - t[0]) == pytest.approx(produced[-1] - produced[0], rel=2e-3)


def test_a_hole_in_the_stream_shows_as_a_gap_with_the_lost_count() -> None:
    rng = np.random.default_rng(3)
    produced, received = stream(RATE, 60, latency=rng.uniform(0.005, 0.03, size=3000))
    keep = (produced < 20.0) | (produced >= 23.0)  # 3 s of packets never arrive
    model = ClockModel(RATE)
    placed = run(model, received[keep])
    t = sample_times(placed, 1)
    gaps = [p for p in placed if p.lost]
    assert len(gaps) == 1
    assert gaps[0].new_segment
    assert gaps[0].lost == pytest.approx(150, abs=3)
    hole = np.diff(t).max()
    assert hole == pytest.approx(3.0 + 1 / RATE, abs=0.05)
    assert len(t) == keep.sum()  # no invented samples


def test_device_clock_gives_the_exact_lost_count() -> None:
    model = ClockModel(RATE)
    period = 1 / RATE
    placed = []
    for i in range(40):  # packets of 10 samples; packets 20-24 are lost
        if 20 <= i < 25:
            continue
        device_t = 1000.0 + (i * 10 + 9) * period
        placed.append(model.place(10, 5.0 + (i * 10 + 9) * period + 0.01, device_time_s=device_t))
    assert [p.lost for p in placed if p.lost] == [50]
    gap = next(p for p in placed if p.lost)
    before = placed[placed.index(gap) - 1]
    assert gap.t0 - before.t_end(10) == pytest.approx(50 * period, abs=1e-6)


def test_reset_starts_a_new_segment() -> None:
    model = ClockModel(RATE)
    model.place(1, 10.0)
    model.reset()
    placed = model.place(1, 10.5)
    assert placed.new_segment
    assert placed.lost == 0
    assert placed.t0 == pytest.approx(10.5)


@pytest.mark.parametrize(("window_s", "spurious"), [(10.0 * 400, False), (10.0, True)])
def test_an_accelerated_stream_needs_a_window_of_real_seconds(
    window_s: float, spurious: bool
) -> None:
    """At 400x, real scheduling delays of up to 60 ms are 24 s of stream time: the envelope window
    must span 10 real seconds (as the gateway sets it), or late bursts shift times into gaps."""
    speed, per = 400.0, 39
    rng = np.random.default_rng(7)
    latency = np.where(rng.random(40_000) < 0.02, rng.uniform(0.0, 0.060, 40_000), 0.001) * speed
    produced, received = stream(RATE, 8 * 3600, per_packet=per, latency=latency)
    model = ClockModel(RATE, gap_tolerance_s=0.5 * speed, window_s=window_s)
    placed = run(model, received, per)
    ends = np.array([p.t_end(per) for p in placed])
    holes = np.array([p.t0 for p in placed])[1:] - ends[:-1]
    assert bool(holes.max() > 2.0) == spurious, f"largest hole {holes.max():.1f} s"
    if not spurious:
        t = sample_times(placed, per)
        assert (
            np.abs(
                t
                - np.repeat(produced - (per - 1) / RATE, per)
                - np.tile(np.arange(per) / RATE, len(placed))
            ).max()
            < 30
        )


def test_the_gateway_sizes_the_clock_window_in_real_seconds() -> None:
    from sensor_gateway.gateway import Gateway
    from sensor_gateway.service import EdgeService
    from sensor_gateway.timebase import TimeBase

    class Sink:
        def publish_output(self, wearer_id: str, output: object) -> None: ...
        def publish_state(self, state: object, **live: object) -> None: ...

    gateway = Gateway([], EdgeService({}, Sink()), gateway_id="g", timebase=TimeBase(speed=400.0))  # type: ignore[arg-type]
    assert gateway.clock_window_s == 4000.0
    assert gateway.gap_tolerance_s == 200.0
