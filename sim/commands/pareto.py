"""Write the Pareto front of two objectives over a sweep's points.parquet: a table (Parquet, CSV) and a plot.

Each objective is a column of points.parquet (a summary metric), minimised by default. Configurations are
averaged over their seeds; failed points are left out.
"""

from __future__ import annotations

import argparse
from pathlib import Path

EXAMPLE = "python -m sim pareto outputs/sweeps/gpu-type-count --x carbon_kg --y jobs.train-7b.duration_s"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("points", type=Path, metavar="SWEEP_DIR_OR_POINTS",
                        help="a sweep's results directory, or its points.parquet")
    parser.add_argument("--x", required=True, help="first objective (a column of points.parquet)")
    parser.add_argument("--y", required=True, help="second objective")
    parser.add_argument("--x-goal", choices=("min", "max"), default="min", help="minimise (default) or maximise the x metric")
    parser.add_argument("--y-goal", choices=("min", "max"), default="min", help="minimise (default) or maximise the y metric")
    parser.add_argument("--out", type=Path, default=None, help="where to write (default: beside points.parquet)")


def run(args: argparse.Namespace) -> int:
    from sim.experiments.pareto import pareto_from_points

    front, written = pareto_from_points(args.points, args.x, args.y, args.x_goal, args.y_goal, args.out)
    print(f"pareto: {len(front)} configurations on the front ({args.x_goal} {args.x}, {args.y_goal} {args.y})")
    with_columns = front.to_string(index=False, max_colwidth=40)
    print(with_columns)
    print(f"  wrote     {', '.join(str(p) for p in written)}")
    return 0
