"""The Pareto front of two objectives over a sweep's points: the configurations no other one beats on both.

A configuration p dominates q when p is at least as good on both objectives and strictly better on one
(good = smaller for 'min', larger for 'max'). The front is the set of configurations that nothing
dominates; equal configurations do not dominate each other, so both stay. With several seeds per point,
each configuration's objectives are the means over its completed seeds. Points that failed, or lack an
objective, are left out.

Written as pareto.parquet and pareto.csv (the front, sorted by the first objective) and pareto.png (every
configuration in grey, the front in colour, each front point labelled with its axis values).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd

from sim.errors import SimInputError

PARETO_TABLE = "pareto.parquet"
PARETO_CSV = "pareto.csv"
PARETO_PLOT = "pareto.png"


def pareto_mask(x: np.ndarray, y: np.ndarray, x_goal: str = "min", y_goal: str = "min") -> np.ndarray:
    """True for each point that no other point dominates; NaN points are never on the front.

    O(n log n): sort by x (then y), keep a point if its y is strictly better than every point with a
    strictly better x, and it is the best y among the points with its own x.
    """
    sx = np.asarray(x, dtype=float) * (1.0 if x_goal == "min" else -1.0)
    sy = np.asarray(y, dtype=float) * (1.0 if y_goal == "min" else -1.0)
    mask = np.zeros(len(sx), dtype=bool)
    valid = np.flatnonzero(~(np.isnan(sx) | np.isnan(sy)))
    order = valid[np.lexsort((sy[valid], sx[valid]))]
    best_y_before = np.inf
    start = 0
    while start < len(order):
        stop = start
        while stop < len(order) and sx[order[stop]] == sx[order[start]]:
            stop += 1
        group = order[start:stop]
        group_best = sy[group[0]]
        if group_best < best_y_before:
            mask[group[sy[group] == group_best]] = True
        best_y_before = min(best_y_before, group_best)
        start = stop
    return mask


def configurations(points: pd.DataFrame, levels: list[str], x: str, y: str) -> pd.DataFrame:
    """One row per configuration (axis values): the mean of x and y over its completed seeds."""
    missing = [name for name in (x, y) if name not in points.columns]
    if missing:
        numeric = [c for c in points.columns if pd.api.types.is_numeric_dtype(points[c]) and c not in (*levels, "seed")]
        raise SimInputError(f"objective {missing[0]!r} is not a column of points.parquet; "
                            f"numeric metrics: {', '.join(numeric[:40])}")
    ok = points[points["status"] == "ok"]
    for name in (x, y):
        if not pd.api.types.is_numeric_dtype(ok[name]):
            raise SimInputError(f"objective {name!r} is not numeric")
    if not levels:
        frame = pd.DataFrame({x: [ok[x].mean()], y: [ok[y].mean()], "seeds": [len(ok)]})
        return frame[frame["seeds"] > 0].reset_index(drop=True)
    grouped = ok.groupby(levels, dropna=False, sort=False)
    frame = grouped[[x, y]].mean()
    frame["seeds"] = grouped.size()
    return frame.reset_index()


def pareto_front(points: pd.DataFrame, levels: list[str], x: str, y: str, x_goal: str = "min",
                 y_goal: str = "min") -> tuple[pd.DataFrame, pd.DataFrame]:
    """(every configuration with an `on_front` column, the front sorted by x)."""
    for name, goal in (("x_goal", x_goal), ("y_goal", y_goal)):
        if goal not in ("min", "max"):
            raise SimInputError(f"{name} = {goal!r}: expected min or max")
    table = configurations(points, levels, x, y)
    table["on_front"] = pareto_mask(table[x].to_numpy(), table[y].to_numpy(), x_goal, y_goal)
    front = table[table["on_front"]].sort_values([x, y], ascending=[x_goal == "min", y_goal == "min"])
    return table, front.drop(columns="on_front").reset_index(drop=True)


def _label(row: pd.Series, levels: list[str]) -> str:
    """The configuration's axis values, in level order (the legend names the keys)."""
    return ", ".join(f"{row[key]:g}" if isinstance(row[key], float) else str(row[key]) for key in levels)


