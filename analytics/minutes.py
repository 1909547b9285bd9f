"""Per-minute metrics from the final per-second timeline.

A minute is reported once a second of a later minute has arrived (or at the end of the data).
Seconds of a minute that never arrived count as `unknown`, so the posture seconds add up to 60.
Trunk flexion and exposure bands count only upright and sitting seconds (lying is not a working
posture in ISO 11226). Seconds without any data are counted by why (`nodata_s`): the losses the
gateway reported for the wearer's sensors (`note_loss`), else `unreported` (a sensor not yet
connected, a gateway that was down).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .records import EXPOSURE_BANDS_DEG, LATERAL_LIMIT_DEG, LOSS_REASONS, MinuteMetrics, Posture
from .timeline import CODE, POSTURES, Timeline

_WORKING = np.array([CODE[p] for p in (Posture.SITTING, Posture.STANDING, Posture.WALKING)])
_UNKNOWN = POSTURES.index(Posture.UNKNOWN)


class MinuteAggregator:
    """Collects seconds into minutes and summarises each complete minute."""

    def __init__(self, wearer_id: str) -> None:
        self.wearer_id = wearer_id
        self._held = Timeline.empty()  # seconds of the minute not yet complete
        self._losses: list[tuple[float, float, str]] = []  # (start, end, reason)

    def note_loss(self, start_s: float, end_s: float, reason: str) -> None:
        """Samples were lost in [start_s, end_s) for `reason` (one of LOSS_REASONS)."""
        if reason not in LOSS_REASONS:
            raise ValueError(f"unknown loss reason {reason!r}")
        if end_s > start_s:
            self._losses.append((start_s, end_s, reason))

    def push(self, timeline: Timeline) -> list[MinuteMetrics]:
        timeline = Timeline.concat([self._held, timeline])
        if not len(timeline):
            return []
        last_minute = np.floor(timeline.t_s[-1] / 60.0)
        split = int(np.searchsorted(timeline.t_s, last_minute * 60.0))
        self._held = timeline.take(slice(split, None))
        return self._summarise(timeline.take(slice(0, split)))

    def flush(self) -> list[MinuteMetrics]:
        held, self._held = self._held, Timeline.empty()
        return self._summarise(held)

    def _summarise(self, timeline: Timeline) -> list[MinuteMetrics]:
        minutes = summarise(self.wearer_id, timeline, losses=self._losses)
        if minutes:  # forget what ended before the minutes just released
            done = minutes[-1].start_s + 60.0
            self._losses = [loss for loss in self._losses if loss[1] > done]
        return minutes


def summarise(
    wearer_id: str, timeline: Timeline, *, losses: Sequence[tuple[float, float, str]] = ()
) -> list[MinuteMetrics]:
    """One `MinuteMetrics` per minute touched by `timeline`; `losses` are (start, end, reason)
    of samples the gateway reported lost."""
    if not len(timeline):
        return []
    minute = np.floor(timeline.t_s / 60.0)
    starts = np.flatnonzero(np.concatenate(([True], minute[1:] != minute[:-1])))
    counts = np.zeros((starts.size, len(POSTURES)), dtype=np.int64)
    group = np.repeat(np.arange(starts.size), np.diff(np.concatenate((starts, [minute.size]))))
    np.add.at(counts, (group, timeline.posture.astype(np.intp)), 1)
    counts[:, _UNKNOWN] += 60 - counts.sum(axis=1)

    working = np.isin(timeline.posture, _WORKING) & np.isfinite(timeline.flexion_deg)
    flex = np.where(working, timeline.flexion_deg, 0.0)
    n_working = np.add.reduceat(working.astype(np.int64), starts)
    flex_sum = np.add.reduceat(flex, starts)
    flex_max = np.maximum.reduceat(np.where(working, timeline.flexion_deg, -np.inf), starts)
    incl = np.where(
        working & np.isfinite(timeline.inclination_deg), timeline.inclination_deg, np.nan
    )
    bands = np.stack(
        [
            np.add.reduceat(((incl >= lo) & (incl < hi)).astype(np.int64), starts)
            for lo, hi in EXPOSURE_BANDS_DEG
        ],
        axis=1,
    )
    slouch = np.add.reduceat(timeline.slouched.astype(np.int64), starts)
    with np.errstate(invalid="ignore"):
        bent = np.isin(timeline.posture, _WORKING) & (
            np.abs(timeline.lateral_deg) > LATERAL_LIMIT_DEG
        )
    lateral = np.add.reduceat(bent.astype(np.int64), starts)
    enmo_known = np.isfinite(timeline.enmo_g)
    enmo_n = np.add.reduceat(enmo_known.astype(np.int64), starts)
    enmo_sum = np.add.reduceat(np.where(enmo_known, timeline.enmo_g, 0.0), starts)
    steps = np.add.reduceat(timeline.steps, starts)
    # seconds without data: never in the timeline, or in it with nothing measured
    present = np.add.reduceat(np.isfinite(timeline.enmo_g).astype(np.int64), starts)

    out = []
    for i in range(starts.size):
        n = int(n_working[i])
        out.append(
            MinuteMetrics(
                wearer_id=wearer_id,
                start_s=float(minute[starts[i]] * 60.0),
                posture_s={p: int(counts[i, j]) for j, p in enumerate(POSTURES)},
                slouch_s=int(slouch[i]),
                flexion_mean_deg=round(float(flex_sum[i]) / n, 2) if n else None,
                flexion_max_deg=round(float(flex_max[i]), 2) if n else None,
                band_s=(int(bands[i, 0]), int(bands[i, 1]), int(bands[i, 2])),
                enmo_mg=round(1000.0 * float(enmo_sum[i]) / int(enmo_n[i]), 2)
                if enmo_n[i]
                else 0.0,
                steps=int(steps[i]),
                lateral_s=int(lateral[i]),
                nodata_s=_nodata(float(minute[starts[i]] * 60.0), 60 - int(present[i]), losses),
            )
        )
    return out


def _nodata(
    start_s: float, seconds: int, losses: Sequence[tuple[float, float, str]]
) -> dict[str, int]:
    """`seconds` without data in the minute at `start_s`, by reason: first the reported losses
    overlapping the minute (in LOSS_REASONS order), the rest `unreported`."""
    if seconds <= 0:
        return {}
    end_s = start_s + 60.0
    overlap = dict.fromkeys(LOSS_REASONS, 0.0)
    for lo, hi, reason in losses:
        overlap[reason] += max(0.0, min(hi, end_s) - max(lo, start_s))
    out: dict[str, int] = {}
    left = seconds
    for reason in LOSS_REASONS:
        n = min(left, round(overlap[reason]))
        if n:
            out[reason] = n
            left -= n
    if left:
        out["unreported"] = left
    return out
