"""Capacity search: the smallest (or largest) integer value of one scenario key that meets a target on
one summary metric, by bisection over the key's range.

    python -m sim capacity SWEEP_OR_SCENARIO --key cluster.gpus --metric jobs.train-7b.duration_s \
        --target 3d --direction le

- The metric is any name of points.parquet (a flattened summary key: `simulated_s`, `carbon_kg`,
  `jobs.<job>.duration_s`; an inference service's latency percentile, once it is in the summary, is one
  more such name). `--direction le` means metric <= target, `ge` metric >= target.
- The predicate "meets the target" must be monotone in the key: for `--find smallest`, false below the
  answer and true from it on (more GPUs, shorter training); for `--find largest`, true up to the answer
  and false above (more load, worse latency). Both ends are run first; then each round runs k values
  evenly spaced in the open interval still in doubt (k = 1 is bisection; with W workers k = W / number
  of searches running together, so W processes each take one value). A run of the two ends plus
  ceil(log2(high - low)) rounds finds the answer for k = 1.
- With several seeds per point, a value meets the target only if every seed's run does (the worst seed);
  the energy, carbon, water and cost reported at the answer are means over the seeds.
- With a sweep file, the search runs once for every combination of the sweep's OTHER axes (e.g. the
  smallest GPU count of each GPU type). The key's own axis, if the sweep has one, gives the default range
  (its smallest and largest values). Probed points are written in the sweep's Hive layout, so a search
  reuses any point already run (by the sweep itself, or a previous search) and is resumable.
- Non-monotone results among the probed values are reported as a warning: the answer is then a boundary,
  not necessarily the smallest one. A run whose metric has no value (null: e.g. a latency percentile of a
  service that completed no request) does not meet the target.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from sim.config.durations import parse_duration_s
from sim.errors import SimInputError
from sim.experiments.executors import Executor
from sim.experiments.progress import progress_bar
from sim.experiments.results import (
    SweepLayout,
    flatten_summary,
    json_value,
    typed_array,
    write_atomically,
    write_points_table,
)
from sim.experiments.runner import plan_runs, run_points
from sim.experiments.spec import Axis, Point, SweepSpec, _valid_key, resolve_points
from sim.experiments.worker import OK

CAPACITY_POINTS_TABLE = "capacity_points.parquet"
CAPACITY_TABLE = "capacity.parquet"
CAPACITY_JSON = "capacity.json"
# Reported at the answer when present in the summary (means over seeds).
REPORTED_METRICS = ("gpus", "nodes", "simulated_s", "it_energy_kwh", "facility_energy_kwh", "carbon_kg",
                    "carbon_market_kg", "embodied_carbon_kg", "water_l", "water_total_l")


@dataclass(frozen=True)
class CapacityGoal:
    """Find the `find` ('smallest' or 'largest') integer `key` in [low, high] with `metric` `direction`
    ('le': <=, 'ge': >=) `target`."""

    key: str
    metric: str
    target: float
    direction: str
    find: str
    low: int
    high: int

    def meets(self, value: float) -> bool:
        return value <= self.target if self.direction == "le" else value >= self.target

    def worst(self, values: list[float]) -> float:
        """The seed that decides: the largest value when it must stay below, the smallest otherwise."""
        return max(values) if self.direction == "le" else min(values)

    def describe(self, target_text: str | None = None) -> str:
        op = "<=" if self.direction == "le" else ">="
        target = target_text if target_text is not None else f"{self.target:g}"
        return f"{self.find} {self.key} in [{self.low}, {self.high}] with {self.metric} {op} {target}"


# ------------------------------------------------------------------------------------------ the search
@dataclass
class IntervalSearch:
    """The first position, in the order of the search, at which a monotone predicate holds.

    Positions 0..n-1 stand for values low..high (smallest) or high..low (largest). The predicate is false
    before the answer and true from it on. Pure: `probes(k)` says what to evaluate next, `record` takes
    the results; no simulation in here.
    """

    low: int
    high: int
    find: str = "smallest"
    results: dict[int, bool] = field(default_factory=dict)  # position -> meets

    @property
    def n(self) -> int:
        return self.high - self.low + 1

    def value(self, position: int) -> int:
        return self.low + position if self.find == "smallest" else self.high - position

    def position(self, value: int) -> int:
        return value - self.low if self.find == "smallest" else self.high - value

    def _bounds(self) -> tuple[int, int]:
        """(largest failing position before the first meeting one, first meeting position); -1 and n when
        unknown."""
        meeting = [p for p, ok in self.results.items() if ok]
        hi = min(meeting) if meeting else self.n
        failing = [p for p, ok in self.results.items() if not ok and p < hi]
        lo = max(failing) if failing else -1
        return lo, hi

    @property
    def done(self) -> bool:
        last = self.n - 1
        if self.results.get(last) is False:
            return True  # not met even at the far end
        if self.results.get(0) is True:
            return True
        lo, hi = self._bounds()
        return hi - lo == 1 and hi < self.n

    @property
    def answer(self) -> int | None:
        if not self.done or self.results.get(self.n - 1) is False:
            return None
        return self.value(self._bounds()[1])

    @property
    def monotone(self) -> bool:
        """False if a probed value meets while a later one (in the search order) does not."""
        meeting = [p for p, ok in self.results.items() if ok]
        return not meeting or all(ok for p, ok in self.results.items() if p > min(meeting))

    def probes(self, k: int = 1) -> list[int]:
        """The next values to evaluate: the two ends first, then up to k evenly spaced in the interval in doubt."""
        if self.done:
            return []
        ends = [p for p in dict.fromkeys((0, self.n - 1)) if p not in self.results]
        if ends:
            return [self.value(p) for p in ends]
        lo, hi = self._bounds()
        span = hi - lo
        k = max(1, k)
        positions = sorted({lo + ((j + 1) * span) // (k + 1) for j in range(k)} - {lo, hi})
        positions = [p for p in positions if lo < p < hi and p not in self.results]
        return [self.value(p) for p in positions]

    def record(self, value: int, meets: bool) -> None:
        self.results[self.position(value)] = meets


# ------------------------------------------------------------------------------------------ the goal
def build_goal(spec: SweepSpec, key: str | None = None, metric: str | None = None, target: Any = None,
               direction: str | None = None, find: str | None = None, low: int | None = None,
               high: int | None = None) -> CapacityGoal:
    """The goal from the command line, falling back on the sweep file's [capacity] table; errors name
    the option or the TOML key."""
    table = spec.capacity
    pick = lambda given, name: given if given is not None else (getattr(table, name) if table is not None else None)  # noqa: E731
    key, metric, target = pick(key, "key"), pick(metric, "metric"), pick(target, "target")
    direction, find = pick(direction, "direction"), pick(find, "find") or "smallest"
    low, high = pick(low, "low"), pick(high, "high")
    problems = []
    for name, value in (("key", key), ("metric", metric), ("target", target), ("direction", direction)):
        if value is None:
            problems.append(f"{spec.path}: capacity.{name} (or --{name}) is required")
    if problems:
        raise SimInputError(problems)
    if not _valid_key(key):
        raise SimInputError(f"--key {key!r}: expected a dotted scenario key such as cluster.gpus")
    if direction not in ("le", "ge"):
        raise SimInputError(f"--direction {direction!r}: expected le (metric <= target) or ge (metric >= target)")
    if find not in ("smallest", "largest"):
        raise SimInputError(f"--find {find!r}: expected smallest or largest")
    target_value = _target_value(metric, target)
    axis = next((a for a in spec.axes if key in a.keys), None)
    if axis is not None and len(axis.keys) > 1:
        raise SimInputError(f"{spec.path}: {key} is zipped with {', '.join(k for k in axis.keys if k != key)} "
                            f"in {axis.toml_path}; a capacity key must vary alone")
    if axis is not None and (low is None or high is None):
        values = [position[0] for position in axis.values]
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
            raise SimInputError(f"{spec.path}: axes.{key} has non-integer values; give --low and --high")
        low = min(values) if low is None else low
        high = max(values) if high is None else high
    if low is None or high is None:
        raise SimInputError(f"{spec.path}: give the range of {key} to search: --low and --high "
                            "(or capacity.low and capacity.high)")
    for name, value in (("low", low), ("high", high)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise SimInputError(f"--{name} {value!r}: expected an integer")
    if low > high:
        raise SimInputError(f"--low {low} > --high {high}: expected low <= high")
    return CapacityGoal(key=key, metric=metric, target=target_value, direction=direction, find=find, low=low, high=high)


def _target_value(metric: str, target: Any) -> float:
    """A number; for a metric in seconds (`..._s`) also a duration such as '3d' or '200ms'-free '0.5s'."""
    if isinstance(target, bool):
        raise SimInputError(f"--target {target!r}: expected a number")
    if isinstance(target, (int, float)):
        value = float(target)
    else:
        text = str(target).strip()
        try:
            value = float(text)
        except ValueError:
            if not metric.endswith("_s"):
                raise SimInputError(f"--target {target!r}: expected a number") from None
            try:
                value = parse_duration_s(text)
            except ValueError as exc:
                raise SimInputError(f"--target {target!r}: {exc}") from None
    if not math.isfinite(value):
        raise SimInputError(f"--target {target!r}: expected a finite number")
    return value


# ------------------------------------------------------------------------------------------ running it
@dataclass(frozen=True)
class CapacityResult:
    """One search: the other axes' values, the answer and what it costs."""

    settings: tuple[tuple[str, Any], ...]
    status: str  # 'found', 'not met' (not even at the far end of the range), 'failed'
    answer: int | None
    metric_value: float | None  # the deciding (worst) seed's metric at the answer
    at_answer: dict[str, float]  # means over seeds of REPORTED_METRICS and the run's *cost* metrics
    probes: tuple[tuple[int, float | None, bool | None], ...]  # (value, worst metric, meets), in value order
    monotone: bool
    error: str | None = None

    @property
    def runs(self) -> int:
        return len(self.probes)


