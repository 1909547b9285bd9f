"""Decides the posture of every second from its piece, holding seconds until they are decided.

With a thigh sensor, the thigh decides: sitting when its axis is more than `thigh_sitting_deg`
from upright (an axis: a sensor put on upside down reads the same), lying when the trunk is also
more than `lying_deg` from upright. A thigh sensor whose gravity jumps across a gap in the data
may have been put back differently: its reference goes stale until the next walk or a clear
posture change resolves it (`_watch_thigh`). With a trunk sensor alone, the pieces are decoded
with the model of analytics/hmm.py; a movement into or out of lying changes the posture where
the trunk's tilt crosses `lying_deg`.

A declared mount (analytics/params.py `Mounting`) is a reference trusted from the first second.

Seconds are held until nothing later can change their posture: while no trusted upright
reference is known (cold start, or after the sensor was off or put back, until it is resolved)
and until the pieces are settled, but at most `hold_s` (`cold_hold_s` without a trusted
reference). Every decision is taken at a checkpoint defined by the data (a piece begins, a
reference is updated, a deadline passes, a manual calibration ends), never when a batch happened
to end, so the result does not depend on chunking. A second's trunk angles use the reference in
force when it is decided: seconds held before the first reference get the first one learned.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from .arrays import angle_deg, running_sum, unit
from .desk import DeskTrack
from .hmm import STAND, WALKING, Movement, decode, emission, settled
from .orientation import Calibration, ManualCalibration, UprightReference
from .params import AnalyticsParams
from .records import Placement, Posture
from .segments import EVENT, GAIT, GAP, STATIC, Segmented
from .thigh import thigh_postures
from .timeline import CODE

F64 = NDArray[np.float64]
UNDECIDED = np.int8(-1)
STATE_CODE = (CODE[Posture.STANDING], CODE[Posture.SITTING], CODE[Posture.LYING])
_UNKNOWN, _WALKING = CODE[Posture.UNKNOWN], CODE[Posture.WALKING]
_SITTING, _STANDING = CODE[Posture.SITTING], CODE[Posture.STANDING]
_LYING = CODE[Posture.LYING]
_UPRIGHT = (_STANDING, _WALKING)
CAL_SKIP_S = 3  # a walk's first seconds (getting going) do not teach the upright ...
CAL_MIN_S = 8  # ... and only walks at least this long do
CLEAR_DIRECTION = 0.4  # |log(peak up / peak down speed)| of a movement whose direction is clear
REST_S = 10  # a trunk leaning back is resting against a backrest when at least ...
REST_FRACTION = 0.8  # ... this share of the last REST_S seconds was still


@dataclass(frozen=True, slots=True, eq=False)
class Decided:
    """Seconds whose posture is final, with the trunk angles at each (NaN when unknown)."""

    seg: Segmented
    posture: NDArray[np.int8]
    inclination_deg: F64
    flexion_deg: F64
    lateral_deg: F64
    slouch_deg: F64


@dataclass(slots=True)
class _Piece:
    kind: int
    start: int  # absolute second index
    end: int  # exclusive; grows while the piece is open
    move: Movement = field(
        default_factory=Movement
    )  # between it and the state-bearing piece before
    g_sum: F64 = field(default_factory=lambda: np.zeros(3))  # sum of unit trunk gravity
    n: int = 0
    fixed: int | None = None  # state decided while still open
    off: bool = False  # the sensors were found off during it
    early: dict[Placement, F64] = field(default_factory=dict)  # gravity of its first seconds
    lean: F64 | None = None  # a movement's trunk gravity, second by second


class PostureDecider:
    """Holds segmented seconds and releases them with their posture (see the module docstring)."""

    def __init__(
        self,
        placements: tuple[Placement, ...],
        params: AnalyticsParams,
        *,
        calibrations: Mapping[Placement, Calibration] | None = None,
    ) -> None:
        self.params = params
        given = calibrations or {}
        self.references = {
            p: UprightReference(
                p,
                params.calibration,
                initial=given.get(p),
                declared=params.mounting.axes(p),
            )
            for p in placements
        }
        self.thigh_mode = Placement.THIGH in placements
        self._decider = self.references[Placement.THIGH if self.thigh_mode else Placement.TRUNK]
        self._trunk = self.references.get(Placement.TRUNK)
        self._held: Segmented | None = None
        self._base = 0  # absolute index of the first held second
        self._posture = np.zeros(0, dtype=np.int8)
        self._angles = np.zeros((0, 4))
        self._still_tail = np.zeros(0, dtype=np.int64)  # the last seconds' stillness (slouch)
        self._thigh_g: F64 | None = None  # the thigh's gravity in the last second with data
        self._gap_before = False  # the open piece follows a gap in the data
        self._still_g: F64 | None = None  # thigh gravity of the last still piece (re-seat)
        self._decided = 0  # held seconds decided (always a prefix)
        self._pieces: list[_Piece] = []  # complete state-bearing pieces not yet decided
        self._open: _Piece | None = None
        self._anchor: int | None = None  # state of the last decided piece (None: fresh start)
        self._move = Movement()  # what happened since the last state-bearing piece
        self._still_run = 0
        self._last: np.int8 | None = None  # posture of the last decided second, if known
        self._manual: ManualCalibration | None = None
        self._calibrations: list[Calibration] = []
        self.desk: DeskTrack | None = None  # a sit-stand desk's heights, if known

    def calibrate(self, start_s: float) -> None:
        """Take the mean gravity over the `manual_s` seconds from `start_s` as upright."""
        self._manual = ManualCalibration(start_s, self.params.calibration.manual_s)

    def push(
        self, seg: Segmented | None, *, final: bool = False
    ) -> tuple[Decided | None, list[Calibration]]:
        """Add final segmented seconds; return the seconds now decided, and new calibrations."""
        if seg is not None and len(seg):
            first = self._base + len(self._posture)
            self._held = seg if self._held is None else Segmented.concat([self._held, seg])
            self._posture = np.concatenate((self._posture, np.full(len(seg), UNDECIDED)))
            self._angles = np.concatenate((self._angles, np.full((len(seg), 4), np.nan)))
            self._process(first, first + len(seg))
        if final:
            self._end_piece()
            self._force()
        calibrations, self._calibrations = self._calibrations, []
        return self._release(), calibrations

    # -- walking through the data --------------------------------------------------------

    def _row(self, i: int) -> int:
        return i - self._base

    def _process(self, lo: int, hi: int) -> None:
        """Take held seconds [lo, hi) in time order, with a checkpoint wherever one is due."""
        seg = self._held
        assert seg is not None
        i = lo
        while i < hi:
            r = self._row(i)
            if seg.start[r]:
                self._end_piece()
                self._open = _Piece(kind=int(seg.kind[r]), start=i, end=i)
                if seg.kind[r] == EVENT:
                    self._open.move = Movement(
                        up_m_s=float(seg.up_m_s[r]),
                        down_m_s=float(seg.down_m_s[r]),
                        turn_deg=float(seg.turn_deg[r]),
                        seen=True,
                    )
                self._checkpoint(i)
            stop, natural = self._next_stop(i, hi)
            self._extend(i, stop)
            i = stop
            if natural:
                self._checkpoint(i)

    def _next_stop(self, i: int, hi: int) -> tuple[int, bool]:
        """Where the step from second `i` ends, and whether that end is a checkpoint."""
        seg, piece = self._held, self._open
        assert seg is not None
        assert piece is not None
        nxt = np.flatnonzero(seg.start[self._row(i) + 1 : self._row(hi)])
        stop = i + 1 + int(nxt[0]) if nxt.size else hi
        limits = []
        deadline = self._deadline()
        if deadline is not None:
            limits.append(self._index_of(deadline) + 1)
        if self._manual is not None:
            limits.append(self._index_of(self._manual.end_s - 1.0) + 1)
        if piece.kind == GAIT:
            if i - piece.start < CAL_MIN_S:
                limits.append(piece.start + CAL_MIN_S)
            else:
                limits.append(i + min(r.due() for r in self.references.values()))
        elif piece.kind == STATIC:
            limits.append(i + int(self.params.thresholds.not_worn_min_s) - self._still_run)
        elif piece.kind == GAP:
            limits.append(piece.start + int(self.params.calibration.stale_gap_s))
        limits = [x for x in limits if i < x <= stop]
        return (min(limits), True) if limits else (stop, False)

    def _index_of(self, t_s: float) -> int:
        """Absolute index of the first held second at or after `t_s`."""
        assert self._held is not None
        return self._base + int(np.searchsorted(self._held.t_s, t_s - 1e-6, side="left"))

    def _deadline(self) -> float | None:
        """The data time at which the oldest undecided second must be decided."""
        if self._held is None or self._decided >= len(self._posture):
            return None
        rules = self.params.trunk
        wait = rules.hold_s if self._decider.trusted else rules.cold_hold_s
        return float(self._held.t_s[self._decided]) + wait

    def _extend(self, lo: int, hi: int) -> None:
        """Add held seconds [lo, hi) to the open piece: decide what can be, then learn."""
        seg, piece = self._held, self._open
        assert seg is not None
        assert piece is not None
        rows = slice(self._row(lo), self._row(hi))
        if self.thigh_mode:
            self._watch_thigh(seg, rows, piece)
        piece.end = hi
        if self._base + self._decided == lo:  # everything before is decided
            if self.thigh_mode and (self._decider.trusted or piece.fixed is not None):
                self._decide_thigh(lo, hi)
            elif not self.thigh_mode and (piece.fixed is not None or piece.kind == GAP):
                self._set(lo, hi, self._open_code())
        g = seg.blocks[Placement.TRUNK if self._trunk else Placement.THIGH].mean_g[rows]
        if piece.kind == EVENT:
            piece.lean = g if piece.lean is None else np.concatenate((piece.lean, g))
        good = np.isfinite(g).all(axis=1)
        piece.g_sum = running_sum(piece.g_sum, unit(g[good]))
        piece.n += int(good.sum())
        self._learn(seg, rows, piece)

    def _watch_thigh(self, seg: Segmented, rows: slice, piece: _Piece) -> None:
        """Thigh mode: notice a sensor put back differently, and resolve its new reference.

        The thigh's gravity jumping across a gap in the data by `rewear_deg` or more may be a
        posture change or the sensor taken out and put back (a phone in a pocket): the reference
        goes stale. Walking resolves it (analytics/orientation.py), and so does a posture change:
        a movement that turns the thigh by `thigh_sitting_deg` or more and goes up (down) ends
        (starts) standing, so the thigh's gravity after (before) it is the new upright.
        """
        if piece.kind == GAP:  # a movement across a gap tells nothing
            self._gap_before, self._still_g = True, None
            return
        g = seg.blocks[Placement.THIGH].mean_g[rows]
        if not (np.isfinite(g[0]).all() and np.isfinite(g[-1]).all()):
            return  # (a piece that is not a gap has data in every second)
        ref = self._decider
        if self._gap_before and ref.up is not None and self._thigh_g is not None:
            jump = float(angle_deg(g[0], self._thigh_g))
            if jump >= self.params.calibration.rewear_deg:
                if self._base + self._decided < piece.end:  # what came before: old reference
                    self._decide_thigh(self._base + self._decided, piece.end)
                ref.go_stale()
        self._gap_before = False
        self._thigh_g = g[-1]
        if piece.kind != STATIC:
            return
        before = self._still_g
        if piece.n == 0 and ref.stale and before is not None and self._move.seen:
            self._resolve_by_transition(float(seg.t_s[rows][0]), unit(before), unit(g[0]))
        self._still_g = g[-1]

    def _resolve_by_transition(self, t_s: float, before: F64, after: F64) -> None:
        """A stale thigh reference and a movement between two still pieces: resolve if clear."""
        move, rules = self._move, self.params.trunk
        turn = float(angle_deg(after, before))
        if (
            turn < self.params.thresholds.thigh_sitting_deg
            or move.speed_m_s < rules.change_speed_m_s
        ):
            return
        if abs(move.up_ratio) < CLEAR_DIRECTION:
            return
        self._calibrations.append(
            self._decider.resolve(t_s, after if move.up_ratio > 0 else before)
        )

    def _learn(self, seg: Segmented, rows: slice, piece: _Piece) -> None:
        if self._manual is not None:
            self._manual_step(seg, rows)
        if piece.kind == GAIT:
            self._learn_walking(seg, rows, piece)
        if piece.kind == STATIC:
            still = seg.still[rows]
            moved = np.flatnonzero(~still)
            if moved.size:
                self._still_run = still.size - 1 - int(moved[-1])
            else:
                self._still_run += still.size
            if self._still_run >= self.params.thresholds.not_worn_min_s and not piece.off:
                piece.off = True
                self._off()
        else:
            self._still_run = 0
        long_gap = piece.end - piece.start >= self.params.calibration.stale_gap_s
        if piece.kind == GAP and long_gap and not piece.off:
            piece.off = True
            self._off()

    def _learn_walking(self, seg: Segmented, rows: slice, piece: _Piece) -> None:
        """Teach the references from the walk's seconds [rows] (sustained walks only)."""
        t = seg.t_s[rows]
        offset = rows.start - self._row(piece.start)  # of the first of these seconds in the walk
        for p, ref in self.references.items():
            g = seg.blocks[p].mean_g[rows]
            if offset < CAL_MIN_S:  # keep the walk's first seconds until it lasts long enough
                piece.early[p] = np.concatenate((piece.early.get(p, np.zeros((0, 3))), g))
                if offset + len(t) < CAL_MIN_S:
                    continue
                first = float(t[0]) - offset
                g = piece.early.pop(p)[CAL_SKIP_S:]
                times = first + np.arange(CAL_SKIP_S, CAL_SKIP_S + len(g), dtype=np.float64)
            else:
                times = t
            self._calibrations.extend(ref.walking(times, g))

    def _checkpoint(self, i: int) -> None:
        """Decisions due once every second before `i` has been taken."""
        assert self._held is not None
        if self._row(i) == 0:
            return
        deadline = self._deadline()
        if deadline is not None and float(self._held.t_s[self._row(i) - 1]) >= deadline:
            self._force()
        elif self._decider.trusted:
            self._settle()

    # -- pieces --------------------------------------------------------------------------

    def _end_piece(self) -> None:
        piece, self._open = self._open, None
        if piece is None or piece.kind == GAP:
            return
        if piece.kind == EVENT:  # bursts in a row (a long one is cut in pieces) are one
            self._move = self._move.then(piece.move)
            if self._trunk is not None and not self.thigh_mode and piece.lean is not None:
                self._trunk.learn_forward(piece.lean)
            return
        if piece.fixed is not None:
            self._anchor = None if piece.off else piece.fixed
            self._move = Movement()
            return
        piece.move = self._movement_before(piece)
        self._move = Movement()
        self._pieces.append(piece)

    def _movement_before(self, piece: _Piece) -> Movement:
        if self._move.seen:
            return self._move
        before = self._pieces[-1].kind if self._pieces else None
        return Movement(near_walking=GAIT in (piece.kind, before))

    def _off(self) -> None:
        """The sensors were off or silent: decide what came before and distrust the references."""
        self._force()
        for ref in self.references.values():
            ref.go_stale()
        self._anchor = None
        self._last = None
        self._move = Movement()

    def _manual_step(self, seg: Segmented, rows: slice) -> None:
        manual = self._manual
        assert manual is not None
        gravity = {p: seg.blocks[p].mean_g[rows] for p in self.references}
        if manual.add(seg.t_s[rows], gravity):
            self._manual = None
            for p, ref in self.references.items():
                mean = manual.mean(p)
                if mean is not None:
                    self._calibrations.append(ref.set_manual(manual.start_s, mean))

    # -- decisions -----------------------------------------------------------------------

    def _chain(self) -> list[_Piece]:
        """The undecided state-bearing pieces, the open one included (its move filled in)."""
        chain = list(self._pieces)
        piece = self._open
        if piece is not None and piece.kind in (GAIT, STATIC) and piece.fixed is None:
            piece.move = self._movement_before(piece)
            chain.append(piece)
        return chain

    def _decode(self, chain: list[_Piece]) -> tuple[NDArray[np.intp], F64]:
        ref = self._trunk
        emissions = []
        for piece in chain:
            if piece.kind == GAIT:
                emissions.append(WALKING)
                continue
            tilt = np.nan
            if ref is not None and ref.up is not None and piece.n:
                tilt = float(angle_deg(piece.g_sum, ref.up))
            lying = self.params.thresholds.lying_deg
            e = emission(
                tilt, self.params.trunk, lying_deg=lying, duration_s=piece.end - piece.start
            )
            if self.desk is not None and self.desk.known:
                assert self._held is not None
                rows = slice(max(self._row(piece.start), 0), max(self._row(piece.end), 0))
                standing = self.desk.evidence(self._held.t_s[rows])
                e = e + np.array([standing / 2.0, -standing / 2.0, 0.0])
            emissions.append(e)
        return decode(self._anchor, [p.move for p in chain], emissions, self.params.trunk)

    def _settle(self) -> None:
        """Decide the pieces on which every path still possible agrees."""
        if self.thigh_mode:  # each second on its own: everything taken so far
            end = self._open.end if self._open is not None else self._base + len(self._posture)
            self._decide_thigh(self._base + self._decided, end)
            return
        chain = self._chain()
        if chain:
            paths, score = self._decode(chain)
            count = settled(paths, score)
            self._commit(chain[:count], paths[0, :count].tolist())

    def _force(self) -> None:
        """Decide everything taken so far, with the best path."""
        open_piece = self._open
        end = open_piece.end if open_piece is not None else self._base + len(self._posture)
        if self.thigh_mode:
            self._decide_thigh(self._base + self._decided, end)
            if open_piece is not None:
                open_piece.fixed = STAND  # only marks it decided: the posture is per second
            return
        chain = self._chain()
        if chain:
            paths, score = self._decode(chain)
            self._commit(chain, paths[int(np.argmax(score))].tolist())
        if open_piece is not None and open_piece.kind in (EVENT, GAP):
            self._fill(end)

    def _commit(self, pieces: list[_Piece], states: list[int]) -> None:
        for piece, state in zip(pieces, states, strict=True):
            code = _WALKING if piece.kind == GAIT else STATE_CODE[state]
            self._fill(piece.start, after=code)
            self._set(self._base + self._decided, piece.end, code)
            if piece is self._open:
                piece.fixed = state
            else:
                self._pieces.remove(piece)
            self._anchor = state

    def _open_code(self) -> np.int8:
        piece = self._open
        assert piece is not None
        if piece.kind == GAP:
            return _UNKNOWN
        if piece.kind == GAIT:
            return _WALKING
        return STATE_CODE[piece.fixed] if piece.fixed is not None else _UNKNOWN

    def _fill(self, upto: int, *, after: np.int8 = _UNKNOWN) -> None:
        """Decide the movement and gap seconds from the first undecided one up to `upto`.

        Gaps are unknown; a movement keeps the posture before it, or at a fresh start takes
        `after`, the posture after it. A sit-to-stand (stand-to-sit) whose fastest rise (fall)
        reaches `active_speed_m_s` changes the posture in the second after that peak, the
        middle of the movement, not at the end of the burst, which often holds fidgeting
        before and after the movement itself (standing up into a walk: standing until the
        walk begins). A slower burst tells nothing of where in it the change happened.
        """
        lo = self._base + self._decided
        if upto <= lo:
            return
        seg = self._held
        assert seg is not None
        rows = slice(self._row(lo), self._row(upto))
        before = self._last if self._last is not None else after
        code = np.full(rows.stop - rows.start, before, dtype=np.int8)
        fast = self.params.trunk.active_speed_m_s
        if before == _SITTING and after in _UPRIGHT:
            code[_after_peak(seg.rise_m_s[rows], fast) :] = _STANDING
        elif before in _UPRIGHT and after == _SITTING:
            code[_after_peak(seg.fall_m_s[rows], fast) :] = after
        elif (before == _LYING) != (after == _LYING) and self._trunk is not None:
            code[self._lying_from(seg.blocks[Placement.TRUNK].mean_g[rows], after) :] = after
        code[seg.kind[rows] == GAP] = _UNKNOWN
        self._set(lo, upto, code)

    def _lying_from(self, gravity: F64, after: np.int8) -> int:
        """Where a movement into (out of) lying changes the posture: at its first second with
        the trunk beyond (within) `lying_deg` of upright; its end if none is, or no reference."""
        ref = self._trunk
        if ref is None or ref.up is None:
            return int(gravity.shape[0])
        with np.errstate(invalid="ignore"):
            lying = angle_deg(gravity, ref.up) >= self.params.thresholds.lying_deg
        there = lying if after == _LYING else ~lying & np.isfinite(gravity).all(axis=1)
        return int(np.argmax(there)) if there.any() else int(gravity.shape[0])

    def _decide_thigh(self, lo: int, hi: int) -> None:
        """Thigh mode: decide seconds [lo, hi) from the thigh (and trunk) angles."""
        if hi <= lo:
            return
        seg = self._held
        assert seg is not None
        rows = slice(self._row(lo), self._row(hi))
        trunk = self._trunk
        code = thigh_postures(
            seg.blocks[Placement.THIGH].mean_g[rows],
            self._decider.up,
            trunk=None if trunk is None else (seg.blocks[Placement.TRUNK].mean_g[rows], trunk.up),
            thresholds=self.params.thresholds,
            normal=self._decider.normal() if self._decider.stale else None,
        )
        kind = seg.kind[rows]
        code[kind == GAIT] = _WALKING
        code[kind == GAP] = _UNKNOWN
        self._set(lo, hi, code)

    def _set(self, lo: int, hi: int, code: np.int8 | NDArray[np.int8]) -> None:
        """Decide held seconds [lo, hi), which must begin at the first undecided one."""
        if hi <= lo:
            return
        assert lo == self._base + self._decided, (lo, self._base, self._decided)
        rows = slice(self._row(lo), self._row(hi))
        self._posture[rows] = code
        self._angles[rows] = self._trunk_angles(rows)
        self._decided = self._row(hi)
        last = self._posture[self._decided - 1]
        self._last = None if last == _UNKNOWN else last

    def _trunk_angles(self, rows: slice) -> F64:
        """(k, 4) inclination, flexion, lateral bend and slouch of held seconds (today's reference).

        The slouch deviation is the trunk's angle from upright in any direction, except that
        leaning back counts only while the trunk is not resting (against a backrest): at least
        `REST_FRACTION` of the last `REST_S` seconds still.
        """
        seg, ref = self._held, self._trunk
        assert seg is not None
        k = rows.stop - rows.start
        still = np.concatenate((self._still_tail, seg.still[rows].astype(np.int64)))
        self._still_tail = still[-(REST_S - 1) :]
        padded = np.concatenate((np.zeros(REST_S, dtype=np.int64), np.cumsum(still)))
        resting = (padded[REST_S:] - padded[:-REST_S])[-k:] >= REST_FRACTION * REST_S
        if ref is None:
            return np.full((k, 4), np.nan)
        incl, flex, lateral = ref.angles(seg.blocks[Placement.TRUNK].mean_g[rows])
        if ref.forward is None:
            return np.stack((incl, flex, lateral, incl), axis=1)
        if not ref.manual:
            flex = flex + self.params.thresholds.calibration_offset_deg
        sagittal = np.where(resting, np.maximum(flex, 0.0), np.abs(flex))
        return np.stack((incl, flex, lateral, np.hypot(sagittal, lateral)), axis=1)

    def _release(self) -> Decided | None:
        if self._held is None or self._decided == 0:
            return None
        n = self._decided
        out = Decided(
            seg=self._held.take(slice(0, n)),
            posture=self._posture[:n],
            inclination_deg=self._angles[:n, 0],
            flexion_deg=self._angles[:n, 1],
            lateral_deg=self._angles[:n, 2],
            slouch_deg=self._angles[:n, 3],
        )
        self._held = self._held.take(slice(n, None))
        self._posture, self._angles = self._posture[n:], self._angles[n:]
        self._base += n
        self._decided = 0
        return out


def _after_peak(speed: F64, fast: float) -> int:
    """Index of the second after the fastest one; len(speed) if none reaches `fast`."""
    known = np.where(np.isfinite(speed), speed, -np.inf)
    peak = int(np.argmax(known)) if known.size else 0
    return peak + 1 if known.size and known[peak] >= fast else int(speed.size)
