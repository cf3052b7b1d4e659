"""Sweep files: a base scenario, axes over any scenario key, seeds; expanded into points.

A sweep file is TOML:

    base = "training_base.toml"          # the scenario every point starts from (relative to this file)

    [sweep]
    name = "gpu-type-count"              # names the results: sweep=<name>/...
    description = "..."
    seeds = 2                            # per point: the base seed, base seed + 1, ... (or a list: [0, 7, 42])
    unset = ["cluster.nodes"]            # keys removed from the base first (optional)

    [axes]                               # the cartesian product of these (in this order)
    "cluster.node" = ["dgx-a100", "dgx-h100"]                # a list of values
    "cluster.gpus" = { start = 64, stop = 512, step = 64 }   # a range: start, start + step, ... up to stop INCLUSIVE

    [[zip]]                              # keys that vary together: one point per position (equal lengths)
    "grid.carbon_intensity_g_per_kwh" = [49.4, 395.1]
    "facility.pue" = [1.1, 1.4]

    [follow]                             # keys set to the value of another key at every point
    "jobs.0.gpus" = "cluster.gpus"

    [set]                                # fixed overrides of every point (merged into the base)
    "scenario.duration" = "30d"

    [capacity]  ...                      # see sim.experiments.capacity
    [pareto]    ...                      # see sim.experiments.pareto

Keys are dotted scenario keys, quoted or bare (`cluster.gpus = [...]` is the same axis); an integer part
indexes an array of tables (`jobs.0.gpus`). Each point's scenario is built as: base, minus [sweep] unset,
merged with [set], the point's axis values, its seed, then [follow]; and validated by
`sim.config.loader.validate_scenario` before anything runs.

Directories (the Hive layout): `sweep=<name>/<key>=<value>/.../seed=<seed>/`, one level per axis key in the
order above (axes, then zips), seed last. A value becomes text as: true/false for booleans, decimal for
integers, the shortest round-trip form for floats (without a '+' in the exponent), the string itself, ISO 8601
for dates and times, canonical JSON for tables and arrays. The text is then percent-encoded (RFC 3986): every
byte but A-Z a-z 0-9 - _ . ~ becomes %XX, so '/', '=', ':' and spaces never reach the path, and
pyarrow's and DuckDB's Hive readers decode it back. A text whose encoding is longer than 64 characters keeps
its first 40 characters plus '~' and 10 hex digits of its SHA-256 (the typed value is in points.parquet).
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
import math
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sim.config.loader import plain_message, show_value, read_toml, validate_scenario
from sim.config.schema import Scenario
from sim.errors import ScenarioError

MAX_SEGMENT_VALUE_CHARS = 64
MAX_POINTS = 100_000
MAX_REPORTED_PROBLEMS = 20


# ------------------------------------------------------------------------------------------ the file
class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class SweepSection(_Strict):
    """[sweep]: the sweep's name, seeds per point, keys removed from the base."""

    name: str = Field(min_length=1, description="Name of the sweep: the `sweep=<name>` directory.")
    description: str = ""
    seeds: int | list[int] = Field(1, description="Seeds per point: a count (base seed + k) or a list.")
    unset: list[str] = Field(default_factory=list, description="Keys removed from the base scenario.")


class CapacitySection(_Strict):
    """[capacity]: the target of `python -m sim capacity` (each key may be given on the command line)."""

    key: str | None = None
    metric: str | None = None
    target: float | str | None = None
    direction: Literal["le", "ge"] | None = None
    find: Literal["smallest", "largest"] = "smallest"
    low: int | None = None
    high: int | None = None


class ParetoSection(_Strict):
    """[pareto]: two objectives of points.parquet; the front is written after the sweep."""

    x: str
    y: str
    x_goal: Literal["min", "max"] = "min"
    y_goal: Literal["min", "max"] = "min"


class SweepFile(_Strict):
    base: str = Field(min_length=1, description="Base scenario file, relative to the sweep file.")
    sweep: SweepSection
    axes: dict[str, Any] = Field(default_factory=dict)
    zip_: list[dict[str, Any]] = Field(default_factory=list, alias="zip")
    follow: dict[str, Any] = Field(default_factory=dict)
    set_: dict[str, Any] = Field(default_factory=dict, alias="set")
    capacity: CapacitySection | None = None
    pareto: ParetoSection | None = None


