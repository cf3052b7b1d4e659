"""Load a scenario: TOML -> overrides -> validated, frozen `Scenario`, or every error at once.

Each error is one line: `<file>: <toml.path> = <value>: <what was expected>`.
"""

from __future__ import annotations

import re
import tomllib
import typing
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from sim.config.schema import CATALOG_NAME_TAG, INLINE_TABLE_TAG, Scenario, grid_cross_checks
from sim.config.plant_schema import facility_cross_checks
from sim.errors import ScenarioError

_MAX_VALUE_CHARS = 60


def show_value(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= _MAX_VALUE_CHARS else text[: _MAX_VALUE_CHARS - 3] + "..."


def _model_fields_at(loc: tuple) -> list[str] | None:
    """The field names of the model found by walking `loc` from Scenario, if it leads to one."""
    model: Any = Scenario
    for part in loc:
        if isinstance(part, int):
            continue
        if not (isinstance(model, type) and issubclass(model, BaseModel)) or part not in model.model_fields:
            return None
        model = _inner_model(model.model_fields[part].annotation)
    return list(model.model_fields) if isinstance(model, type) and issubclass(model, BaseModel) else None


def _inner_model(annotation: Any) -> Any:
    """The BaseModel inside `list[M]`, `M | None`, `str | M`, ... (the first one found)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


def _clean_loc(loc: tuple) -> tuple:
    """Drop pydantic's union-member tags ('str', 'NodeModel', 'function-after[...]') from a location."""
    cleaned = []
    for part in loc:
        if isinstance(part, str) and (
            part in (CATALOG_NAME_TAG, INLINE_TABLE_TAG)
            or "[" in part or part in {"str", "int", "float", "bool", "list", "dict"} or part[:1].isupper()
        ):
            continue
        cleaned.append(part)
    return tuple(cleaned)


def format_validation_error(exc: ValidationError, where: str) -> list[str]:
    messages: list[str] = []
    seen: set[tuple] = set()
    for error in exc.errors(include_url=False):
        loc = _clean_loc(error["loc"])
        path = ".".join(str(p) for p in loc) or "(top level)"
        kind = error["type"]
        if kind == "extra_forbidden":
            valid = _model_fields_at(loc[:-1])
            expected = f"unknown key; expected one of: {', '.join(valid)}" if valid else "unknown key"
            text = f"{where}: {path}: {expected}"
        elif kind == "missing":
            text = f"{where}: {path}: required key is missing"
        else:
            msg = plain_message(error["msg"])
            value = error.get("input")
            shown = "" if isinstance(value, dict) else f" = {show_value(value)}"
            text = f"{where}: {path}{shown}: {msg}"
        key = (path, text)
        if key not in seen:
            seen.add(key)
            messages.append(text)
    return messages


def plain_message(msg: str) -> str:
    """Pydantic's message in the user's words: no class names, 'expected ...' phrasing."""
    msg = msg.removeprefix("Value error, ")
    msg = re.sub(r"Input should be a valid dictionary or instance of \w+", "expected a table", msg)
    msg = re.sub(r"Input should be a valid dictionary", "expected a table", msg)
    msg = re.sub(r"Input should be a valid list", "expected an array (of tables)", msg)
    msg = msg.replace("Input should be", "expected")
    msg = msg.replace("Input tag", "value")
    return msg


def parse_override(text: str) -> tuple[list[str | int], Any]:
    """`dotted.key=value` -> (path, value). The value is read as TOML; bare words are strings."""
    if "=" not in text:
        raise ScenarioError(f"--set {text!r}: expected dotted.key=value")
    key, raw = text.split("=", 1)
    key = key.strip()
    if not key or any(part == "" for part in key.split(".")):
        raise ScenarioError(f"--set {text!r}: expected dotted.key=value")
    try:
        value = tomllib.loads(f"v = {raw.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw.strip()
    path: list[str | int] = [int(p) if p.isdigit() else p for p in key.split(".")]
    return path, value


def apply_override(data: dict, path: list[str | int], value: Any, text: str) -> None:
    node: Any = data
    for i, part in enumerate(path[:-1]):
        nxt = path[i + 1]
        if isinstance(part, int):
            if not isinstance(node, list) or part >= len(node):
                raise ScenarioError(f"--set {text!r}: {'.'.join(map(str, path[: i + 1]))} does not exist")
            node = node[part]
            continue
        if not isinstance(node, dict):
            raise ScenarioError(f"--set {text!r}: {'.'.join(map(str, path[:i]))} is not a table")
        node = node.setdefault(part, [] if isinstance(nxt, int) else {})
    last = path[-1]
    if isinstance(last, int):
        if not isinstance(node, list) or last >= len(node):
            raise ScenarioError(f"--set {text!r}: index {last} does not exist")
        node[last] = value
    elif isinstance(node, dict):
        node[last] = value
    else:
        raise ScenarioError(f"--set {text!r}: {'.'.join(map(str, path[:-1]))} is not a table")


def read_toml(path: Path) -> dict:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ScenarioError(f"{path}: scenario file not found") from None
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot read scenario file ({exc.strerror})") from None
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ScenarioError(f"{path}: not a UTF-8 text file (byte {exc.start})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{path}: invalid TOML: {exc}") from None


def validate_scenario(data: dict, where: str, base_dir: Path | None, name: str | None = None) -> Scenario:
    """Validate a scenario mapping; raise ScenarioError with every problem found."""
    if not isinstance(data, dict):
        raise ScenarioError(f"{where}: expected a table of scenario keys")
    try:
        scenario = Scenario.model_validate(data, context={"base_dir": base_dir})
    except ValidationError as exc:
        raise ScenarioError(format_validation_error(exc, where)) from None
    problems = cross_checks(scenario, where)
    if problems:
        raise ScenarioError(problems)
    if scenario.scenario.name is None and name is not None:
        scenario = scenario.model_copy(update={"scenario": scenario.scenario.model_copy(update={"name": name})})
    return scenario


def cross_checks(scenario: Scenario, where: str) -> list[str]:
    """Checks that involve several tables, reported with the path of the offending key."""
    problems = []
    cluster_gpus = scenario.cluster.gpu_count
    for i, job in enumerate(scenario.jobs):
        if job.gpus > cluster_gpus:
            problems.append(
                f"{where}: jobs.{i}.gpus = {job.gpus}: exceeds the cluster's {cluster_gpus} accelerators"
            )
    problems += grid_cross_checks(scenario, where)
    problems += facility_cross_checks(scenario, where)
    if scenario.services:
        from sim.workloads.service import service_cross_checks

        problems += service_cross_checks(scenario, where)
    if not problems:
        from sim.config.scale_checks import training_scale_problems

        problems += training_scale_problems(scenario, where)
    return problems


def load_scenario(path: str | Path, overrides: list[str] | tuple[str, ...] = ()) -> Scenario:
    """Read, override and validate the scenario at `path`."""
    path = Path(path)
    data = read_toml(path)
    for text in overrides:
        key_path, value = parse_override(text)
        apply_override(data, key_path, value, text)
    return validate_scenario(data, str(path), path.parent, name=path.stem)
