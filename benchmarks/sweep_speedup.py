"""Wall time of one sweep of 16 points run in one process, and on a pool of 2 worker processes.

Each point simulates a year of a small training cluster with a 10-minute output interval (52,560 rows of
timeseries.parquet, about 0.9 s of CPU), so that the work of a point, not process start-up (importing
the simulator once in the pool's fork server, about 0.3-1 s), dominates. Both runs write the
full sweep (run directories and points.parquet) into fresh directories; the pool's time includes
starting its processes. The two points tables must be identical (but for each run's own wall time).

    python benchmarks/sweep_speedup.py [--workers 2] [--repeats 1] [--interval 10min]

Target on a 2-core machine: parallel at least 1.7x faster than one process.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

import pandas as pd

from sim.experiments.executors import ProcessExecutor, SerialExecutor
from sim.experiments.runner import run_sweep
from sim.experiments.spec import load_sweep

BASE = """
[scenario]
name = "bench"
start = 2023-01-01T00:00:00Z
duration = "365d"

[cluster]
node = "dgx-h100"
nodes = 4

[grid]
carbon_intensity_g_per_kwh = 385

[[jobs]]
name = "long"
gpus = 32
parameters = 7.0e9
tokens = 1.0e13      # longer than a year on 32 GPUs: the run lasts the whole year
batch_tokens = 4.0e6
mfu = 0.4

[output]
interval = "{interval}"
"""

SWEEP = """
base = "base.toml"

[sweep]
name = "speedup"

[axes]
"facility.pue" = [1.1, 1.2, 1.4, 1.6]
"grid.carbon_intensity_g_per_kwh" = [20, 100, 385, 700]
"""


def timed_sweep(spec, out: Path, executor) -> tuple[float, float]:
    """(wall time of the whole sweep, CPU time of its points summed as each worker measured it)."""
    started = time.perf_counter()
    with executor:
        report = run_sweep(spec, out, executor, progress=False)
    elapsed = time.perf_counter() - started
    assert report.ran == spec.size and report.failed == 0, report
    cpu_s = sum(json.loads(p.read_text())["cpu_s"] for p in out.rglob("point.json"))
    return elapsed, cpu_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--interval", default="10min", help="output interval of each point (heavier when shorter)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="sweep-bench-") as folder:
        folder = Path(folder)
        (folder / "base.toml").write_text(BASE.replace("{interval}", args.interval))
        (folder / "sweep.toml").write_text(SWEEP)
        spec = load_sweep(folder / "sweep.toml")
        serial, parallel, serial_cpu, parallel_cpu = [], [], [], []
        load_before = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
        for repeat in range(args.repeats):  # interleaved, so both see the same machine noise
            wall, cpu = timed_sweep(spec, folder / f"serial-{repeat}", SerialExecutor())
            serial.append(wall)
            serial_cpu.append(cpu)
            wall, cpu = timed_sweep(spec, folder / f"pool-{repeat}", ProcessExecutor(args.workers))
            parallel.append(wall)
            parallel_cpu.append(cpu)
        a = pd.read_parquet(folder / "serial-0" / "points.parquet").drop(columns="wall_s")
        b = pd.read_parquet(folder / "pool-0" / "points.parquet").drop(columns="wall_s")
        pd.testing.assert_frame_equal(a, b)
        rows = int(a["intervals"].iloc[0])
    one, pool = statistics.median(serial), statistics.median(parallel)
    ratio = one / pool
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    cpu_one, cpu_pool = statistics.median(serial_cpu), statistics.median(parallel_cpu)
    print(f"{spec.size} points, {rows:,} output rows each; {os.cpu_count()} cores; "
          f"1-min load average {load_before:.2f} before, {load:.2f} after (other processes compete when > 0)")
    print(f"one process         {one:8.2f} s wall  ({cpu_one / spec.size:.2f} s CPU per point)")
    print(f"{args.workers} worker processes  {pool:8.2f} s wall  ({cpu_pool / spec.size:.2f} s CPU per point; "
          "pool start-up included in the wall time)")
    print(f"speed-up {ratio:.2f}x (target >= 1.7x on 2 cores); identical points tables: yes")
    # Cores the points actually got: point CPU / wall. One process can get at most 1, the pool at most
    # `workers`; less means other processes (or, with Linux autogroup, other sessions) held the cores.
    print(f"cores held: one process {cpu_one / one:.2f} of 1, pool {cpu_pool / pool:.2f} of {args.workers}")
    print(json.dumps({"points": spec.size, "rows_per_point": rows, "serial_s": serial, "parallel_s": parallel,
                      "serial_point_cpu_s": serial_cpu, "parallel_point_cpu_s": parallel_cpu,
                      "workers": args.workers, "ratio": ratio, "load_average_1min": [load_before, load]}))


if __name__ == "__main__":
    main()