def _format_errors(exc: ValidationError, where: str) -> list[str]:
    messages = []
    for error in exc.errors(include_url=False):
        # pydantic names the member of a union it tried ('int', 'list[int]', "literal['le','ge']"): not a key.
        loc = [str(p) for p in error["loc"]
               if not (isinstance(p, str) and (p in ("int", "str", "float", "bool") or "[" in p))]
        path = ".".join(loc) or "(top level)"
        if error["type"] == "extra_forbidden":
            model = _model_at(loc[:-1])
            names = [f.alias or n for n, f in model.model_fields.items()] if model else []
            text = f"{where}: {path}: unknown key" + (f"; expected one of: {', '.join(names)}" if names else "")
        elif error["type"] == "missing":
            text = f"{where}: {path}: required key is missing"
        else:
            value = error.get("input")
            shown = "" if isinstance(value, dict) else f" = {show_value(value)}"
            text = f"{where}: {path}{shown}: {plain_message(error['msg'])}"
        if text not in messages:
            messages.append(text)
    return messages


def _model_at(loc: list[str]) -> type[BaseModel] | None:
    model: type[BaseModel] = SweepFile
    for part in loc:
        fields = {f.alias or n: f for n, f in model.model_fields.items()}
        if part not in fields:
            return None
        annotation = fields[part].annotation
        inner = next((a for a in getattr(annotation, "__args__", (annotation,)) if isinstance(a, type) and issubclass(a, BaseModel)), None)
        if inner is None:
            return None
        model = inner
    return model


# ------------------------------------------------------------------------------------------ values -> paths
def value_text(value: Any) -> str:
    """The text of an axis value in a directory name (before percent-encoding); see the module docstring."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value).replace("e+", "e")
    if isinstance(value, str):
        return value
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def encode_segment_text(text: str) -> str:
    """Percent-encode every byte but unreserved characters (RFC 3986); shorten long texts with a hash."""
    encoded = quote(text, safe="")
    if len(encoded) > MAX_SEGMENT_VALUE_CHARS:
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:10]
        prefix = ""
        for char in text:  # whole characters, so that no %XX escape is cut
            piece = quote(char, safe="")
            if len(prefix) + len(piece) > 40:
                break
            prefix += piece
        encoded = f"{prefix}~{digest}"
    return encoded


def segment(key: str, value: Any) -> str:
    """`<key>=<value>`, both path-safe: one directory level of the Hive layout."""
    return f"{encode_segment_text(key)}={encode_segment_text(value_text(value))}"


# ------------------------------------------------------------------------------------------ keys
KeyPath = tuple[str | int, ...]


def split_key(key: str) -> KeyPath:
    """'jobs.0.gpus' -> ('jobs', 0, 'gpus')."""
    return tuple(int(p) if p.isdigit() else p for p in key.split("."))


def _valid_key(key: str) -> bool:
    return bool(key) and all(part != "" for part in key.split("."))


# ------------------------------------------------------------------------------------------ the spec
@dataclass(frozen=True)
class Axis:
    """One level group of the product: a key with its values, or several keys zipped (equal lengths)."""

    keys: tuple[str, ...]
    values: tuple[tuple[Any, ...], ...]  # one tuple per position, with one value per key
    toml_path: str

    def __len__(self) -> int:
        return len(self.values)


@dataclass(frozen=True)
class Point:
    """One run of the sweep: the axis values (in level order) and the seed."""

    settings: tuple[tuple[str, Any], ...]
    seed: int
    path: str  # relative directory: "<key>=<value>/.../seed=<seed>"

    @property
    def config_path(self) -> str:
        """The directory of the point without its seed level (what the seeds of one configuration share)."""
        return self.path.rsplit("/", 1)[0] if "/" in self.path else ""

    def value(self, key: str) -> Any:
        return dict(self.settings)[key]


@dataclass(frozen=True)
class CapacityGoalSpec:
    key: str | None
    metric: str | None
    target: float | str | None
    direction: str | None
    find: str
    low: int | None
    high: int | None


@dataclass(frozen=True)
class ParetoSpec:
    x: str
    y: str
    x_goal: str = "min"
    y_goal: str = "min"


@dataclass(frozen=True)
class SweepSpec:
    """A validated sweep file. `base_data` is the base scenario's TOML table, never modified."""

    path: Path
    name: str
    description: str
    base_path: Path
    base_data: dict
    axes: tuple[Axis, ...]
    seeds: tuple[int, ...]
    unset: tuple[str, ...] = ()
    fixed: tuple[tuple[str, Any], ...] = ()
    follow: tuple[tuple[str, str], ...] = ()
    capacity: CapacityGoalSpec | None = None
    pareto: ParetoSpec | None = None

    @property
    def level_keys(self) -> tuple[str, ...]:
        return tuple(key for axis in self.axes for key in axis.keys)

    @property
    def size(self) -> int:
        return math.prod(len(axis) for axis in self.axes) * len(self.seeds)

    def make_point(self, values: dict[str, Any], seed: int) -> Point:
        """The point with these axis values (one per level key) and seed."""
        settings = tuple((key, values[key]) for key in self.level_keys)
        parts = [segment(key, value) for key, value in settings] + [segment("seed", seed)]
        return Point(settings=settings, seed=seed, path="/".join(parts))

    def points(self) -> list[Point]:
        """Every point: the cartesian product of the axes (first axis slowest), seeds innermost."""
        points = []
        for combo in itertools.product(*(axis.values for axis in self.axes)):
            values = {key: value for axis, position in zip(self.axes, combo) for key, value in zip(axis.keys, position)}
            points.extend(self.make_point(values, seed) for seed in self.seeds)
        return points

    def with_axis(self, axis: Axis) -> "SweepSpec":
        """A copy in which `axis` replaces the axis holding the same key, or is added as the last level."""
        axes = list(self.axes)
        for i, existing in enumerate(axes):
            if axis.keys[0] in existing.keys:
                axes[i] = axis
                break
        else:
            axes.append(axis)
        return SweepSpec(**{**self.__dict__, "axes": tuple(axes)})


