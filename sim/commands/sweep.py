"""Run every point of a sweep file (axes over scenario keys x seeds), in parallel, resumably.

Each point's run directory goes under DIR/sweep=<name>/<key>=<value>/.../seed=<seed>/ and DIR/points.parquet
gets one row per point (axis values, seed, status, error, summary metrics). Running the same command again
skips the points already done. Points run on all local cores by default, or on Dask (--scheduler, --dask-local).
"""

from __future__ import annotations

import argparse
import signal
import sys
from contextlib import contextmanager
from pathlib import Path

EXAMPLE = "python -m sim sweep scenarios/sweeps/gpu_type_count.toml --workers 2"


def add_executor_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--workers", type=int, default=None, metavar="N",
                        help="local worker processes (default: one per core; 1 runs in this process)")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--scheduler", default=None, metavar="tcp://HOST:PORT",
                       help="run the points on an existing Dask distributed scheduler (needs sim[sweep])")
    where.add_argument("--dask-local", type=int, default=None, metavar="N",
                       help="start a local Dask cluster of N single-threaded worker processes (needs sim[sweep])")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("sweep", type=Path, help="sweep TOML file")
    parser.add_argument("--out", type=Path, default=None, help="results directory (default: outputs/sweeps/<sweep name>/)")
    add_executor_arguments(parser)
    parser.add_argument("--force", action="store_true", help="run every point again, replacing finished ones")
    parser.add_argument("--list", action="store_true", help="validate every point, list them and stop")


@contextmanager
def sigterm_as_interrupt():
    """SIGTERM stops a sweep the way Ctrl-C does: workers stopped, finished points kept, table rebuilt."""
    def handler(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def run(args: argparse.Namespace) -> int:
    from sim.experiments.executors import make_executor
    from sim.experiments.runner import DEFAULT_SWEEP_ROOT, run_sweep
    from sim.experiments.spec import load_sweep, resolve_points

    spec = load_sweep(args.sweep)
    out_dir = args.out if args.out is not None else DEFAULT_SWEEP_ROOT / spec.name
    if args.list:
        points = spec.points()
        resolve_points(spec, points)
        for point in points:
            print(point.path)
        print(f"{len(points)} points, all valid", file=sys.stderr)
        return 0
    with sigterm_as_interrupt(), make_executor(args.workers, args.scheduler, args.dask_local) as executor:
        report = run_sweep(spec, out_dir, executor, force=args.force)
    lines = [
        f"sweep {spec.name}: {report.points} points ({report.ran} ran, {report.skipped} already done, "
        f"{report.failed} failed) in {report.wall_s:.1f} s on {report.executor}",
        f"  results   {out_dir}/points.parquet; run directories under {out_dir}/sweep={spec.name}/",
    ]
    if report.failed:
        import pyarrow.parquet as pq

        table = pq.read_table(report.table, columns=["point", "status", "error"]).to_pylist()
        failed = [row for row in table if row["status"] == "failed"]
        for row in failed[:5]:
            lines.append(f"  failed    {row['point']}: {row['error']}")
        if len(failed) > 5:
            lines.append(f"  failed    ... and {len(failed) - 5} more (see points.parquet)")
    if spec.pareto is not None:
        from sim.experiments.pareto import pareto_from_points

        p = spec.pareto
        front, written = pareto_from_points(report.table, p.x, p.y, p.x_goal, p.y_goal)
        lines.append(f"  pareto    {len(front)} configurations on the front of {p.x_goal} {p.x}, {p.y_goal} {p.y}: "
                     + ", ".join(path.name for path in written))
    print("\n".join(lines))
    return 1 if report.failed else 0
