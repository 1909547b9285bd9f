"""Cuts a wearer's aligned seconds into pieces: gait, posture-change bursts, still stretches, gaps.

    GAP     no data (or not all sensors reporting)
    GAIT    walking: runs of seconds with gait-like |a| variation (pauses of a second or two
            bridged, runs shorter than `gait_min_s` dropped)
    EVENT   a short burst of non-gait movement that may have changed the posture: fast vertical
            movement or a turn of the trunk between the seconds around it
    STATIC  everything else: a posture held, with fidgeting

The vertical speed of a movement comes from |a|, which does not depend on how the sensor sits:
`speed(t) = g * (integral of |a| over [t - w, t] - integral over [t, t + w])` with w = 0.75 s is
about twice the vertical speed in the middle of a movement that starts and ends at rest (the
Haar wavelet of the acceleration), and insensitive to the sensor's offset. A sit-to-stand moves
up (a large positive peak), a stand-to-sit down (a large negative one). |a| is first averaged
over half a second, which cancels the bounce of the steps of walking.

Seconds are the engine's resolution, but movements do not keep to them: whatever the sub-second
phase of the samples, a movement must look the same. So steps are swings of |a| around its mean
over the second centred on each eighth (a slow rise is no step, wherever the epoch boundary
falls), walking needs a step in each of its seconds, a second is active by its own data, a
burst's speed peaks include the seconds on either side of it (where the edge of a movement
falls, depending on the phase), and only bursts that have gone on for `event_max_s // 2`
seconds are cut at the `event_max_s` grid.

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
SMOOTH = (0.5, 1.0, 1.0, 1.0, 0.5)  # half a second of bins; no response at 2 steps/s
REACH_BINS = HAAR_BINS + len(SMOOTH) // 2  # how far a speed estimate reaches either side
QUIET_S = 3  # seconds on each side of a burst that tell how far the trunk turned
STEP_BAND_G = 0.04  # |a| must swing this far either side of its mean to count a step
STEP_MAX_BINS = 4  # ... and go from below to above within this many bins
CADENCE_WINDOW_S = 5  # gait needs `gait_min_steps` steps in the seconds around it
SPEED_FLOOR_M_S = 1e-3  # speed peaks below this count as none in a movement's direction


@dataclass(frozen=True, slots=True, eq=False)
class Segmented:
    """Final seconds with their piece structure (see the module docstring)."""

    blocks: dict[Placement, EpochBlock]  # the seconds' epochs, per sensor
    kind: NDArray[np.int8]  # GAP, GAIT, EVENT or STATIC
    start: NDArray[np.bool_]  # a new piece starts at this second
    still: NDArray[np.bool_]  # every sensor still (no movement beyond noise)
    steps: NDArray[np.int64]  # steps counted in this second (gait seconds only)
    up_m_s: F64  # EVENT seconds: the burst's peak upward vertical speed estimate; else NaN
    down_m_s: F64  # EVENT seconds: ... and its peak downward one
    turn_deg: F64  # EVENT seconds: trunk turn between the quiet seconds around it; else NaN
    rise_m_s: F64  # EVENT seconds: the second's own peak upward speed estimate; else NaN
    fall_m_s: F64  # EVENT seconds: ... and its own peak downward one

    def __len__(self) -> int:
        return int(self.kind.shape[0])

    @property
    def speed_m_s(self) -> F64:
        """EVENT seconds: the burst's peak |vertical speed| estimate; else NaN."""
        return np.fmax(self.up_m_s, self.down_m_s)

    @property
    def up_ratio(self) -> F64:
        """EVENT seconds: log(peak up speed / peak down speed); else NaN."""
        return direction(self.up_m_s, self.down_m_s)

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


def direction(up_m_s: F64, down_m_s: F64) -> F64:
    """log(peak up speed / peak down speed): positive for a movement up."""
    with np.errstate(invalid="ignore"):
        out: F64 = np.log(
            np.maximum(up_m_s, SPEED_FLOOR_M_S) / np.maximum(down_m_s, SPEED_FLOOR_M_S)
        )
    return out


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
    return peaks(haar(bins, breaks))


