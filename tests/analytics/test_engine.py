"""Properties of the streaming engine that must hold whatever the classifier does."""

from __future__ import annotations

import functools
import itertools

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from analytics.monitor import Output, WearerMonitor
from analytics.offline import analyze
from analytics.records import EventKind, Placement, Posture, SampleBatch, Trace
from analytics.timeline import POSTURES
from sensor_gateway.simulator import SimulatedDay, simulate_day


@functools.cache
def short_day() -> SimulatedDay:
    return simulate_day(seed=11, hours=1.5, rate_hz=25.0)


def _stream(traces: dict[Placement, Trace], sizes: list[int]) -> Output:
    """Feed samples in chunks of the given sizes (cycled), sensors interleaved by time."""
    monitor = WearerMonitor("w", placements=traces.keys())
    parts = []
    cursors = dict.fromkeys(traces, 0)
    i = 0
    while any(cursors[p] < len(t) for p, t in traces.items()):
        placement = min(
            (p for p in traces if cursors[p] < len(traces[p])),
            key=lambda p: traces[p].t_s[cursors[p]],
        )
        trace, start = traces[placement], cursors[placement]
        n = sizes[i % len(sizes)]
        i += 1
        batch = SampleBatch(
            sensor_id=placement.value,
            seq=i,
            t0=float(trace.t_s[start]),
            rate_hz=trace.rate_hz,
            accel_g=trace.accel_g[start : start + n],
        )
        cursors[placement] = start + len(batch)
        parts.append(monitor.feed(placement, batch))
    parts.append(monitor.finish())
    return Output.merge(parts)


def _key(out: Output) -> tuple[object, ...]:
    events = sorted(
        (e.end_s, e.start_s, e.kind.value, tuple(sorted(e.values.items()))) for e in out.events
    )
    return (
        out.timeline.t_s.tolist(),
        out.timeline.posture.tolist(),
        np.nan_to_num(out.timeline.flexion_deg, nan=-999).round(9).tolist(),
        out.timeline.slouched.tolist(),
        events,
        out.minutes,
    )


@settings(max_examples=8, deadline=None)
@given(st.lists(st.integers(min_value=7, max_value=400), min_size=1, max_size=6))
def test_streaming_in_any_chunks_equals_the_offline_result(sizes: list[int]) -> None:
    traces = short_day().traces
    offline = analyze(traces, wearer_id="w").output
    assert _key(_stream(dict(traces), sizes)) == _key(offline)


def test_the_same_trace_twice_gives_identical_events() -> None:
    traces = short_day().traces
    first = analyze(traces, wearer_id="w").output
    second = analyze(traces, wearer_id="w").output
    assert first.events == second.events
    assert first.minutes == second.minutes


def test_every_second_is_classified_once_and_minutes_add_up() -> None:
    out = analyze(short_day().traces, wearer_id="w").output
    t = out.timeline.t_s
    assert np.all(np.diff(t) == 1.0)
    assert all(sum(m.posture_s.values()) == 60 for m in out.minutes)
    starts = [m.start_s for m in out.minutes]
    assert starts == sorted(set(starts))


def test_bouts_are_ordered_and_never_overlap() -> None:
    out = analyze(short_day().traces, wearer_id="w").output
    for kind in (EventKind.POSTURE_BOUT, EventKind.SITTING_BOUT, EventKind.SLOUCH):
        bouts = sorted((e.start_s, e.end_s) for e in out.events if e.kind is kind)
        assert all(a_end <= b_start for (_, a_end), (b_start, _) in itertools.pairwise(bouts))
    posture_total = sum(e.duration_s for e in out.events if e.kind is EventKind.POSTURE_BOUT)
    assert posture_total == len(out.timeline)


def test_a_sensor_left_on_a_desk_for_an_hour_is_not_worn_never_sitting() -> None:
    rng = np.random.default_rng(5)
    n = 3600 * 25
    desk = np.array([0.3, -0.2, 0.93]) + rng.normal(scale=0.003, size=(n, 3))
    trace = Trace(t_s=np.arange(n) / 25.0, accel_g=desk, rate_hz=25.0)
    summary = analyze({Placement.TRUNK: trace}).summary
    assert summary.posture_s[Posture.NOT_WORN] == 3600
    assert summary.sitting_s == 0


def test_thigh_and_trunk_find_the_simulated_sitting() -> None:
    day = short_day()
    out = analyze(day.traces, wearer_id="w").output
    predicted = np.array([POSTURES[c].value for c in out.timeline.posture])
    n = min(predicted.size, day.truth.size)
    sitting = day.truth[:n] == "sitting"
    assert (predicted[:n][sitting] == "sitting").mean() > 0.95
    assert (predicted[:n][~sitting] != "sitting").mean() > 0.95


def test_gaps_are_unknown_never_invented() -> None:
    day = short_day()
    trace = day.traces[Placement.TRUNK]
    keep = (trace.t_s < 1200) | (trace.t_s >= 1500)
    holed = Trace(t_s=trace.t_s[keep], accel_g=trace.accel_g[keep], rate_hz=trace.rate_hz)
    out = analyze({Placement.TRUNK: holed}, wearer_id="w").output
    inside = (out.timeline.t_s >= 1200) & (out.timeline.t_s < 1500)
    assert inside.sum() == 300
    assert set(out.timeline.posture[inside].tolist()) == {POSTURES.index(Posture.UNKNOWN)}
