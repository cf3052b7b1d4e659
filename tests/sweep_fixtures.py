"""Small scenario and sweep files for the sweep tests, written into a test's temporary directory."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pyarrow.parquet as pq

# A 1B model on 16 H100: about half an hour of training, a handful of hourly rows.
BASE_SCENARIO = """
[scenario]
name = "small"
seed = 3
start = 2023-06-01T00:00:00Z

[cluster]
node = "dgx-h100"
gpus = 16

[facility]
model = "fixed_pue"
pue = 1.2

[grid]
carbon_intensity_g_per_kwh = 385

[[jobs]]
name = "train"
gpus = 16
parameters = 1.0e9
tokens = 2.0e9
batch_tokens = 1.0e6
mfu = 0.4

[output]
interval = "1h"
"""


def write_base(folder: Path, text: str = BASE_SCENARIO) -> Path:
    path = folder / "base.toml"
    path.write_text(text, encoding="utf-8")
    return path


def write_sweep(folder: Path, body: str, base: str = "base.toml") -> Path:
    if not (folder / base).exists():
        write_base(folder)
    path = folder / "sweep.toml"
    path.write_text(f'base = "{base}"\n{body}', encoding="utf-8")
    return path


def read_points(out: Path):
    return pq.read_table(out / "points.parquet").to_pandas()


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def same_value(a, b) -> bool:
    """Equal, a missing value (None in JSON, null or NaN in Parquet) being equal to another missing one."""
    if _missing(a) or _missing(b):
        return _missing(a) and _missing(b)
    return a == b


def point_dirs(out: Path) -> list[Path]:
    """Directories of points that have been written completely (their point.json is in place). A point's
    directory is written as a hidden temporary (`.name.tmp-PID`) renamed into place: one killed before the
    rename holds a point.json too, and is not a point."""
    return sorted(p.parent for p in out.rglob("point.json") if not p.parent.name.startswith("."))


def load_json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))
