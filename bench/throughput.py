"""Throughput of the analytics engine: offline on a 24 h trace, and streamed in 1 s batches.

A seeded, simulated 24 h day at 50 Hz from a trunk and a thigh sensor (sensor_gateway's
simulator; the samples held as float32, as sensors deliver 16-bit values) is written to a
temporary directory. A fresh process then loads it and runs `analytics.offline.analyze` on it:
the CPU time gives samples per second, and the process's peak resident memory (the trace
itself included) is reported. Streaming feeds the first `--stream-hours` of the same day in 1 s
batches per sensor, as a gateway would, and reports the CPU time per wearer per second of data.

    python bench/throughput.py [--hours 24] [--stream-hours 2] [--repeat 3]

The last line is `RESULT offline_samples_per_s=... stream_us_per_wearer_s=...`.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from analytics.monitor import WearerMonitor
from analytics.offline import analyze, interleave
from analytics.records import Placement, Trace

RATE_HZ = 50.0
SEED = 2024


def save_day(folder: Path, hours: float) -> None:
    from sensor_gateway.simulator import simulate_day  # not in the measured process

    day = simulate_day(seed=SEED, hours=hours, rate_hz=RATE_HZ)
    for placement, trace in day.traces.items():
        np.save(folder / f"{placement.value}_t.npy", trace.t_s)
        np.save(folder / f"{placement.value}_a.npy", trace.accel_g.astype(np.float32))


def load_day(folder: Path) -> dict[Placement, Trace]:
    return {
        p: Trace(
            t_s=np.load(folder / f"{p.value}_t.npy"),
            accel_g=np.load(folder / f"{p.value}_a.npy"),
            rate_hz=RATE_HZ,
        )
        for p in (Placement.TRUNK, Placement.THIGH)
    }


def peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM; ru_maxrss would include the parent's peak
    from before exec on Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024.0
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def offline_child(folder: Path, repeat: int) -> None:
    """In a fresh process: analyse the saved day; print CPU seconds and peak memory as JSON."""
    traces = load_day(folder)
    samples = sum(len(t) for t in traces.values())
    best = float("inf")
    summary = None
    for _ in range(repeat):
        start = time.process_time()
        summary = analyze(traces).summary
        best = min(best, time.process_time() - start)
    peak_mb = peak_rss_mb()
    assert summary is not None
    print(
        json.dumps(
            {
                "samples": samples,
                "cpu_s": best,
                "peak_mb": peak_mb,
                "sitting_s": summary.sitting_s,
            }
        )
    )


def stream(folder: Path, hours: float) -> tuple[float, float]:
    """CPU seconds to stream the first `hours` in 1 s batches, and the seconds of data."""
    traces = load_day(folder)
    end = float(traces[Placement.TRUNK].t_s[0]) + hours * 3600.0
    cut = {
        p: Trace(t_s=t.t_s[t.t_s < end], accel_g=t.accel_g[t.t_s < end], rate_hz=t.rate_hz)
        for p, t in traces.items()
    }
    batches = interleave(cut, chunk_s=1.0)
    monitor = WearerMonitor("bench", placements=tuple(cut))
    start = time.process_time()
    for placement, batch in batches:
        monitor.feed(placement, batch)
    monitor.finish()
    return time.process_time() - start, hours * 3600.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=24.0)
    parser.add_argument("--stream-hours", type=float, default=2.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        offline_child(Path(args.child), args.repeat)
        return 0
    with tempfile.TemporaryDirectory(prefix="posture-bench-") as tmp:
        folder = Path(tmp)
        print(f"simulating {args.hours:g} h at {RATE_HZ:g} Hz, trunk and thigh (seed {SEED}) ...")
        save_day(folder, args.hours)
        child = subprocess.run(
            [sys.executable, __file__, "--child", str(folder), "--repeat", str(args.repeat)],
            capture_output=True,
            text=True,
            check=True,
        )
        result = json.loads(child.stdout.strip().splitlines()[-1])
        rate = result["samples"] / result["cpu_s"]
        print(
            f"offline: {result['samples']:,} samples in {result['cpu_s']:.3f} s CPU"
            f" (best of {args.repeat}) = {rate / 1e6:.2f} M samples/s;"
            f" peak memory of the process {result['peak_mb']:.0f} MB (trace included)"
        )
        cpu_s, data_s = stream(folder, args.stream_hours)
        us = cpu_s / data_s * 1e6
        print(
            f"streaming: {args.stream_hours:g} h of trunk + thigh in 1 s batches:"
            f" {cpu_s:.2f} s CPU = {us:.0f} us per wearer per second of data"
        )
    print(f"RESULT offline_samples_per_s={rate:.0f} stream_us_per_wearer_s={us:.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