def haar(bins: F64, breaks: NDArray[np.bool_]) -> F64:
    """The vertical speed estimate at the start of each bin, (k, BINS) (NaN near breaks).

    |a| is first averaged over half a second (the `SMOOTH` kernel), which cancels the bounce of
    a step at the walking cadence but keeps the slower rise and fall of a posture change: a
    window that reaches into walking then measures the body's movement, not the gait.
    """
    k = bins.shape[0]
    q = bins.ravel()
    n = q.size
    x = np.concatenate((np.full(REACH_BINS, np.nan), q, np.full(REACH_BINS, np.nan)))
    half = len(SMOOTH) // 2
    m = x.size - 2 * half
    smooth = np.zeros(m)
    for i, w in enumerate(SMOOTH):  # fixed-order sums: the same bits however data were chunked
        smooth += w * x[i : i + m]
    smooth /= sum(SMOOTH)  # smooth[j + HAAR_BINS] is the average around q[j]
    left = np.zeros(n)
    right = np.zeros(n)
    for i in range(HAAR_BINS):
        left += smooth[HAAR_BINS - 1 - i : HAAR_BINS - 1 - i + n]
        right += smooth[HAAR_BINS + i : HAAR_BINS + i + n]
    h = (left - right) * (STANDARD_G / BINS)
    # a break at second s: windows reaching across its start are invalid
    cut = np.flatnonzero(breaks[1:]) + 1  # seconds that do not follow the one before
    for offset in range(-REACH_BINS + 1, REACH_BINS):
        idx = cut * BINS + offset
        h[idx[(idx >= 0) & (idx < n)]] = np.nan
    return h.reshape(k, BINS)


def peaks(h: F64) -> tuple[F64, F64]:
    """Per second, the largest upward and downward value of `haar` (NaN if none known)."""
    up = np.where(np.isnan(h), -np.inf, h).max(axis=1)
    down = np.where(np.isnan(h), -np.inf, -h).max(axis=1)
    return np.where(np.isfinite(up), up, np.nan), np.where(np.isfinite(down), down, np.nan)


def _reaching(seconds: NDArray[np.bool_]) -> NDArray[np.bool_]:
    """(k, BINS): bins whose `haar` window reaches into any of the given seconds."""
    inside = np.repeat(seconds, BINS)
    out = inside.copy()
    for offset in range(1, REACH_BINS + 1):
        out[offset:] |= inside[:-offset]
        if offset < REACH_BINS:
            out[:-offset] |= inside[offset:]
    return out.reshape(seconds.size, BINS)


