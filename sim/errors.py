"""Errors that reach the user as one clear line each (exit code 2), never as a traceback."""

from __future__ import annotations


class SimInputError(Exception):
    """Bad user input: a scenario value, a data file, a command-line option.

    Holds one or more messages; each names where the problem is (TOML path, or file and line),
    the offending value and what was expected.
    """

    def __init__(self, messages: str | list[str]):
        self.messages = [messages] if isinstance(messages, str) else list(messages)
        super().__init__("\n".join(self.messages))


class ScenarioError(SimInputError):
    """The scenario file (or a --set override) is invalid."""


class DataFileError(SimInputError):
    """A data file (carbon intensity, weather, trace) is missing or malformed."""

    def __init__(self, path: object, message: str, line: int | None = None):
        where = f"{path}" if line is None else f"{path}:{line}"
        super().__init__(f"{where}: {message}")
        self.path = path
        self.line = line


class OutputExistsError(SimInputError):
    """The run directory exists and --force was not given."""
