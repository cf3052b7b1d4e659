"""Sweep results on disk: the Hive layout of run directories, each point's record, and points.parquet.

    DIR/
      sweep.json                  which sweep owns DIR (its name, base, levels, seeds)
      points.parquet              one row per point: point, axis values (typed), seed, status, error, metrics
      sweep=<name>/<key>=<value>/.../seed=<seed>/
          summary.json timeseries.parquet jobs.parquet scenario.json   (as `python -m sim` writes them)
          point.json              the point's record: values, seed, status, error, scenario digest
          error.txt               the traceback, for a failed point

A point's directory appears in one rename (sim.output.rundir.RunDirectory), so it is either complete or
absent; a point counts as done when its point.json says "ok" for the same resolved scenario.

Read the whole sweep as one dataset with any Hive-aware reader, one file kind at a time, e.g.
DuckDB `read_parquet('DIR/sweep=*/**/timeseries.parquet', hive_partitioning = true)`, or `read_runs` below.
"""

from __future__ import annotations

import fcntl
import json
import math
import os
import shutil
from contextlib import contextmanager
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from sim import __version__
from sim.errors import SimInputError
from sim.experiments.spec import Point, SweepSpec, segment, value_text
from sim.output.rundir import RunDirectory, write_json

POINT_FILE = "point.json"
SUMMARY_FILE = "summary.json"
POINTS_TABLE = "points.parquet"
SWEEP_RECORD = "sweep.json"
LOCK_FILE = ".sweep.lock"
# Columns of points.parquet before the metrics.
FIXED_COLUMNS = ("point", "seed", "status", "error")
PENDING = "pending"


# ------------------------------------------------------------------------------------------ summaries
def flatten_summary(summary: dict, prefix: str = "") -> dict[str, Any]:
    """The scalar metrics of a summary, with dotted names: nested tables as `a.b`, and lists of tables by
    their name (`jobs.<job>.duration_s`, `services.<service>.<metric>`), or by position if unnamed. Lists of
    plain values (warnings) are not metrics. The summary's own `seed` is the point's `seed` column."""
    metrics: dict[str, Any] = {}
    for key, value in summary.items():
        name = f"{prefix}{key}"
        if not prefix and key == "seed":
            continue
        if isinstance(value, dict):
            metrics.update(flatten_summary(value, f"{name}."))
        elif isinstance(value, list):
            if value and all(isinstance(item, dict) for item in value):
                for i, item in enumerate(value):
                    label_key = next((k for k in ("name", "job", "service", "id")
                                      if isinstance(item.get(k), (str, int)) and not isinstance(item.get(k), bool)), None)
                    label = str(item[label_key]) if label_key else str(i)
                    rest = {k: v for k, v in item.items() if k != label_key}
                    metrics.update(flatten_summary(rest, f"{name}.{label}."))
        elif value is None or isinstance(value, (bool, int, float, str)):
            metrics[name] = value
    return metrics


