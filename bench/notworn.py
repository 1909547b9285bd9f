"""Not-worn versus lying still, on real trunk recordings (../shared/datasets/).

The not-worn examples are real: the first seconds of `casale_chest` subjects 02, 08 and 10, when
the device lay on a table (its README says so). Each is played forward and backward in turn
(no seam in the signal) for `OFF_S` seconds, in the sensor's own table orientation, and placed
at the start of a recording of the same subject and, a second time, in its middle: a sensor off
at the start of the day and taken off for a while later. The lying examples are real too: every
labelled lying stretch of `uci_hapt_waist` that is still (a person lying quietly, breathing),
played forward and backward in turn for `LYING_S` seconds, longer than the not-worn time.

    python bench/notworn.py

The last line is `RESULT not_worn_found=... lying_called_not_worn=...` (fractions of the
not-worn seconds found, and of the lying seconds called not worn).
"""

from __future__ import annotations

import sys

import numpy as np

from analytics.offline import analyze
from analytics.records import Placement, Trace
from analytics.timeline import CODE, POSTURES
from posture.testing.datasets import recordings

OFF_S = 30 * 60
LYING_S = 40 * 60
# README: the first 44, 32 and 17 s lie on a table; these are their stretches without a touch
TABLE_S = {"subject02": (0, 42), "subject08": (12, 30), "subject10": (4, 12)}
_NOT_WORN = CODE[POSTURES[4]]


def mirrored(accel: np.ndarray, n: int) -> np.ndarray:
    """`accel` played forward, backward, forward ... for `n` samples."""
    loop = np.concatenate((accel, accel[::-1]))
    return np.resize(loop, (n, 3)) if loop.shape[0] else loop


def splice(trace: Trace, pieces: list[tuple[float, np.ndarray]]) -> tuple[Trace, np.ndarray]:
    """`trace` with (at_s, samples) pieces inserted; the times of the inserted samples (mask)."""
    rate = trace.rate_hz
    parts, marks, done = [], [], 0
    for at_s, piece in pieces:
        i = round(at_s * rate)
        parts += [trace.accel_g[done:i], piece]
        marks += [np.zeros(i - done, dtype=bool), np.ones(piece.shape[0], dtype=bool)]
        done = i
    parts.append(trace.accel_g[done:])
    marks.append(np.zeros(len(trace) - done, dtype=bool))
    accel = np.concatenate(parts)
    t = np.arange(accel.shape[0]) / rate
    return Trace(t_s=t, accel_g=accel, rate_hz=rate), np.concatenate(marks)


def per_second(mask: np.ndarray, rate: float) -> np.ndarray:
    """True for seconds that are wholly inside the mask."""
    seconds = mask.size // int(rate)
    return np.asarray(mask[: seconds * int(rate)].reshape(seconds, int(rate)).all(axis=1))


def score(trace: Trace, truth: np.ndarray) -> tuple[int, int]:
    """(seconds of `truth` called not worn, seconds of `truth`)."""
    tl = analyze({Placement.TRUNK: trace}).output.timeline
    rows = tl.t_s.astype(int)
    inside = rows < truth.size
    called = np.zeros(truth.size, dtype=bool)
    called[rows[inside]] = tl.posture[inside] == _NOT_WORN
    return int((called & truth).sum()), int(truth.sum())


def main() -> int:
    found, off = 0, 0
    print(f"{'recording':<14}{'table s':>8}{'found at start':>16}{'found in middle':>17}")
    for rec in recordings("casale_chest"):
        if rec.name not in TABLE_S:
            continue
        rate = rec.trace.rate_hz
        lo, hi = TABLE_S[rec.name]
        table = rec.trace.accel_g[int(lo * rate) : int(hi * rate)]
        piece = mirrored(table, int(OFF_S * rate))
        cells = []
        for at_s in (0.0, float(len(rec.trace)) / rate / 2):
            trace, mask = splice(rec.trace, [(at_s, piece)])
            hit, total = score(trace, per_second(mask, rate))
            found, off = found + hit, off + total
            cells.append(hit / total)
        print(f"{rec.name:<14}{hi - lo:>8}{cells[0]:>16.3f}{cells[1]:>17.3f}")
    called, lying = 0, 0
    for rec in recordings("uci_hapt_waist"):
        rate = rec.trace.rate_hz
        lab = rec.truth
        idx = np.flatnonzero(lab == "lying")
        for run in np.split(idx, np.flatnonzero(np.diff(idx) != 1) + 1):
            if run.size < 20:
                continue
            a = rec.trace.accel_g[int((run[0] + 2) * rate) : int((run[-1] - 1) * rate)]
            trace = Trace(
                t_s=np.arange(int(LYING_S * rate)) / rate,
                accel_g=mirrored(a, int(LYING_S * rate)),
                rate_hz=rate,
            )
            hit, total = score(trace, np.ones(LYING_S, dtype=bool))
            called, lying = called + hit, lying + total
    print(f"not worn found: {found}/{off} s = {found / off:.3f}")
    print(f"lying still (HAPT, {lying // LYING_S} stretches) called not worn: {called}/{lying} s")
    print(f"RESULT not_worn_found={found / off:.3f} lying_called_not_worn={called / lying:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
