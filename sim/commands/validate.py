"""Rerun every published case of scenarios/validation and compare with the published figures.

Prints one row per check: case, quantity, mode (as published, or the general power model beside it),
published and simulated values, error, tolerance, result and kind (physics: the published figure rests
on measured power or throughput; arithmetic: on GPU-hours x TDP). Exit code 1 if any check is out of
tolerance. Everything runs in memory; nothing is written.
"""

from __future__ import annotations

import argparse
from pathlib import Path

EXAMPLE = "python -m sim validate --case 'touvron2023_*' --explain"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from sim.validation.table import PUBLISHED_TABLE

    parser.add_argument("--fast", action="store_true", help="leave out the cases the table marks slow")
    parser.add_argument("--case", dest="cases", action="append", default=[], metavar="ID",
                        help="run only this case (a shell glob such as 'patterson2021_*'; repeatable)")
    parser.add_argument("--table", type=Path, default=PUBLISHED_TABLE,
                        help="published table; the case scenarios lie beside it (default: %(default)s)")
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown (as in the README)")
    parser.add_argument("--explain", action="store_true", help="after the table, say why each tolerance")


def run(args: argparse.Namespace) -> int:
    from sim.validation import format_markdown, format_text, load_table, run_validation

    report = run_validation(load_table(args.table), args.cases, fast=args.fast)
    print(format_markdown(report.rows) if args.markdown else format_text(report, explain=args.explain))
    return 1 if report.failures else 0