# ------------------------------------------------------------------------------------------ layout
class SweepLayout:
    """Where a sweep's files go under its output directory."""

    def __init__(self, out_dir: Path, name: str):
        self.root = Path(out_dir)
        self.tree = self.root / segment("sweep", name)
        self.name = name

    def point_dir(self, point: Point) -> Path:
        return self.tree / point.path

    @contextmanager
    def lock(self):
        """One writer at a time in DIR (an advisory lock, released when the process ends, however it ends)."""
        self.root.mkdir(parents=True, exist_ok=True)
        handle = open(self.root / LOCK_FILE, "a+")
        try:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise SimInputError(f"{self.root}: another sweep is writing here now; wait for it or use --out DIR") from None
            yield self
        finally:
            handle.close()

    def claim(self, spec: SweepSpec) -> None:
        """Record which sweep owns DIR; refuse a directory that holds another sweep."""
        path = self.root / SWEEP_RECORD
        if path.exists():
            try:
                owner = json.loads(path.read_text(encoding="utf-8")).get("name")
            except (OSError, ValueError):
                owner = None
            if owner is not None and owner != spec.name:
                raise SimInputError(f"{self.root}: holds the results of sweep {owner!r}, not {spec.name!r}; "
                                    "use --out DIR for another place")
        record = {
            "name": spec.name,
            "description": spec.description,
            "sweep_file": str(spec.path),
            "base": str(spec.base_path),
            "levels": list(spec.level_keys),
            "seeds": list(spec.seeds),
            "sim_version": __version__,
        }
        write_atomically(path, (json.dumps(record, indent=2) + "\n").encode("utf-8"))

    def clean_temporaries(self) -> int:
        """Remove what a killed writer left: hidden `.<name>.tmp-<pid>` / `.old-<pid>` directories (never a
        point: a point only exists once renamed into place). Only called while holding the lock."""
        removed = 0
        if not self.tree.exists():
            return 0
        for parent, dirs, _files in os.walk(self.tree):
            for name in list(dirs):
                if name.startswith(".") and (".tmp-" in name or ".old-" in name):
                    shutil.rmtree(Path(parent) / name, ignore_errors=True)
                    dirs.remove(name)
                    removed += 1
        for name in os.listdir(self.root):
            if name.startswith(".") and ".tmp-" in name:
                (self.root / name).unlink(missing_ok=True)
        return removed

    def read_record(self, point: Point) -> dict | None:
        try:
            return json.loads((self.point_dir(point) / POINT_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def state(self, point: Point, digest: str) -> str:
        """'done' (ok, same scenario), 'stale' (ok, another scenario), 'failed', or 'missing'."""
        record = self.read_record(point)
        if record is None:
            return "missing"
        if record.get("status") != "ok":
            return "failed"
        return "done" if record.get("scenario_sha256") == digest else "stale"

    def read_summary(self, point: Point) -> dict | None:
        try:
            return json.loads((self.point_dir(point) / SUMMARY_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None


def write_atomically(path: Path, data: bytes) -> None:
    tmp = path.parent / f".{path.name}.tmp-{os.getpid()}"
    tmp.write_bytes(data)
    os.replace(tmp, path)


def json_value(value: Any) -> Any:
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def point_record(spec: SweepSpec, point: Point, digest: str, status: str, error: str | None, wall_s: float,
                 cpu_s: float = 0.0) -> dict:
    return {
        "sweep": spec.name,
        "point": point.path,
        "values": {key: json_value(value) for key, value in point.settings},
        "seed": point.seed,
        "status": status,
        "error": error,
        "scenario_sha256": digest,
        "sim_version": __version__,
        "wall_s": wall_s,
        "cpu_s": cpu_s,
    }


def write_point(layout: SweepLayout, record: dict, point: Point, files: tuple[tuple[str, bytes], ...],
                traceback_text: str | None) -> None:
    """The point's run directory, in one rename (replacing a failed attempt, if any)."""
    with RunDirectory(layout.point_dir(point), force=True) as tmp:
        for name, data in files:
            (tmp / name).write_bytes(data)
        if traceback_text:
            (tmp / "error.txt").write_text(traceback_text, encoding="utf-8")
        write_json(tmp / POINT_FILE, record)


# ------------------------------------------------------------------------------------------ the table
def typed_array(values: list[Any]) -> pa.Array:
    """A column of one type: bool, int64, float64 (ints and floats mixed), string, timestamp; anything
    else (tables, mixed kinds) as its text. Missing values are nulls."""
    present = [v for v in values if v is not None]
    if not present:
        return pa.array([None] * len(values), type=pa.float64())
    if all(isinstance(v, bool) for v in present):
        return pa.array(values, type=pa.bool_())
    if all(isinstance(v, int) and not isinstance(v, bool) for v in present):
        return pa.array(values, type=pa.int64())
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in present):
        return pa.array([None if v is None else float(v) for v in values], type=pa.float64())
    if all(isinstance(v, str) for v in present):
        return pa.array(values, type=pa.string())
    if all(isinstance(v, datetime) for v in present) and len({v.tzinfo is None for v in present}) == 1:
        return pa.array(values)
    return pa.array([None if v is None else value_text(v) for v in values], type=pa.string())


def points_table(spec: SweepSpec, layout: SweepLayout, points: list[Point]) -> pa.Table:
    """One row per point, rebuilt from what is on disk: completed points with their metrics, failed ones
    with their error, and points not run yet as 'pending'."""
    rows: list[dict[str, Any]] = []
    metric_names: dict[str, None] = {}
    for point in points:
        record = layout.read_record(point)
        metrics: dict[str, Any] = {}
        status, error = PENDING, None
        if record is not None:
            status, error = record.get("status", PENDING), record.get("error")
            if status == "ok":
                summary = layout.read_summary(point)
                if summary is None:
                    status, error = "failed", "summary.json missing or unreadable"
                else:
                    metrics = flatten_summary(summary)
        for name in metrics:
            metric_names.setdefault(name, None)
        rows.append({"point": point.path, "seed": point.seed, "status": status, "error": error,
                     "values": dict(point.settings), "metrics": metrics})
    columns: dict[str, pa.Array] = {"point": pa.array([r["point"] for r in rows], type=pa.string())}
    levels = spec.level_keys
    for key in levels:
        columns[key] = typed_array([r["values"][key] for r in rows])
    columns["seed"] = pa.array([r["seed"] for r in rows], type=pa.int64())
    columns["status"] = pa.array([r["status"] for r in rows], type=pa.string())
    columns["error"] = pa.array([r["error"] for r in rows], type=pa.string())
    taken = set(columns)
    for name in metric_names:
        column = name if name not in taken else f"summary.{name}"
        columns[column] = typed_array([r["metrics"].get(name) for r in rows])
    metadata = {
        b"sim.sweep": json.dumps({"name": spec.name, "levels": list(levels), "seeds": list(spec.seeds),
                                  "base": str(spec.base_path), "sweep_file": str(spec.path)}).encode("utf-8"),
        b"sim.version": __version__.encode("utf-8"),
    }
    if not rows:
        return pa.table({name: pa.array([], type=pa.string()) for name in FIXED_COLUMNS}).replace_schema_metadata(metadata)
    return pa.table(columns).replace_schema_metadata(metadata)


def write_points_table(spec: SweepSpec, layout: SweepLayout, points: list[Point], name: str = POINTS_TABLE) -> Path:
    """Rebuild the table from disk and move it into place in one rename."""
    table = points_table(spec, layout, points)
    path = layout.root / name
    tmp = layout.root / f".{name}.tmp-{os.getpid()}"
    pq.write_table(table, tmp, compression="zstd")
    os.replace(tmp, path)
    return path


# ------------------------------------------------------------------------------------------ reading back
def sweep_levels(table: pa.Table) -> list[str]:
    """The axis columns of a points table (from its metadata)."""
    metadata = table.schema.metadata or {}
    if b"sim.sweep" not in metadata:
        raise SimInputError("not a sweep's points table (no sim.sweep metadata)")
    return list(json.loads(metadata[b"sim.sweep"])["levels"])


def read_points(path: str | Path):
    """points.parquet (or the sweep directory holding it) as a pandas DataFrame."""
    path = Path(path)
    if path.is_dir():
        path = path / POINTS_TABLE
    if not path.is_file():
        raise SimInputError(f"{path}: no points table here (run the sweep first)")
    return pq.read_table(path).to_pandas()


def read_runs(out_dir: str | Path, file_name: str = "timeseries.parquet"):
    """Every completed point's `file_name` (timeseries.parquet, jobs.parquet) as one pandas DataFrame, with
    the point's typed axis values and seed in front (from points.parquet)."""
    import pandas as pd

    out_dir = Path(out_dir)
    table = pq.read_table(out_dir / POINTS_TABLE)
    levels = sweep_levels(table)
    points = table.select(["point", *levels, "seed", "status"]).to_pandas()
    name = json.loads(table.schema.metadata[b"sim.sweep"])["name"]
    tree = out_dir / segment("sweep", name)
    frames = []
    for row in points.to_dict("records"):
        if row["status"] != "ok":
            continue
        frame = pd.read_parquet(tree / row["point"] / file_name)
        for i, key in enumerate(["point", *levels, "seed"]):
            frame.insert(i, key, pd.Series([row[key]] * len(frame), dtype=points[key].dtype))
        frames.append(frame)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
