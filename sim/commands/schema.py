"""Print the JSON Schema of scenario files, for editor completion and validation.

Editors that validate TOML against a JSON Schema (e.g. Taplo / Even Better TOML in VS Code) then
complete keys, show each key's meaning and unit, and flag unknown keys and out-of-range values.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

EXAMPLE = "python -m sim schema > scenario.schema.json"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, default=None, metavar="FILE", help="write to FILE instead of stdout")


def run(args: argparse.Namespace) -> int:
    from sim.reference import scenario_json_schema

    text = json.dumps(scenario_json_schema(), indent=2) + "\n"
    if args.out is None:
        print(text, end="")
    else:
        args.out.write_text(text, encoding="utf-8")
        print(f"  wrote    {args.out}")
    return 0