@dataclass(frozen=True)
class CapacityReport:
    goal: CapacityGoal
    results: tuple[CapacityResult, ...]
    out_dir: Path
    wall_s: float
    executor: str
    seeds: tuple[int, ...]


def _outer_combinations(spec: SweepSpec, key: str) -> list[dict[str, Any]]:
    axes = [a for a in spec.axes if key not in a.keys]
    return [
        {k: v for axis, position in zip(axes, combo) for k, v in zip(axis.keys, position)}
        for combo in itertools.product(*(a.values for a in axes))
    ]


def _reported(metrics: list[dict[str, Any]]) -> dict[str, float]:
    names = [n for n in REPORTED_METRICS if all(n in m for m in metrics)]
    # Costs of the whole run (top-level summary keys such as energy_cost_usd, cost_usd), when present.
    names += [n for n in metrics[0] if "cost" in n and "." not in n and n not in names and all(n in m for m in metrics)]
    out = {}
    for name in names:
        values = [m[name] for m in metrics]
        if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
            out[name] = math.fsum(values) / len(values)
    return out


def run_capacity(spec: SweepSpec, goal: CapacityGoal, out_dir: Path, executor: Executor, force: bool = False,
                 progress: bool = True) -> CapacityReport:
    """Search the goal for every combination of the sweep's other axes, running probes on `executor`."""
    started = time.perf_counter()
    search_spec = spec.with_axis(Axis(keys=(goal.key,), values=((goal.low,), (goal.high,)), toml_path="capacity.key"))
    combos = _outer_combinations(spec, goal.key)
    searches = [IntervalSearch(goal.low, goal.high, goal.find) for _ in combos]
    failures: dict[int, str] = {}
    summaries: dict[str, dict] = {}  # point path -> flattened metrics
    evaluated: dict[tuple[int, int], tuple[float | None, bool | None]] = {}
    all_points: list[Point] = []

    # Both ends of every search are resolved now, so a bad range is refused before anything runs.
    resolve_points(search_spec, [search_spec.make_point({**c, goal.key: v}, s)
                                 for c in combos for v in (goal.low, goal.high) for s in spec.seeds])

    layout = SweepLayout(out_dir, spec.name)
    bar = progress_bar(None, f"capacity {goal.key}", enabled=progress)
    try:
        with layout.lock():
            layout.claim(search_spec)
            layout.clean_temporaries()
            try:
                while True:
                    active = [i for i, s in enumerate(searches) if not s.done and i not in failures]
                    if not active:
                        break
                    per_search = max(1, executor.workers // max(1, len(active) * len(spec.seeds)))
                    wanted = [(i, v) for i in active for v in searches[i].probes(per_search)]
                    points = [search_spec.make_point({**combos[i], goal.key: v}, s) for i, v in wanted for s in spec.seeds]
                    all_points.extend(points)
                    scenarios = resolve_points(search_spec, points)
                    todo, _done = plan_runs(search_spec, layout, points, scenarios, force)
                    if todo:
                        run_points(search_spec, layout, todo, executor, "", progress=False, bar=bar)
                    bar.update(len(points) - len(todo))
                    per_value = len(spec.seeds)
                    for k, (i, v) in enumerate(wanted):
                        seed_points = points[k * per_value:(k + 1) * per_value]
                        metric_values, error = [], None
                        for point in seed_points:
                            record = layout.read_record(point)
                            if record is None or record.get("status") != OK:
                                error = (record or {}).get("error") or "the point did not finish"
                                break
                            metrics = flatten_summary(layout.read_summary(point) or {})
                            summaries[point.path] = metrics
                            if goal.metric not in metrics:
                                raise SimInputError(_unknown_metric(goal.metric, metrics))
                            metric_values.append(metrics[goal.metric])
                        if error is not None:
                            failures[i] = f"{goal.key}={v}: {error}"
                            evaluated[(i, v)] = (None, None)
                            continue
                        if any(isinstance(x, (bool, str)) for x in metric_values):
                            raise SimInputError(f"--metric {goal.metric}: not a number in the summary "
                                                f"({metric_values[0]!r})")
                        if any(x is None or math.isnan(x) for x in metric_values):
                            # No value (e.g. a latency percentile of a service that completed no request):
                            # the target is not met.
                            worst, meets = None, False
                        else:
                            worst = goal.worst([float(x) for x in metric_values])
                            meets = goal.meets(worst)
                        evaluated[(i, v)] = (worst, meets)
                        searches[i].record(v, meets)
            finally:
                unique = list({p.path: p for p in all_points}.values())
                write_points_table(search_spec, layout, unique, CAPACITY_POINTS_TABLE)
    finally:
        bar.close()

    results = []
    for i, (combo, search) in enumerate(zip(combos, searches)):
        probes = tuple(sorted((v, *evaluated[(j, v)]) for (j, v) in evaluated if j == i))
        settings = tuple(combo.items())
        if i in failures:
            results.append(CapacityResult(settings, "failed", None, None, {}, probes, search.monotone, failures[i]))
            continue
        answer = search.answer
        if answer is None:
            results.append(CapacityResult(settings, "not met", None, None, {}, probes, search.monotone))
            continue
        answer_points = [search_spec.make_point({**combo, goal.key: answer}, s) for s in spec.seeds]
        metrics = [summaries[p.path] for p in answer_points]
        results.append(CapacityResult(settings, "found", answer, evaluated[(i, answer)][0], _reported(metrics),
                                      probes, search.monotone))
    report = CapacityReport(goal=goal, results=tuple(results), out_dir=Path(out_dir),
                            wall_s=time.perf_counter() - started, executor=executor.describe(), seeds=spec.seeds)
    write_capacity(report, [k for k in spec.level_keys if k != goal.key])
    return report


def _unknown_metric(metric: str, metrics: dict[str, Any]) -> str:
    import difflib

    close = difflib.get_close_matches(metric, list(metrics), n=5, cutoff=0.5)
    numeric = [n for n, v in metrics.items() if isinstance(v, (int, float)) and not isinstance(v, bool)]
    hint = f"did you mean: {', '.join(close)}?" if close else f"numeric metrics: {', '.join(numeric[:40])}"
    return f"--metric {metric!r}: not in the summary; {hint}"


def write_capacity(report: CapacityReport, outer_keys: list[str]) -> None:
    """capacity.parquet (one row per search) and capacity.json (with every probe), each in one rename."""
    goal = report.goal
    rows = report.results
    columns: dict[str, pa.Array] = {}
    for key in outer_keys:
        columns[key] = typed_array([dict(r.settings)[key] for r in rows])
    columns["key"] = pa.array([goal.key] * len(rows), type=pa.string())
    columns["status"] = pa.array([r.status for r in rows], type=pa.string())
    columns["answer"] = pa.array([r.answer for r in rows], type=pa.int64())
    columns["metric"] = pa.array([goal.metric] * len(rows), type=pa.string())
    columns["metric_value"] = pa.array([r.metric_value for r in rows], type=pa.float64())
    columns["target"] = pa.array([goal.target] * len(rows), type=pa.float64())
    columns["direction"] = pa.array([goal.direction] * len(rows), type=pa.string())
    columns["runs"] = pa.array([r.runs for r in rows], type=pa.int64())
    columns["monotone"] = pa.array([r.monotone for r in rows], type=pa.bool_())
    names = list(dict.fromkeys(n for r in rows for n in r.at_answer))
    for name in names:
        columns[name] = pa.array([r.at_answer.get(name) for r in rows], type=pa.float64())
    columns["error"] = pa.array([r.error for r in rows], type=pa.string())
    table = pa.table(columns) if rows else pa.table({"key": pa.array([], pa.string())})
    root = report.out_dir
    tmp = root / f".{CAPACITY_TABLE}.tmp-{os.getpid()}"
    pq.write_table(table, tmp)
    os.replace(tmp, root / CAPACITY_TABLE)
    document = {
        "goal": {"key": goal.key, "metric": goal.metric, "target": goal.target, "direction": goal.direction,
                 "find": goal.find, "low": goal.low, "high": goal.high},
        "seeds": list(report.seeds),
        "results": [
            {"settings": {k: json_value(v) for k, v in r.settings}, "status": r.status, "answer": r.answer,
             "metric_value": r.metric_value, "at_answer": r.at_answer, "monotone": r.monotone, "error": r.error,
             "probes": [{"value": v, "metric": m, "meets": ok} for v, m, ok in r.probes]}
            for r in rows
        ],
    }
    write_atomically(root / CAPACITY_JSON, (json.dumps(document, indent=2) + "\n").encode("utf-8"))
