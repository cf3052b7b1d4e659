"""Pareto front: exactly the configurations that no other one dominates; averaged over seeds; written as a
table and a plot."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.errors import SimInputError
from sim.experiments.pareto import pareto_front, pareto_from_points, pareto_mask
from helpers import run_cli
from sweep_fixtures import write_sweep


def dominated(i: int, x, y, sx: float, sy: float) -> bool:
    """The definition: someone at least as good on both and strictly better on one."""
    a = np.array([sx * v for v in x])
    b = np.array([sy * v for v in y])
    better_or_equal = (a <= a[i]) & (b <= b[i])
    strictly = (a < a[i]) | (b < b[i])
    return bool(np.any(better_or_equal & strictly))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 6), st.integers(0, 6)), min_size=0, max_size=25),
       st.sampled_from(["min", "max"]), st.sampled_from(["min", "max"]))
def test_the_front_is_exactly_the_non_dominated_points(pairs, x_goal, y_goal):
    x = [float(p[0]) for p in pairs]
    y = [float(p[1]) for p in pairs]
    mask = pareto_mask(np.array(x), np.array(y), x_goal, y_goal)
    sx = 1.0 if x_goal == "min" else -1.0
    sy = 1.0 if y_goal == "min" else -1.0
    expected = [not dominated(i, x, y, sx, sy) for i in range(len(pairs))]
    assert mask.tolist() == expected


def test_nan_points_are_never_on_the_front():
    mask = pareto_mask(np.array([1.0, np.nan, 3.0]), np.array([3.0, 0.0, 1.0]))
    assert mask.tolist() == [True, False, True]


def test_seeds_are_averaged_and_failed_points_left_out():
    points = pd.DataFrame({
        "a": [1, 1, 2, 2, 3], "seed": [0, 1, 0, 1, 0], "status": ["ok", "ok", "ok", "ok", "failed"],
        "cost": [10.0, 20.0, 14.0, 14.0, np.nan], "time": [5.0, 7.0, 5.0, 5.0, np.nan],
    })
    table, front = pareto_front(points, ["a"], "cost", "time")
    assert table["a"].tolist() == [1, 2]
    assert table["cost"].tolist() == [15.0, 14.0] and table["seeds"].tolist() == [2, 2]
    assert front["a"].tolist() == [2]  # (14, 5) beats the mean of a=1, (15, 6)


def test_an_unknown_objective_lists_the_metrics():
    points = pd.DataFrame({"a": [1], "seed": [0], "status": ["ok"], "carbon_kg": [1.0]})
    with pytest.raises(SimInputError, match="'carbon' is not a column of points.parquet; numeric metrics: carbon_kg"):
        pareto_front(points, ["a"], "carbon", "carbon_kg")


def test_a_sweep_with_a_pareto_table_writes_the_front_table_and_plot(tmp_path):
    path = write_sweep(tmp_path, """
[sweep]
name = "front"
[axes]
"cluster.node" = ["dgx-a100", "dgx-h100", "dgx-b200"]
"cluster.gpus" = [16, 32]
[follow]
"jobs.0.gpus" = "cluster.gpus"
[pareto]
x = "gpus"
y = "jobs.train.duration_s"
""")
    result = run_cli("sweep", str(path), "--out", str(tmp_path / "out"), "--workers", "1")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # the progress bar stays silent when stderr is not a terminal
    assert "pareto.parquet, pareto.csv, pareto.png" in result.stdout
    front = pd.read_parquet(tmp_path / "out" / "pareto.parquet")
    csv = pd.read_csv(tmp_path / "out" / "pareto.csv")
    assert len(front) == len(csv) >= 1
    points = pd.read_parquet(tmp_path / "out" / "points.parquet")
    # The definition, applied to every point (one seed each), gives the same configurations.
    x, y = points["gpus"].astype(float).tolist(), points["jobs.train.duration_s"].tolist()
    expected = {(r["cluster.node"], r["cluster.gpus"]) for i, r in enumerate(points.to_dict("records"))
                if not dominated(i, x, y, 1.0, 1.0)}
    assert {(r["cluster.node"], r["cluster.gpus"]) for r in front.to_dict("records")} == expected
    png = (tmp_path / "out" / "pareto.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000
    # The command recomputes it from points.parquet with other objectives.
    again, written = pareto_from_points(tmp_path / "out", "carbon_kg", "jobs.train.duration_s",
                                        out_dir=tmp_path / "other")
    assert [p.name for p in written] == ["pareto.parquet", "pareto.csv", "pareto.png"]