def scenario_spec(path: Path) -> SweepSpec:
    """A scenario file seen as a sweep of one point (no axes, its own seed): for capacity search."""
    data = read_toml(path)
    seed = data.get("scenario", {}).get("seed", 0) if isinstance(data.get("scenario"), dict) else 0
    name = path.stem
    return SweepSpec(path=path, name=name, description="", base_path=path.resolve(), base_data=data,
                     axes=(), seeds=(seed if isinstance(seed, int) and seed >= 0 else 0,))


def is_sweep_file(data: dict) -> bool:
    return "base" in data or "sweep" in data


def load_sweep(path: str | Path) -> SweepSpec:
    """Read and validate a sweep file; every problem is reported with its TOML path (ScenarioError)."""
    path = Path(path)
    data = read_toml(path)
    where = str(path)
    try:
        model = SweepFile.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(_format_errors(exc, where)) from None
    problems: list[str] = []

    base_path = (path.parent / model.base).resolve()
    try:
        base_data = read_toml(base_path)
    except ScenarioError as exc:
        raise ScenarioError([f"{where}: base = {model.base!r}: {m}" for m in exc.messages]) from None

    axes: list[Axis] = []
    axis_problems: list[str] = []
    for key, values, toml_path in _flatten_axes(model.axes, "axes", axis_problems):
        if values is not None:
            axes.append(Axis(keys=(key,), values=tuple((v,) for v in values), toml_path=toml_path))
    for i, group in enumerate(model.zip_):
        entries = [(k, v, t) for k, v, t in _flatten_axes(group, f"zip.{i}", axis_problems) if v is not None]
        if not entries:
            problems.append(f"{where}: zip.{i}: expected at least one key with a list of values")
            continue
        lengths = {len(v) for _, v, _ in entries}
        if len(lengths) > 1:
            shown = ", ".join(f"{k} has {len(v)}" for k, v, _ in entries)
            problems.append(f"{where}: zip.{i}: zipped keys need the same number of values ({shown})")
            continue
        axes.append(Axis(keys=tuple(k for k, _, _ in entries), values=tuple(zip(*(v for _, v, _ in entries))),
                         toml_path=f"zip.{i}"))

    problems += [f"{where}: {m}" for m in axis_problems]
    follow = []
    for key, source, toml_path in _flatten_leaves(model.follow, "follow"):
        if not isinstance(source, str) or not _valid_key(source):
            problems.append(f"{where}: {toml_path} = {show_value(source)}: expected the dotted name of another key, e.g. \"cluster.gpus\"")
        else:
            follow.append((key, source))
    fixed = [(key, value) for key, value, _ in _flatten_leaves(model.set_, "set")]

    for i, key in enumerate(model.sweep.unset):
        if not _valid_key(key):
            problems.append(f"{where}: sweep.unset.{i} = {key!r}: expected a dotted key such as \"cluster.nodes\"")

    problems += [f"{where}: {m}" for m in _key_conflicts(axes, fixed, follow)]
    for axis in axes:
        problems += [f"{where}: {m}" for m in _segment_collisions(axis)]

    seeds_field = model.sweep.seeds
    if isinstance(seeds_field, int):
        if seeds_field < 1:
            problems.append(f"{where}: sweep.seeds = {seeds_field}: expected at least 1 (seeds per point)")
            seeds: tuple[int, ...] = ()
        else:
            base_seed = _base_seed(base_data, fixed)
            seeds = tuple(base_seed + k for k in range(seeds_field))
    else:
        seeds = tuple(seeds_field)
        if not seeds or any(s < 0 for s in seeds) or len(set(seeds)) != len(seeds):
            problems.append(f"{where}: sweep.seeds = {show_value(list(seeds))}: expected distinct seeds >= 0")

    size = math.prod(len(a) for a in axes) * max(len(seeds), 1)
    if size > MAX_POINTS:
        problems.append(f"{where}: the sweep has {size:,} points; at most {MAX_POINTS:,} are allowed in one sweep")

    capacity = None
    if model.capacity is not None:
        c = model.capacity
        capacity = CapacityGoalSpec(key=c.key, metric=c.metric, target=c.target, direction=c.direction,
                                    find=c.find, low=c.low, high=c.high)
    pareto = None
    if model.pareto is not None:
        p = model.pareto
        pareto = ParetoSpec(x=p.x, y=p.y, x_goal=p.x_goal, y_goal=p.y_goal)

    if problems:
        raise ScenarioError(problems)
    return SweepSpec(path=path, name=model.sweep.name, description=model.sweep.description, base_path=base_path,
                     base_data=base_data, axes=tuple(axes), seeds=seeds, unset=tuple(model.sweep.unset),
                     fixed=tuple(fixed), follow=tuple(follow), capacity=capacity, pareto=pareto)


