"""Cuts a wearer's aligned seconds into pieces: gait, posture-change bursts, still stretches, gaps.

    GAP     no data (or not all sensors reporting)
    GAIT    walking: runs of seconds with gait-like |a| variation (pauses of a second or two
            bridged, runs shorter than `gait_min_s` dropped)
    EVENT   a short burst of non-gait movement that may have changed the posture: fast vertical
            movement or a turn of the trunk between the quiet seconds around it
    STATIC  everything else: a posture held, with fidgeting

The vertical speed of a movement comes from |a|, which does not depend on how the sensor sits:
`speed(t) = g * (integral of |a| over [t - w, t] - integral over [t, t + w])` with w = 0.75 s is
about twice the vertical speed in the middle of a movement that starts and ends at rest (the
Haar wavelet of the acceleration), and insensitive to the sensor's offset. A sit-to-stand moves
up (a large positive peak), a stand-to-sit down (a large negative one).

Every flag of a second depends only on seconds at most `lookahead` after it and `context` before
it, so the Segmenter releases a second once `lookahead` later seconds have arrived and the result
is the same however the stream was chunked.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
from numpy.typing import NDArray

from .arrays import angle_deg, close_gaps, keep_runs
from .epochs import BINS, EpochBlock
from .params import Thresholds, TrunkRules
from .records import Placement

F64 = NDArray[np.float64]

GAP, GAIT, EVENT, STATIC = np.int8(0), np.int8(1), np.int8(2), np.int8(3)
STANDARD_G = 9.80665
HAAR_BINS = 6  # w = 6 / BINS s = 0.75 s
QUIET_S = 3  # quiet seconds on each side of a burst that tell how far the trunk turned
STEP_BAND_G = 0.04  # |a| must swing this far either side of its mean to count a step
STEP_MAX_BINS = 4  # ... and go from below to above within this many bins
CADENCE_WINDOW_S = 5  # gait needs `gait_min_steps` steps in the seconds around it


@dataclass(frozen=True, slots=True, eq=False)
class Segmented:
    """Final seconds with their piece structure (see the module docstring)."""

    blocks: dict[Placement, EpochBlock]  # the seconds' epochs, per sensor
    kind: NDArray[np.int8]  # GAP, GAIT, EVENT or STATIC
    start: NDArray[np.bool_]  # a new piece starts at this second
    still: NDArray[np.bool_]  # every sensor still (no movement beyond noise)
    steps: NDArray[np.int64]  # steps counted in this second (gait seconds only)
    speed_m_s: F64  # EVENT seconds: the burst's peak |vertical speed| estimate; else NaN
    up_ratio: F64  # EVENT seconds: log(peak up speed / peak down speed); else NaN
    turn_deg: F64  # EVENT seconds: trunk turn between the quiet seconds around it; else NaN

    def __len__(self) -> int:
        return int(self.kind.shape[0])

    @property
    def t_s(self) -> F64:
        return next(iter(self.blocks.values())).t_s

    def take(self, index: slice) -> Segmented:
        values = {f.name: getattr(self, f.name)[index] for f in fields(self) if f.name != "blocks"}
        return Segmented(blocks={p: b.take(index) for p, b in self.blocks.items()}, **values)

    @staticmethod
    def concat(parts: list[Segmented]) -> Segmented:
        parts = [p for p in parts if len(p)]
        if len(parts) == 1:
            return parts[0]
        first = parts[0]
        values = {
            f.name: np.concatenate([getattr(p, f.name) for p in parts])
            for f in fields(Segmented)
            if f.name != "blocks"
        }
        blocks = {k: EpochBlock.concat([p.blocks[k] for p in parts]) for k in first.blocks}
        return Segmented(blocks=blocks, **values)


def still_seconds(block: EpochBlock, thresholds: Thresholds) -> NDArray[np.bool_]:
    """Seconds with no movement beyond sensor noise on at least two axes."""
    with np.errstate(invalid="ignore"):
        quiet = (block.sd_g < thresholds.still_sd_g) & (block.range_g < thresholds.still_range_g)
    result: NDArray[np.bool_] = (quiet.sum(axis=1) >= 2) & (block.fill >= 0.5)
    return result


def speed(bins: F64, breaks: NDArray[np.bool_]) -> tuple[F64, F64]:
    """Per second, the largest upward and downward vertical speed estimate (m/s, NaN if none).

    `bins` (k, BINS) is the mean |a| per bin; `breaks[i]` marks a second that does not follow
    second i - 1. Speeds near breaks and missing data are NaN.
    """
    k = bins.shape[0]
    q = bins.ravel()
    # a break at second s: windows reaching across its start are invalid
    pad = np.full(HAAR_BINS, np.nan)
    x = np.concatenate((pad, q, pad))
    n = q.size
    left = np.zeros(n)
    right = np.zeros(n)
    for i in range(HAAR_BINS):  # fixed-order sums: the same bits however the data were chunked
        left += x[HAAR_BINS - 1 - i : HAAR_BINS - 1 - i + n]
        right += x[HAAR_BINS + i : HAAR_BINS + i + n]
    h = (left - right) * (STANDARD_G / BINS)
    cut = np.flatnonzero(breaks[1:]) + 1  # seconds that do not follow the one before
    for offset in range(-HAAR_BINS + 1, HAAR_BINS):
        idx = cut * BINS + offset
        h[idx[(idx >= 0) & (idx < n)]] = np.nan
    h = h.reshape(k, BINS)
    up = np.where(np.isnan(h), -np.inf, h).max(axis=1)
    down = np.where(np.isnan(h), -np.inf, -h).max(axis=1)
    return np.where(np.isfinite(up), up, np.nan), np.where(np.isfinite(down), down, np.nan)


def steps(bins: F64, mean_g: F64) -> NDArray[np.int64]:
    """Per second, the upward swings of |a| through its mean (one per step while walking)."""
    x = (bins - mean_g[:, None]).ravel()
    sign = np.where(x > STEP_BAND_G, 1, np.where(x < -STEP_BAND_G, -1, 0))
    idx = np.flatnonzero(sign)
    s = sign[idx]
    up = (s[1:] == 1) & (s[:-1] == -1) & (np.diff(idx) <= STEP_MAX_BINS)
    counts = np.bincount(idx[1:][up] // BINS, minlength=bins.shape[0])
    return counts[: bins.shape[0]].astype(np.int64)


def _window_sum(x: NDArray[np.int64], width: int) -> NDArray[np.int64]:
    """Sum of x over the `width` elements centred on each (clipped at the ends)."""
    half = width // 2
    pad = np.concatenate((np.zeros(half, dtype=x.dtype), x, np.zeros(half, dtype=x.dtype)))
    out = np.zeros(x.size, dtype=np.int64)
    for i in range(width):
        out += pad[i : i + x.size]
    return out


def _quiet_mean(g: F64, quiet: NDArray[np.bool_], start: NDArray[np.intp], n: int) -> F64:
    """Mean of g over the quiet seconds in [start, start + n) (clipped), NaN if none.

    Summed in a fixed order, so the result does not depend on where the arrays begin.
    """
    k = g.shape[0]
    total = np.zeros((start.size, 3))
    count = np.zeros(start.size)
    for i in range(n):
        idx = start + i
        inside = (idx >= 0) & (idx < k)
        use = np.zeros(start.size, dtype=bool)
        use[inside] = quiet[idx[inside]]
        total[use] += g[idx[use]]
        count += use
    with np.errstate(invalid="ignore", divide="ignore"):
        out: F64 = total / count[:, None]
    return out


def segment(
    blocks: dict[Placement, EpochBlock], thresholds: Thresholds, rules: TrunkRules
) -> Segmented:
    """Pieces of a contiguous stretch of aligned seconds (the module docstring's rules)."""
    main = blocks[Placement.TRUNK] if Placement.TRUNK in blocks else blocks[Placement.THIGH]
    t = main.t_s
    breaks = np.ones(t.size, dtype=bool)
    breaks[1:] = np.diff(t) != 1.0
    ok = np.logical_and.reduce([b.fill >= 0.5 for b in blocks.values()])
    all_steps = steps(main.mag_bins_g, main.mag_bins_g.mean(axis=1))
    gait = _gait(blocks, ok, all_steps, breaks, thresholds)
    kind = np.where(ok, np.where(gait, GAIT, STATIC), GAP).astype(np.int8)
    movement = _Bursts(main, ok & ~gait, breaks, rules)
    kind[movement.on] = EVENT
    start = breaks.copy()
    start[1:] |= kind[1:] != kind[:-1]
    start |= movement.on & movement.first
    return Segmented(
        blocks=blocks,
        kind=kind,
        start=start,
        still=np.logical_and.reduce([still_seconds(b, thresholds) for b in blocks.values()]),
        steps=np.where(kind == GAIT, all_steps, 0),
        speed_m_s=movement.speed_m_s,
        up_ratio=movement.up_ratio,
        turn_deg=movement.turn_deg,
    )


def _gait(
    blocks: dict[Placement, EpochBlock],
    ok: NDArray[np.bool_],
    all_steps: NDArray[np.int64],
    breaks: NDArray[np.bool_],
    thresholds: Thresholds,
) -> NDArray[np.bool_]:
    """Walking seconds: gait-like |a| variation with steps, pauses bridged, short runs dropped."""
    mag_sd = np.max(np.stack([np.nan_to_num(b.mag_sd_g) for b in blocks.values()]), axis=0)
    cand = ok & (mag_sd > thresholds.walking_mag_sd_g) & (mag_sd < 1.0)
    cand &= _window_sum(all_steps, CADENCE_WINDOW_S) >= thresholds.gait_min_steps
    bridged = close_gaps(cand, thresholds.gait_gap_s, breaks=breaks)
    gait: NDArray[np.bool_] = keep_runs(bridged, thresholds.gait_min_s, breaks=breaks) & ok
    return gait


class _Bursts:
    """Short bursts of movement among `candidates` and which of them may change the posture."""

    def __init__(
        self,
        main: EpochBlock,
        candidates: NDArray[np.bool_],
        breaks: NDArray[np.bool_],
        rules: TrunkRules,
    ) -> None:
        k = main.t_s.size
        up, down = speed(main.mag_bins_g, breaks)
        peak = np.fmax(up, down)
        with np.errstate(invalid="ignore"):
            moving = (main.mag_sd_g > rules.active_mag_sd_g) | (peak > rules.active_speed_m_s)
        cut = breaks | (main.t_s % rules.event_max_s == 0)  # long bursts are cut in pieces
        burst = close_gaps(candidates & moving, 1, breaks=cut) & candidates
        self.first = burst.copy()
        self.first[1:] &= ~burst[:-1] | cut[1:]
        self.on = np.zeros(k, dtype=bool)
        self.speed_m_s = np.full(k, np.nan)
        self.up_ratio = np.full(k, np.nan)
        self.turn_deg = np.full(k, np.nan)
        n = int(self.first.sum())
        if not n:
            return
        ids = np.cumsum(self.first) - 1
        bid = ids[burst]
        peak_b, up_b, down_b = (_max_by(bid, x[burst], n) for x in (peak, up, down))
        starts = np.flatnonzero(self.first)
        ends = starts + np.bincount(bid, minlength=n)  # exclusive
        g = main.mean_g
        quiet = candidates & ~burst & np.isfinite(g).all(axis=1)
        turn = angle_deg(
            _quiet_mean(g, quiet, starts - QUIET_S, QUIET_S), _quiet_mean(g, quiet, ends, QUIET_S)
        )
        with np.errstate(invalid="ignore"):
            event = (peak_b >= rules.event_speed_m_s) | (turn >= rules.event_turn_deg)
        self.on = burst & event[np.maximum(ids, 0)]
        who = ids[self.on]
        self.speed_m_s[self.on] = peak_b[who]
        self.up_ratio[self.on] = np.log(np.maximum(up_b, 1e-3) / np.maximum(down_b, 1e-3))[who]
        self.turn_deg[self.on] = turn[who]


def _max_by(group: NDArray[np.intp], values: F64, n: int) -> F64:
    """Largest of `values` per group (0 for a group with none known)."""
    out = np.zeros(n)
    np.maximum.at(out, group, np.nan_to_num(values, nan=0.0))
    return out


class Segmenter:
    """Streams `segment`: holds the last seconds until their pieces can no longer change."""

    def __init__(
        self, placements: tuple[Placement, ...], thresholds: Thresholds, rules: TrunkRules
    ) -> None:
        self.thresholds = thresholds
        self.rules = rules
        self.lookahead = rules.event_max_s + QUIET_S + 4
        self.context = max(self.lookahead, thresholds.gait_gap_s + thresholds.gait_min_s + 2)
        self._buffer = {p: EpochBlock.empty() for p in placements}
        self._done = 0  # seconds of the buffer already released

    def push(
        self, aligned: dict[Placement, EpochBlock], *, final: bool = False
    ) -> Segmented | None:
        """Add aligned seconds; return the seconds now final (None if there are none)."""
        if aligned:
            self._buffer = {
                p: EpochBlock.concat([self._buffer[p], aligned[p]]) for p in self._buffer
            }
        total = len(next(iter(self._buffer.values())))
        ready = total if final else total - self.lookahead
        if ready <= self._done:
            return None
        out = segment(self._buffer, self.thresholds, self.rules).take(slice(self._done, ready))
        keep_from = max(0, ready - self.context)
        self._buffer = {p: b.take(slice(keep_from, None)) for p, b in self._buffer.items()}
        self._done = ready - keep_from
        return out
