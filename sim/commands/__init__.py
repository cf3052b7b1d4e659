"""Subcommands of `python -m sim`, one module each, registered in `sim.cli.COMMANDS`.

Each module defines `add_arguments(parser)` and `run(args) -> int`, and a module docstring whose first
line is the command's one-line help.
"""
