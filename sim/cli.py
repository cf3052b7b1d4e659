"""Command line: `python -m sim [COMMAND] ...`; without a command, `run` a scenario.

    python -m sim SCENARIO.toml [--out DIR] [--set key=value ...] [--force]
    python -m sim COMMAND --help
"""

from __future__ import annotations

import argparse
import importlib
import sys

from sim import __version__
from sim.errors import SimInputError

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130

# name -> module under sim.commands. Each capability adds its own line and its own module.
COMMANDS: dict[str, str] = {
    "run": "run",
    "validate": "validate",
    "compare": "compare",
    "plot": "plot",
    "report": "report",
    "schema": "schema",
    "docs": "docs",
    "sweep": "sweep",
    "capacity": "capacity",
    "pareto": "pareto",
}


def _command_module(name: str):
    return importlib.import_module(f"sim.commands.{COMMANDS[name]}")


def _examples_epilog() -> str:
    """`python -m sim --help` ends with one example per command, taken from each command's module."""
    lines = ["without a command, `run` is meant: python -m sim scenarios/gpt3.toml", "", "examples:"]
    for name in COMMANDS:
        example = getattr(_command_module(name), "EXAMPLE", "")
        if example:
            lines.append(f"  {example}")
    lines += ["", "`python -m sim COMMAND --help` tells more about each command."]
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m sim",
        description="Simulate the energy, carbon and water of an AI data center, hour by hour.",
        epilog=_examples_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"sim {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        module = _command_module(name)
        doc = (module.__doc__ or "").strip().splitlines()
        example = getattr(module, "EXAMPLE", "")
        command = sub.add_parser(
            name, help=doc[0] if doc else "", description=(module.__doc__ or "").strip(),
            epilog=f"example: {example}" if example else None,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        module.add_arguments(command)
        command.set_defaults(handler=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and not argv[0].startswith("-") and argv[0] not in COMMANDS:
        argv = ["run", *argv]  # `python -m sim SCENARIO.toml` means `run`
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "handler", None) is None:
        parser.print_help()
        return EXIT_BAD_INPUT
    try:
        return args.handler(args)
    except SimInputError as exc:
        for message in exc.messages:
            print(f"error: {message}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("interrupted: stopped cleanly, nothing half-written was left", file=sys.stderr)
        return EXIT_INTERRUPTED
