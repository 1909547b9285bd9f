"""Reading traces: `posture analyze` end to end on a 24 h trunk + thigh recording, CSV and Parquet.

A seeded, simulated 24 h day at 50 Hz from a trunk and a thigh sensor (sensor_gateway's
simulator) is written as CSV (`t_s,ax,ay,az`, as `posture record` writes it: about 140 MB per
sensor) and as Parquet to a temporary directory. Then `posture analyze TRUNK --thigh THIGH` runs
as a user runs it, in a fresh process each time, parsing included; the best wall time of
`--repeat` runs is reported, and the largest peak resident memory of any run (the process's own
high-water mark, from wait4). The machine is shared: the load average is printed beside the times.

    python bench/io.py [--hours 24] [--repeat 3]

The last line is `RESULT csv_24h_analyze_s=... parquet_24h_analyze_s=... peak_mb=...`.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RATE_HZ = 50.0
SEED = 2024


def save_day(folder: Path, hours: float) -> None:
    from sensor_gateway.simulator import simulate_day
    from sensor_gateway.traces import write_trace

    day = simulate_day(seed=SEED, hours=hours, rate_hz=RATE_HZ)
    for placement, trace in day.traces.items():
        for suffix in (".csv", ".parquet"):
            write_trace(folder / f"{placement.value}{suffix}", trace)


def analyze(trunk: Path, thigh: Path) -> tuple[float, float]:
    """Wall seconds and peak resident MB of one `posture analyze` process."""
    command = [sys.executable, "-m", "posture.cli", "analyze", str(trunk), "--thigh", str(thigh)]
    start = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _pid, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    assert child.stderr is not None
    errors = child.stderr.read().decode()
    child.stderr.close()
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise SystemExit(f"posture analyze failed ({child.returncode}): {errors.strip()}")
    return wall, usage.ru_maxrss / 1024.0  # kB on Linux


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=24.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--write", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.write:
        save_day(Path(args.write), args.hours)
        return 0
    results: dict[str, float] = {}
    peak_mb = 0.0
    with tempfile.TemporaryDirectory(prefix="posture-bench-io-") as tmp:
        folder = Path(tmp)
        print(f"simulating {args.hours:g} h at {RATE_HZ:g} Hz, trunk and thigh (seed {SEED}) ...")
        # in a process of its own: a child forked from a parent holding the day would count the
        # parent's memory in its peak (Linux's ru_maxrss includes what it had before exec)
        subprocess.run(
            [sys.executable, __file__, "--write", tmp, "--hours", str(args.hours)], check=True
        )
        for suffix in (".csv", ".parquet"):
            trunk, thigh = folder / f"trunk{suffix}", folder / f"thigh{suffix}"
            size_mb = (trunk.stat().st_size + thigh.stat().st_size) / 1e6
            runs = [analyze(trunk, thigh) for _ in range(args.repeat)]
            best = min(wall for wall, _ in runs)
            peak_mb = max(peak_mb, *(mb for _, mb in runs))
            results[suffix] = best
            walls = ", ".join(f"{wall:.2f}" for wall, _ in runs)
            print(
                f"{suffix[1:]:>7}: {size_mb:,.0f} MB of files; posture analyze {walls} s"
                f" (best {best:.2f} s); peak {max(mb for _, mb in runs):.0f} MB;"
                f" load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
            )
    print(
        f"RESULT csv_24h_analyze_s={results['.csv']:.2f}"
        f" parquet_24h_analyze_s={results['.parquet']:.2f} peak_mb={peak_mb:.0f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