def load_spec(path: str | Path) -> SweepSpec:
    """A sweep file, or a scenario file seen as a sweep of one point."""
    path = Path(path)
    data = read_toml(path)
    return load_sweep(path) if is_sweep_file(data) else scenario_spec(path)


def with_overrides(spec: SweepSpec, sets: list[str] = (), follows: list[str] = ()) -> SweepSpec:
    """`spec` with command-line additions: `--set key=value` (value read as TOML, as `python -m sim --set`)
    merged after [set] (replacing the same key there), and `--follow target=source` after [follow]."""
    from sim.config.loader import parse_override

    fixed = dict(spec.fixed)
    for text in sets:  # a key of [set] given again on the command line takes the command line's value
        parts, value = parse_override(text)
        fixed[".".join(map(str, parts))] = value
    fixed = list(fixed.items())
    follow = list(spec.follow)
    for text in follows:
        target, _, source = text.partition("=")
        target, source = target.strip(), source.strip()
        if not _valid_key(target) or not _valid_key(source):
            raise ScenarioError(f"--follow {text!r}: expected target.key=source.key, e.g. jobs.0.gpus=cluster.gpus")
        follow.append((target, source))
    problems = _key_conflicts(list(spec.axes), fixed, follow)
    if problems:
        raise ScenarioError([f"{spec.path}: {m}" for m in problems])
    return SweepSpec(**{**spec.__dict__, "fixed": tuple(fixed), "follow": tuple(follow)})


def _base_seed(base_data: dict, fixed: list[tuple[str, Any]]) -> int:
    seed = dict(fixed).get("scenario.seed")
    if seed is None:
        section = base_data.get("scenario")
        seed = section.get("seed", 0) if isinstance(section, dict) else 0
    return seed if isinstance(seed, int) and not isinstance(seed, bool) and seed >= 0 else 0


def _is_range(value: Any) -> bool:
    return isinstance(value, dict) and {"start", "stop"} <= set(value) <= {"start", "stop", "step"} and all(
        not isinstance(v, (dict, list)) for v in value.values())


def _flatten_leaves(table: dict, prefix: str, stop=lambda value: not isinstance(value, dict), key_parts=()):
    """(dotted key, leaf value, TOML path) of a table whose bare or quoted dotted keys build nested tables."""
    for name, value in table.items():
        parts = (*key_parts, *name.split("."))
        if stop(value):
            yield ".".join(parts), value, f"{prefix}.{'.'.join(parts)}"
        else:
            yield from _flatten_leaves(value, prefix, stop, parts)