def _wide(values: pd.Series) -> bool:
    """Positive values spanning more than 50x: drawn on a log scale so the front is not squashed."""
    values = values.dropna()
    return len(values) > 1 and bool((values > 0).all()) and values.max() / values.min() > 50


def write_pareto(table: pd.DataFrame, front: pd.DataFrame, levels: list[str], x: str, y: str, out_dir: Path,
                 title: str, x_goal: str = "min", y_goal: str = "min") -> list[Path]:
    """pareto.parquet, pareto.csv and (where matplotlib is installed) pareto.png; each in one rename."""
    out_dir = Path(out_dir)
    written = []
    for name, write in ((PARETO_TABLE, lambda p: front.to_parquet(p, index=False)),
                        (PARETO_CSV, lambda p: front.to_csv(p, index=False))):
        tmp = out_dir / f".{name}.tmp-{os.getpid()}"
        write(tmp)
        os.replace(tmp, out_dir / name)
        written.append(out_dir / name)
    plot = plot_pareto(table, front, levels, x, y, out_dir / PARETO_PLOT, title, x_goal, y_goal)
    if plot is not None:
        written.append(plot)
    return written


def plot_pareto(table: pd.DataFrame, front: pd.DataFrame, levels: list[str], x: str, y: str, path: Path,
                title: str, x_goal: str, y_goal: str) -> Path | None:
    """The PNG; None (and nothing written) when matplotlib is not installed."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    fig, ax = plt.subplots(figsize=(8, 5.5), dpi=120)
    ax.scatter(table[x], table[y], s=22, color="0.72", label=f"configurations ({len(table)})", zorder=2)
    ax.plot(front[x], front[y], "-o", color="tab:red", markersize=6, linewidth=1.5,
            label=f"Pareto front ({len(front)})", zorder=3)
    for i, (_, row) in enumerate(front.iterrows()):  # labels alternate above and below the front
        ax.annotate(_label(row, levels), (row[x], row[y]), textcoords="offset points",
                    xytext=(5, 7) if i % 2 == 0 else (5, -13), fontsize=7, color="tab:red", rotation=15)
    for axis_values, set_scale in ((table[x], ax.set_xscale), (table[y], ax.set_yscale)):
        if _wide(axis_values):
            set_scale("log")
    ax.set_xlabel(f"{x} ({'lower' if x_goal == 'min' else 'higher'} is better)")
    ax.set_ylabel(f"{y} ({'lower' if y_goal == 'min' else 'higher'} is better)")
    ax.set_title(f"{title}\nfront labels: {', '.join(levels)}" if levels else title, fontsize=9)
    ax.grid(True, alpha=0.3, zorder=1)
    ax.legend(fontsize=8)
    fig.tight_layout()
    tmp = path.parent / f".{path.name}.tmp-{os.getpid()}.png"
    fig.savefig(tmp)
    plt.close(fig)
    os.replace(tmp, path)
    return path


def pareto_from_points(points_path: Path, x: str, y: str, x_goal: str = "min", y_goal: str = "min",
                       out_dir: Path | None = None) -> tuple[pd.DataFrame, list[Path]]:
    """Read points.parquet, compute the front, write its files beside it (or in `out_dir`)."""
    import pyarrow.parquet as pq

    from sim.experiments.results import POINTS_TABLE, sweep_levels

    points_path = Path(points_path)
    if points_path.is_dir():
        points_path = points_path / POINTS_TABLE
    if not points_path.is_file():
        raise SimInputError(f"{points_path}: no points table here (run the sweep first)")
    arrow = pq.read_table(points_path)
    levels = sweep_levels(arrow)
    name = json.loads(arrow.schema.metadata[b"sim.sweep"])["name"]
    points = arrow.to_pandas()
    table, front = pareto_front(points, levels, x, y, x_goal, y_goal)
    out_dir = Path(out_dir) if out_dir is not None else points_path.parent
    out_dir.mkdir(parents=True, exist_ok=True)
    title = f"sweep {name}: {x_goal} {x}, {y_goal} {y}"
    return front, write_pareto(table, front, levels, x, y, out_dir, title, x_goal, y_goal)
