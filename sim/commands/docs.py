"""Regenerate docs/scenario-reference.md and docs/output-reference.md from the code.

The scenario reference comes from the pydantic models of sim/config/schema.py (type, unit, default
and meaning of every key); the output reference from sim/output/columns.py (unit, meaning and
formula of every column). A test fails when the files in docs/ differ from what this writes.
"""

from __future__ import annotations

import argparse
from pathlib import Path

EXAMPLE = "python -m sim docs            # or: python -m sim docs --check"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dir", type=Path, default=None, metavar="DIR",
                        help="where to write the files (default: docs/ of the source tree)")
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 if a file is missing or out of date")


def run(args: argparse.Namespace) -> int:
    from sim.reference import DOCS_DIR, reference_documents

    directory = args.dir if args.dir is not None else DOCS_DIR
    stale = []
    for name, text in reference_documents().items():
        path = directory / name
        current = path.read_text(encoding="utf-8") if path.is_file() else None
        if current == text:
            print(f"  current  {path}")
            continue
        if args.check:
            stale.append(path)
            print(f"  stale    {path}")
        else:
            directory.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            print(f"  wrote    {path}")
    if stale:
        print("run `python -m sim docs` to regenerate them")
        return 1
    return 0
