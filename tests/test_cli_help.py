"""`python -m sim --help` and every command's help are complete: a description, options, an example."""

from __future__ import annotations

import argparse

import pytest

from helpers import run_cli
from sim.cli import COMMANDS, _command_module, build_parser


def test_top_level_help_lists_every_command_with_an_example():
    result = run_cli("--help")
    assert result.returncode == 0
    for name in COMMANDS:
        module = _command_module(name)
        assert f"    {name} " in result.stdout, name
        assert module.EXAMPLE in result.stdout, name
    assert "examples:" in result.stdout


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_help_has_a_description_and_an_example(name):
    module = _command_module(name)
    assert module.__doc__ and module.__doc__.strip().splitlines()[0].endswith(".")
    assert getattr(module, "EXAMPLE", "").startswith("python -m sim"), name
    result = run_cli(name, "--help")
    assert result.returncode == 0
    assert result.stdout.startswith(f"usage: python -m sim {name}")
    assert f"example: {module.EXAMPLE}" in result.stdout
    subparsers = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    for action in subparsers.choices[name]._actions:  # every argument and option says what it does
        assert action.help, f"`{name}`: {action.option_strings or action.dest} has no help text"
