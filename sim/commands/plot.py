"""Draw the figures of a run (or sweep, or comparison) directory as PNG files.

Figures are drawn from what the directory holds and skipped, with the reason, when their data is
absent: facility power by component, PUE and outdoor temperature, carbon intensity and emissions,
on-site water, energy and carbon per job, latency distributions and energy per token (inference
runs), metrics by point and a Pareto scatter (sweep and comparison tables).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

EXAMPLE = "python -m sim plot outputs/gpt3 --out slides/gpt3"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_dir", type=Path, metavar="RUN_DIR", help="a run directory written by `python -m sim`")
    parser.add_argument("--out", type=Path, default=None, metavar="DIR",
                        help="where to write the PNG files (default: RUN_DIR/figures)")


def run(args: argparse.Namespace) -> int:
    from sim.api import open_run
    from sim.report.figures import make_figures, write_figures

    loaded = open_run(args.run_dir)
    out_dir = args.out if args.out is not None else args.run_dir / "figures"
    made, skipped = make_figures(loaded)
    paths = write_figures(made, out_dir)
    for path, item in zip(paths, made):
        print(f"  wrote    {path}  ({item.title})")
    for item in skipped:
        print(f"  skipped  {item.name}: {item.reason}")
    if not paths:
        print(f"error: {args.run_dir}: nothing to plot", file=sys.stderr)
        return 1
    return 0