def steps(bins: F64, breaks: NDArray[np.bool_]) -> NDArray[np.int64]:
    """Per second, the upward swings of |a| through its local mean (one per step while walking).

    The local mean is taken over the second centred on each bin, so a slow rise or fall of |a|
    (a sit-to-stand) is no swing, wherever the epoch boundaries fall.
    """
    x = (bins.ravel() - _local_mean(bins, breaks)).ravel()
    sign = np.where(x > STEP_BAND_G, 1, np.where(x < -STEP_BAND_G, -1, 0))
    idx = np.flatnonzero(sign)
    s = sign[idx]
    up = (s[1:] == 1) & (s[:-1] == -1) & (np.diff(idx) <= STEP_MAX_BINS)
    counts = np.bincount(idx[1:][up] // BINS, minlength=bins.shape[0])
    return counts[: bins.shape[0]].astype(np.int64)


def _local_mean(bins: F64, breaks: NDArray[np.bool_]) -> F64:
    """Mean |a| over the second centred on each bin (k * BINS,); the epoch's mean near breaks."""
    q = bins.ravel()
    n = q.size
    half = BINS // 2
    x = np.concatenate((np.full(half, np.nan), q, np.full(half, np.nan)))
    total = 0.5 * (x[:n] + x[2 * half : 2 * half + n])
    for i in range(1, 2 * half):  # fixed-order sums: the same bits however the data were chunked
        total = total + x[i : i + n]
    out = total / BINS
    cut = np.flatnonzero(breaks[1:]) + 1  # seconds that do not follow the one before
    for offset in range(-half, half):
        idx = cut * BINS + offset
        out[idx[(idx >= 0) & (idx < n)]] = np.nan
    fallback = np.repeat(bins.mean(axis=1), BINS)
    result: F64 = np.where(np.isnan(out), fallback, out)
    return result


def _window_sum(x: NDArray[np.int64], width: int) -> NDArray[np.int64]:
    """Sum of x over the `width` elements centred on each (clipped at the ends)."""
    half = width // 2
    pad = np.concatenate((np.zeros(half, dtype=x.dtype), x, np.zeros(half, dtype=x.dtype)))
    out = np.zeros(x.size, dtype=np.int64)
    for i in range(width):
        out += pad[i : i + x.size]
    return out


def _mean_over(g: F64, mask: NDArray[np.bool_], start: NDArray[np.intp], n: int) -> F64:
    """Mean of g over the seconds of `mask` in [start, start + n) (clipped), NaN if none.

    Summed in a fixed order, so the result does not depend on where the arrays begin.
    """
    k = g.shape[0]
    total = np.zeros((start.size, 3))
    count = np.zeros(start.size)
    for i in range(n):
        idx = start + i
        inside = (idx >= 0) & (idx < k)
        use = np.zeros(start.size, dtype=bool)
        use[inside] = mask[idx[inside]]
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
    all_steps = steps(main.mag_bins_g, breaks)
    gait = _gait(blocks, ok, all_steps, breaks, thresholds)
    kind = np.where(ok, np.where(gait, GAIT, STATIC), GAP).astype(np.int8)
    movement = _Bursts(main, ok & ~gait, gait, breaks, rules)
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
        up_m_s=movement.up_m_s,
        down_m_s=movement.down_m_s,
        turn_deg=movement.turn_deg,
        rise_m_s=np.where(movement.on, movement.rise_m_s, np.nan),
        fall_m_s=np.where(movement.on, movement.fall_m_s, np.nan),
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
    cand = ok & (mag_sd > thresholds.walking_mag_sd_g) & (mag_sd < 1.0) & (all_steps > 0)
    cand &= _window_sum(all_steps, CADENCE_WINDOW_S) >= thresholds.gait_min_steps
    bridged = close_gaps(cand, thresholds.gait_gap_s, breaks=breaks)
    gait: NDArray[np.bool_] = keep_runs(bridged, thresholds.gait_min_s, breaks=breaks) & ok
    return gait


class _Bursts:
    """Short bursts of movement among `candidates` and which of them may change the posture.

    A second is active by its own data: its vertical speed leaves out windows that reach into
    walking (the end of a walk is no movement of the body). A burst's speed peaks are the
    largest over its seconds and one second either side, walking included: a stand-up that
    runs into walking may end in the walk's first second, depending on the phase. The trunk
    turn compares the seconds before and after the burst (the other pieces of a cut burst
    included).
    """

    def __init__(
        self,
        main: EpochBlock,
        candidates: NDArray[np.bool_],
        gait: NDArray[np.bool_],
        breaks: NDArray[np.bool_],
        rules: TrunkRules,
    ) -> None:
        k = main.t_s.size
        h = haar(main.mag_bins_g, breaks)
        own_up, own_down = peaks(np.where(_reaching(gait), np.nan, h))
        with np.errstate(invalid="ignore"):
            moving = (main.mag_sd_g > rules.active_mag_sd_g) | (
                np.fmax(own_up, own_down) > rules.active_speed_m_s
            )
        self.rise_m_s, self.fall_m_s = peaks(h)
        up, down = (_widen(x, breaks) for x in (self.rise_m_s, self.fall_m_s))
        burst = close_gaps(candidates & moving, 1, breaks=breaks) & candidates
        # bursts that go on are cut in pieces (so that each is decided soon)
        cut = breaks | ((main.t_s % rules.event_max_s == 0) & _lasted(burst, breaks, rules))
        self.first = burst.copy()
        self.first[1:] &= ~burst[:-1] | cut[1:]
        self.on = np.zeros(k, dtype=bool)
        self.up_m_s = np.full(k, np.nan)
        self.down_m_s = np.full(k, np.nan)
        self.turn_deg = np.full(k, np.nan)
        n = int(self.first.sum())
        if not n:
            return
        ids = np.cumsum(self.first) - 1
        bid = ids[burst]
        up_b, down_b = (_max_by(bid, x[burst], n) for x in (up, down))
        starts = np.flatnonzero(self.first)
        ends = starts + np.bincount(bid, minlength=n)  # exclusive
        g = main.mean_g
        held = candidates & np.isfinite(g).all(axis=1)
        turn = angle_deg(
            _mean_over(g, held, starts - QUIET_S, QUIET_S), _mean_over(g, held, ends, QUIET_S)
        )
        with np.errstate(invalid="ignore"):
            event = (np.fmax(up_b, down_b) >= rules.event_speed_m_s) | (
                turn >= rules.event_turn_deg
            )
        self.on = burst & event[np.maximum(ids, 0)]
        who = ids[self.on]
        self.up_m_s[self.on] = up_b[who]
        self.down_m_s[self.on] = down_b[who]
        self.turn_deg[self.on] = turn[who]


def _widen(x: F64, breaks: NDArray[np.bool_]) -> F64:
    """The largest of x over each second and its neighbours (not across a break)."""
    before = np.full(x.size, np.nan)
    before[1:] = np.where(breaks[1:], np.nan, x[:-1])
    after = np.full(x.size, np.nan)
    after[:-1] = np.where(breaks[1:], np.nan, x[1:])
    out: F64 = np.fmax(np.fmax(before, x), after)
    return out


def _lasted(
    burst: NDArray[np.bool_], breaks: NDArray[np.bool_], rules: TrunkRules
) -> NDArray[np.bool_]:
    """Seconds preceded by `event_max_s // 2` burst seconds without a break."""
    out = np.zeros(burst.size, dtype=bool)
    if burst.size <= rules.event_max_s // 2:  # no second is preceded by that many
        return out
    out[1:] = burst[:-1] & ~breaks[1:]
    for i in range(2, rules.event_max_s // 2 + 1):
        out[i:] &= burst[:-i] & ~breaks[1 : burst.size - i + 1]
        out[:i] = False
    return out


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
        longest = rules.event_max_s + rules.event_max_s // 2  # a burst's longest piece
        self.lookahead = longest + QUIET_S + 5
        self.context = max(
            self.lookahead + rules.event_max_s // 2,
            thresholds.gait_gap_s + thresholds.gait_min_s + 2,
        )
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
