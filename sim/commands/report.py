"""Write one self-contained HTML report of a run: summary, figures, tables and the resolved scenario.

The figures are embedded in the file (base64 PNG) and so is the style: it opens in any browser
without a network, and can be mailed or attached as it is.
"""

from __future__ import annotations

import argparse
from pathlib import Path

EXAMPLE = "python -m sim report outputs/gpt3   # writes outputs/gpt3/report.html"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_dir", type=Path, metavar="RUN_DIR", help="a run directory written by `python -m sim`")
    parser.add_argument("--out", type=Path, default=None, metavar="FILE",
                        help="the HTML file to write (default: RUN_DIR/report.html)")


def run(args: argparse.Namespace) -> int:
    from sim.api import open_run
    from sim.report.html import write_report

    loaded = open_run(args.run_dir)
    path = write_report(loaded, args.out if args.out is not None else args.run_dir / "report.html")
    print(f"  wrote    {path}")
    return 0
