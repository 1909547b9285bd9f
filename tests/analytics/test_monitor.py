"""The WearerMonitor's commands (snooze, do-not-disturb, calibrate), persisted calibration and
the daily summaries."""

from __future__ import annotations

import numpy as np
import pytest

from analytics.monitor import Output, WearerMonitor
from analytics.offline import analyze
from analytics.records import EventKind, Placement, Posture, Trace
from analytics.summary import summarise_days
from analytics.timeline import POSTURES
from tests.synthetic import Part, rotation, trace

MOUNT = rotation((0.3, -1.0, 0.4), 50.0)
DAY_START = 1_709_625_600.0  # 2024-03-05 08:00 UTC


def feed_until(monitor: WearerMonitor, tr: Trace, start: int, until_s: float) -> tuple[int, Output]:
    """Feed 1 s batches from sample `start` up to `until_s`; return the next sample index."""
    parts = []
    i = start
    for batch in tr.batches(sensor_id="s", max_s=1.0):
        if batch.t0 < float(tr.t_s[start]) or batch.t0 >= until_s:
            continue
        parts.append(monitor.feed(Placement.TRUNK, batch))
        i += len(batch)
    return i, Output.merge(parts)


def sitting_spell() -> Trace:
    """A walk, then 3400 s of sitting (nudges due at 1800 and 2700 s into it), then a walk."""
    parts = [Part("walk", 60), Part("down"), Part("sit", 3400, lean_deg=8), Part("up")]
    return trace([*parts, Part("walk", 60)], mount=MOUNT, start_s=DAY_START)


def nudge_times(out: Output) -> list[float]:
    return [e.start_s - DAY_START for e in out.events if e.kind is EventKind.NUDGE]


def test_snooze_holds_the_nudges_from_the_moment_it_arrives() -> None:
    tr = sitting_spell()
    plain = analyze({Placement.TRUNK: tr}).output
    bout = next(e for e in plain.events if e.kind is EventKind.SITTING_BOUT)
    sat_down = bout.start_s - DAY_START
    assert 60 <= sat_down <= 64
    assert nudge_times(plain) == [sat_down + 1800, sat_down + 2700]
    monitor = WearerMonitor("w", placements=(Placement.TRUNK,))
    i, first = feed_until(monitor, tr, 0, DAY_START + 1500)
    monitor.snooze(900.0)  # at data time 1500 s
    _, rest = feed_until(monitor, tr, i, np.inf)
    out = Output.merge([first, rest, monitor.finish()])
    assert nudge_times(out) == [2400.0, 3300.0]


def test_do_not_disturb_switches_nudges_off_and_on() -> None:
    tr = sitting_spell()
    monitor = WearerMonitor("w", placements=(Placement.TRUNK,))
    monitor.dnd(True, t_s=DAY_START + 100)
    monitor.dnd(False, t_s=DAY_START + 3000)
    parts_out = [monitor.feed(Placement.TRUNK, b) for b in tr.batches(sensor_id="s", max_s=5.0)]
    out = Output.merge([*parts_out, monitor.finish()])
    assert nudge_times(out) == [3000.0]


def test_commands_before_any_data_need_a_time() -> None:
    monitor = WearerMonitor("w", placements=(Placement.TRUNK,))
    with pytest.raises(ValueError, match="no data yet"):
        monitor.snooze(600.0)
    with pytest.raises(ValueError, match="positive"):
        monitor.snooze(0.0, t_s=1.0)


def released_before(tr: Trace, until_s: float, **kwargs: object) -> Output:
    """What a monitor streaming `tr` in 1 s batches has released by data time `until_s`."""
    monitor = WearerMonitor("w", placements=(Placement.TRUNK,), **kwargs)  # type: ignore[arg-type]
    return Output.merge(
        [
            monitor.feed(Placement.TRUNK, b)
            for b in tr.batches(sensor_id="s", max_s=1.0)
            if b.t0 < until_s
        ]
    )


def test_a_persisted_calibration_is_used_from_the_first_second() -> None:
    parts = [
        Part("walk", 60),
        Part("down"),
        Part("sit", 200, lean_deg=25),
        Part("up"),
        Part("walk", 30),
    ]
    monitor = WearerMonitor("w", placements=(Placement.TRUNK,))
    for b in trace(parts, mount=MOUNT).batches(sensor_id="s", max_s=60.0):
        monitor.feed(Placement.TRUNK, b)
    monitor.finish()
    saved = monitor.calibration()
    assert set(saved) == {Placement.TRUNK}
    # the next day starts with sitting, before any walk: the carried reference decides it
    later = [Part("sit", 900, lean_deg=25), Part("up"), Part("walk", 30)]
    tr = trace(later, mount=MOUNT, seed=9)
    cold = released_before(tr, 800.0)
    warm = released_before(tr, 800.0, calibrations=saved)
    assert len(cold.timeline) == 0  # held: no reference, no walk yet
    assert len(warm.timeline) > 400  # decided within the hold time
    assert set(warm.timeline.posture.tolist()) == {POSTURES.index(Posture.SITTING)}
    assert np.isfinite(warm.timeline.flexion_deg).all()
    # a cold start still gets it right in the end, once the walk has taught the reference
    assert analyze({Placement.TRUNK: tr}).summary.sitting_s >= 895


def test_daily_summaries_split_at_local_midnight() -> None:
    parts = [
        Part("walk", 60),
        Part("down"),
        Part("sit", 1200, lean_deg=20),
        Part("up"),
        Part("walk", 60),
    ]
    start = 1_709_679_000.0  # 2024-03-05 22:50 UTC = 23:50 in Berlin
    tr = trace(parts, mount=MOUNT, start_s=start)
    out = analyze({Placement.TRUNK: tr}).output
    days = summarise_days(out.events, out.minutes, timezone="Europe/Berlin")
    assert [d.isoformat() for d in days] == ["2024-03-05", "2024-03-06"]
    total = sum(s.posture_s[Posture.SITTING] for s in days.values())
    assert total == sum(m.posture_s[Posture.SITTING] for m in out.minutes)
    assert all(s.valid_wear_s > 0 for s in days.values())
    assert not next(iter(days.values())).valid_day()