def _flatten_axes(table: dict, prefix: str, problems: list[str]):
    """(key, values or None, TOML path) for every axis of an [axes] or [[zip]] table."""
    for key, spec, toml_path in _flatten_leaves(table, prefix, stop=lambda v: not isinstance(v, dict) or _is_range(v)):
        where = toml_path
        if not _valid_key(key):
            problems.append(f"{where}: expected a dotted scenario key such as cluster.gpus")
            yield key, None, toml_path
        elif key in ("scenario.seed", "seed"):
            problems.append(f"{where}: the seed is not an axis; give [sweep] seeds = N (or a list) instead")
            yield key, None, toml_path
        elif isinstance(spec, list):
            if not spec:
                problems.append(f"{where} = []: expected at least one value")
                yield key, None, toml_path
            else:
                yield key, tuple(spec), toml_path
        elif _is_range(spec):
            values = _range_values(spec, where, problems)
            yield key, values, toml_path
        else:
            problems.append(f"{where} = {show_value(spec)}: expected a list of values, or a range "
                            "{ start = ..., stop = ..., step = ... } (stop included)")
            yield key, None, toml_path


def _range_values(spec: dict, where: str, problems: list[str]) -> tuple | None:
    """start, start + step, ... while <= stop (>= for a negative step): `stop` is included when it is hit."""
    start, stop, step = spec["start"], spec["stop"], spec.get("step", 1)
    bad = False
    for name, value in (("start", start), ("stop", stop), ("step", step)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            problems.append(f"{where}.{name} = {show_value(value)}: expected a finite number")
            bad = True
    if bad:
        return None
    if step == 0:
        problems.append(f"{where}.step = 0: expected a non-zero step")
        return None
    if (stop - start) * step < 0:
        problems.append(f"{where}: the range from {start} to {stop} never reaches stop with step {step}")
        return None
    count = math.floor((stop - start) / step + 1e-9) + 1
    if count > MAX_POINTS:
        problems.append(f"{where}: the range has {count:,} values; at most {MAX_POINTS:,}")
        return None
    if all(isinstance(v, int) for v in (start, stop, step)):
        return tuple(start + i * step for i in range(count))
    # Each value computed from start (no accumulated error), then rounded to 12 significant digits so that
    # 0.1 steps give 0.3, not 0.30000000000000004, in directory names.
    return tuple(float(f"{start + i * step:.12g}") for i in range(count))


def _key_conflicts(axes: list[Axis], fixed: list[tuple[str, Any]], follow: list[tuple[str, str]]) -> list[str]:
    problems = []
    seen: dict[str, str] = {}
    entries = [(k, f"{a.toml_path}" if len(a.keys) > 1 else f"axes.{k}") for a in axes for k in a.keys]
    entries += [(k, f"set.{k}") for k, _ in fixed] + [(k, f"follow.{k}") for k, _ in follow]
    for key, where in entries:
        for other, other_where in seen.items():
            if key == other or key.startswith(other + ".") or other.startswith(key + "."):
                problems.append(f"{where}: {key} is also set by {other_where}; give each key in one place")
        seen[key] = where
    return problems


def _segment_collisions(axis: Axis) -> list[str]:
    problems = []
    for k, key in enumerate(axis.keys):
        texts: dict[str, Any] = {}
        for position in axis.values:
            text = segment(key, position[k])
            if text in texts:
                problems.append(f"{axis.toml_path}: values {show_value(texts[text])} and {show_value(position[k])} of {key} "
                                "are repeated or give the same directory name")
            texts[text] = position[k]
    return problems


# ------------------------------------------------------------------------------------------ resolution
def _get(data: Any, parts: KeyPath) -> Any:
    node = data
    for part in parts:
        if isinstance(part, int) and isinstance(node, list) and part < len(node):
            node = node[part]
        elif isinstance(node, dict) and str(part) in node:
            node = node[str(part)]
        else:
            raise KeyError(".".join(map(str, parts)))
    return node


def _set(data: dict, parts: KeyPath, value: Any, merge: bool, label: str) -> None:
    """Set `parts` to `value` in the TOML table `data`, creating tables on the way; with `merge`, a table
    value is merged key by key into an existing table (TOML overlay) instead of replacing it."""
    node: Any = data
    for i, part in enumerate(parts[:-1]):
        here = ".".join(map(str, parts[: i + 1]))
        if isinstance(node, list):
            if not isinstance(part, int) or part >= len(node):
                raise ScenarioError(f"{label}: the base scenario has no {here} (it has {len(node)} entries)")
            node = node[part]
        elif isinstance(node, dict):
            key = str(part)
            if key not in node:
                node[key] = [] if isinstance(parts[i + 1], int) else {}
            node = node[key]
        else:
            raise ScenarioError(f"{label}: {'.'.join(map(str, parts[:i]))} is {show_value(node)}, not a table")
        if not isinstance(node, (dict, list)):
            raise ScenarioError(f"{label}: {here} is {show_value(node)} in the base scenario, not a table")
    last = parts[-1]
    if isinstance(node, list):
        if not isinstance(last, int) or last >= len(node):
            raise ScenarioError(f"{label}: the base scenario has no {'.'.join(map(str, parts))} (it has {len(node)} entries)")
        target = node[last]
        if merge and isinstance(value, dict) and isinstance(target, dict):
            for name, sub in value.items():
                _set(target, split_key(name), sub, True, label)
        else:
            node[last] = value
        return
    key = str(last)
    if merge and isinstance(value, dict) and isinstance(node.get(key), (dict, list)):
        for name, sub in value.items():
            _set(node, (key, *split_key(name)), sub, True, label)
    else:
        node[key] = value


def _unset(data: dict, parts: KeyPath) -> None:
    try:
        parent = _get(data, parts[:-1]) if len(parts) > 1 else data
    except KeyError:
        return
    if isinstance(parent, dict):
        parent.pop(str(parts[-1]), None)
    elif isinstance(parent, list) and isinstance(parts[-1], int) and parts[-1] < len(parent):
        del parent[parts[-1]]  # e.g. unset = ["jobs.1"]: the base's second job


def point_data(spec: SweepSpec, point: Point) -> dict:
    """The point's scenario table: base, minus unset, merged with [set], axis values, seed, [follow]."""
    data = copy.deepcopy(spec.base_data)
    for key in spec.unset:
        _unset(data, split_key(key))
    for key, value in spec.fixed:
        _set(data, split_key(key), copy.deepcopy(value), True, f"{spec.path}: set.{key}")
    for key, value in point.settings:
        _set(data, split_key(key), copy.deepcopy(value), False, f"{spec.path}: {key}")
    _set(data, ("scenario", "seed"), point.seed, False, f"{spec.path}: sweep.seeds")
    for target, source in spec.follow:
        try:
            value = _get(data, split_key(source))
        except KeyError:
            raise ScenarioError(f"{spec.path}: follow.{target} = {source!r}: no such key in the point's scenario "
                                f"(point {point.config_path or '(base)'})") from None
        _set(data, split_key(target), copy.deepcopy(value), False, f"{spec.path}: follow.{target}")
    return data


def resolve_point(spec: SweepSpec, point: Point) -> Scenario:
    """The validated scenario of one point (ScenarioError naming the point and the key otherwise)."""
    data = point_data(spec, point)
    where = f"{spec.path} [point {point.path}]"
    return validate_scenario(data, where, spec.base_path.parent, name=spec.base_path.stem)


def resolve_points(spec: SweepSpec, points: list[Point]) -> list[Scenario]:
    """Every point's validated scenario; all problems are gathered (at most 20 shown) into one ScenarioError.

    The points of one configuration differ only by seed: they are validated once and given their seeds.
    """
    scenarios: list[Scenario] = []
    problems: list[str] = []
    by_config: dict[str, Scenario | None] = {}
    for point in points:
        config = point.config_path
        if config not in by_config:
            try:
                by_config[config] = resolve_point(spec, point)
            except ScenarioError as exc:
                by_config[config] = None
                problems.extend(m for m in exc.messages if m not in problems)
        scenario = by_config[config]
        if scenario is not None:
            scenarios.append(with_seed(scenario, point.seed))
    if problems:
        shown = problems[:MAX_REPORTED_PROBLEMS]
        if len(problems) > len(shown):
            shown.append(f"{spec.path}: ... and {len(problems) - len(shown)} more problems")
        raise ScenarioError(shown)
    return scenarios


def with_seed(scenario: Scenario, seed: int) -> Scenario:
    if scenario.scenario.seed == seed:
        return scenario
    return scenario.model_copy(update={"scenario": scenario.scenario.model_copy(update={"seed": seed})})


def scenario_digest(scenario: Scenario) -> str:
    """SHA-256 of the resolved scenario's canonical JSON: what a finished point was run with."""
    from sim.engine.simulation import resolved_scenario_json

    return hashlib.sha256(resolved_scenario_json(scenario).encode("utf-8")).hexdigest()

