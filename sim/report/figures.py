"""Figures a capacity planner puts on a slide, made from whatever a run directory holds.

Each figure function takes DataFrames and returns a matplotlib `Figure` drawn on the Agg canvas
(no display, no pyplot state), or raises `Skip` with the reason when the data it needs is absent:
a run without weather has no outdoor temperature, a training run has no requests.parquet, a single
run has no sweep table. `make_figures(run)` tries every figure and returns what was made and what
was skipped, with why.

Every axis states its unit; energy and carbon are scaled for reading (kWh -> MWh, kg -> t) by
`sim.report.naming.display_scale`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
from matplotlib.figure import Figure

from sim.report.naming import axis_label, display_scale, unit_of, words
from sim.units import J_PER_KWH, J_PER_WH, S_PER_H

DPI = 120
WIDE = (10.0, 4.8)
TALL = (10.0, 6.4)
TIME_LABEL = "time (UTC)"
MAX_BARS = 25  # jobs or points shown one by one; the rest are summed into one bar

# Facility components in stacking order: IT at the bottom, then the overheads.
IT_PARTS = ("gpu_kwh", "host_kwh", "network_kwh", "storage_kwh")
OVERHEAD_PARTS = ("power_loss_kwh", "misc_kwh")
COMPONENT_LABELS = {
    "gpu_kwh": "GPUs", "host_kwh": "hosts", "network_kwh": "network", "storage_kwh": "storage",
    "cooling_kwh": "cooling", "power_loss_kwh": "power losses", "misc_kwh": "misc",
}


class Skip(Exception):
    """The figure cannot be drawn from this run's data; the message says what is missing."""


@dataclass
class Made:
    name: str
    title: str
    figure: Figure


@dataclass
class Skipped:
    name: str
    title: str
    reason: str


def _new_figure(size=WIDE, rows: int = 1, cols: int = 1, sharex: bool = False):
    figure = Figure(figsize=size, dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)  # the Agg backend, explicitly: no display and no global pyplot state
    axes = figure.subplots(rows, cols, sharex=sharex, squeeze=False)
    return figure, axes


def _time_axis(ax) -> None:
    locator = AutoDateLocator()
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))
    ax.set_xlabel(TIME_LABEL)


def _need(frame: pd.DataFrame | None, what: str, columns: tuple[str, ...] = ()) -> pd.DataFrame:
    if frame is None or frame.empty:
        raise Skip(f"no {what}")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise Skip(f"{what} lacks column(s) {', '.join(missing)}")
    return frame


def _edges(ts: pd.DataFrame) -> tuple[np.ndarray, pd.Series]:
    """Interval edges for step plots: every start, then the end of the last interval."""
    starts = pd.to_datetime(ts["timestamp"], utc=True)
    end = starts.iloc[-1] + pd.to_timedelta(float(ts["interval_s"].iloc[-1]), unit="s")
    return np.array([*starts.dt.tz_localize(None), end.tz_localize(None)], dtype="datetime64[us]"), starts


def _step(values) -> np.ndarray:
    """Values repeated once more at the end, to match `_edges` in a step='post' plot."""
    arr = np.asarray(values, dtype=float)
    return np.append(arr, arr[-1]) if arr.size else arr


def _mean_power_kw(ts: pd.DataFrame, column: str) -> np.ndarray:
    """Mean power over each interval [kW] = energy [kWh] / interval length [h]."""
    return ts[column].to_numpy(dtype=float) / (ts["interval_s"].to_numpy(dtype=float) / S_PER_H)


def _has_values(series: pd.Series) -> bool:
    values = pd.to_numeric(series, errors="coerce")
    return bool(values.notna().any()) and bool((values.fillna(0) != 0).any())


# ---------------------------------------------------------------------------------- time series
def cooling_parts(ts: pd.DataFrame) -> list[str]:
    """`cooling_<part>_kwh` columns that add up to `cooling_kwh` (the plant's equipment), if any."""
    parts = [c for c in ts.columns if c.startswith("cooling_") and c.endswith("_kwh") and c != "cooling_kwh"]
    if not parts or "cooling_kwh" not in ts.columns:
        return []
    total = ts["cooling_kwh"].to_numpy(dtype=float)
    summed = ts[parts].to_numpy(dtype=float).sum(axis=1)
    scale = max(float(np.nanmax(np.abs(total))) if total.size else 0.0, 1e-12)
    return parts if np.allclose(summed, total, rtol=1e-6, atol=1e-9 * scale) else []


def facility_power_figure(ts: pd.DataFrame | None) -> Figure:
    """Facility power stacked by component, mean over each output interval (kW or MW)."""
    ts = _need(ts, "timeseries.parquet", ("timestamp", "interval_s", "facility_kwh"))
    parts = cooling_parts(ts)
    stack = [c for c in IT_PARTS if c in ts.columns]
    stack += parts if parts else [c for c in ("cooling_kwh",) if c in ts.columns]
    stack += [c for c in OVERHEAD_PARTS if c in ts.columns]
    stack = [c for c in stack if _has_values(ts[c])]
    if not stack:
        raise Skip("timeseries.parquet has no energy in any component")
    powers_kw = {c: _mean_power_kw(ts, c) for c in stack}
    total_kw = _mean_power_kw(ts, "facility_kwh")
    divisor, unit = display_scale("kW", total_kw)
    x, _ = _edges(ts)
    figure, axes = _new_figure()
    ax = axes[0, 0]
    lower = np.zeros(len(ts))
    colors = _component_colors(stack)
    for column in stack:
        upper = lower + powers_kw[column] / divisor
        label = COMPONENT_LABELS.get(column) or ("cooling: " + words(column[len("cooling_"):]))
        ax.fill_between(x, _step(lower), _step(upper), step="post", label=label, color=colors[column], linewidth=0)
        lower = upper
    ax.step(x, _step(total_kw / divisor), where="post", color="black", linewidth=0.8, label="facility")
    ax.set_ylabel(f"mean power ({unit})")
    ax.set_ylim(bottom=0)
    ax.set_title("Facility power by component")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")
    _time_axis(ax)
    return figure


def _component_colors(stack: list[str]) -> dict[str, str]:
    it_colors = {"gpu_kwh": "#1f77b4", "host_kwh": "#6baed6", "network_kwh": "#9ecae1", "storage_kwh": "#c6dbef"}
    cooling_palette = ["#2ca02c", "#74c476", "#a1d99b", "#31a354", "#006d2c", "#c7e9c0", "#41ab5d"]
    colors, k = {}, 0
    for column in stack:
        if column in it_colors:
            colors[column] = it_colors[column]
        elif column == "power_loss_kwh":
            colors[column] = "#ff7f0e"
        elif column == "misc_kwh":
            colors[column] = "#bcbd22"
        else:  # cooling or one of its parts
            colors[column] = cooling_palette[k % len(cooling_palette)]
            k += 1
    return colors


def pue_weather_figure(ts: pd.DataFrame | None) -> Figure:
    """PUE per interval and, when weather is modelled, outdoor temperature on a second axis."""
    ts = _need(ts, "timeseries.parquet", ("timestamp", "interval_s", "pue"))
    if not ts["pue"].notna().any():
        raise Skip("PUE is undefined in every interval (no IT energy)")
    x, _ = _edges(ts)
    figure, axes = _new_figure()
    ax = axes[0, 0]
    ax.step(x, _step(ts["pue"]), where="post", color="#d62728", label="PUE")
    ax.set_ylabel("PUE (facility / IT energy, 1)")
    peak = float(np.nanmax(ts["pue"].to_numpy(dtype=float)))
    ax.set_ylim(1.0, peak + 0.15 * (peak - 1.0) + 0.02)  # PUE >= 1: its floor is the scale's
    weather = [c for c in ("ambient_c", "wet_bulb_c", "dew_point_c") if c in ts.columns and ts[c].notna().any()]
    handles, labels = ax.get_legend_handles_labels()
    if weather:
        twin = ax.twinx()
        for column, color in zip(weather, ("#1f77b4", "#17becf", "#9467bd")):
            name = {"ambient_c": "outdoor dry-bulb", "wet_bulb_c": "outdoor wet-bulb"}.get(column, words(column))
            twin.step(x, _step(ts[column]), where="post", color=color, linewidth=0.9, label=name)
        twin.set_ylabel("outdoor temperature (°C)")
        more_h, more_l = twin.get_legend_handles_labels()
        handles, labels = handles + more_h, labels + more_l
        ax.set_title("PUE and outdoor temperature")
    else:
        ax.set_title("PUE (no weather modelled: no outdoor temperature)")
    ax.legend(handles, labels, loc="upper left", fontsize="small")
    _time_axis(ax)
    return figure


# Carbon accountings a run may hold, by timeseries column, as the legend names them.
CARBON_ACCOUNTS = (("carbon_kg", "location-based"), ("carbon_market_kg", "market-based"),
                   ("carbon_marginal_kg", "marginal"), ("embodied_carbon_kg", "embodied"))


def _finite_any(ts: pd.DataFrame, column: str) -> bool:
    return column in ts.columns and bool(np.isfinite(pd.to_numeric(ts[column], errors="coerce")).any())


def carbon_figure(ts: pd.DataFrame | None) -> Figure:
    """Grid carbon intensity (top); emissions per interval and the running total of every accounting (bottom)."""
    ts = _need(ts, "timeseries.parquet", ("timestamp", "interval_s", "carbon_intensity_g_per_kwh", "carbon_kg"))
    x, _ = _edges(ts)
    figure, axes = _new_figure(TALL, rows=2, sharex=True)
    top, bottom = axes[0, 0], axes[1, 0]
    top.step(x, _step(ts["carbon_intensity_g_per_kwh"]), where="post", color="#8c564b", label="average")
    if _finite_any(ts, "carbon_marginal_intensity_g_per_kwh"):
        top.step(x, _step(ts["carbon_marginal_intensity_g_per_kwh"]), where="post", color="#8c564b",
                 linestyle="--", label="marginal")
        top.legend(loc="upper left", fontsize="small")
    top.set_ylabel("carbon intensity (gCO2e/kWh)")
    top.set_ylim(bottom=0)
    top.set_title("Grid carbon intensity and emissions")
    per_interval = ts["carbon_kg"].to_numpy(dtype=float)
    divisor, unit = display_scale("kgCO2e", per_interval)
    bottom.step(x, _step(per_interval / divisor), where="post", color="#7f7f7f",
                label="location-based, per interval")
    bottom.fill_between(x, 0, _step(per_interval / divisor), step="post", color="#7f7f7f", alpha=0.3)
    bottom.set_ylabel(f"emissions per interval ({unit})")
    bottom.set_ylim(bottom=0)
    accounts = [(c, name) for c, name in CARBON_ACCOUNTS if _finite_any(ts, c)]
    totals = {c: np.nancumsum(ts[c].to_numpy(dtype=float)) for c, _ in accounts}
    c_div, c_unit = display_scale("kgCO2e", np.concatenate(list(totals.values())))
    twin = bottom.twinx()
    for (column, name), style in zip(accounts, ("-", "--", ":", "-.")):
        label = f"{name}, cumulative" if len(accounts) > 1 else "cumulative"
        twin.plot(x[1:], totals[column] / c_div, color="black", linestyle=style, linewidth=1.2, label=label)
    twin.set_ylabel(f"cumulative emissions ({c_unit})")
    twin.set_ylim(bottom=0)
    h1, l1 = bottom.get_legend_handles_labels()
    h2, l2 = twin.get_legend_handles_labels()
    bottom.legend(h1 + h2, l1 + l2, loc="upper left", fontsize="small")
    _time_axis(bottom)
    top.set_xlabel("")
    return figure


WATER_PARTS = (("water_l", "on site (cooling)", "#1f77b4"), ("water_offsite_l", "off site (generation)", "#9ecae1"))


def water_figure(ts: pd.DataFrame | None) -> Figure:
    """Water per interval, on site and off site stacked, with the running total."""
    ts = _need(ts, "timeseries.parquet", ("timestamp", "interval_s"))
    parts = [(c, name, color) for c, name, color in WATER_PARTS if c in ts.columns and _has_values(ts[c])]
    if not parts:
        raise Skip("no water consumed on site or off site")
    x, _ = _edges(ts)
    figure, axes = _new_figure()
    ax = axes[0, 0]
    lower = np.zeros(len(ts))
    for column, name, color in parts:
        upper = lower + np.nan_to_num(ts[column].to_numpy(dtype=float))
        ax.fill_between(x, _step(lower), _step(upper), step="post", color=color, label=name, linewidth=0)
        lower = upper
    ax.set_ylabel("water per interval (L)")
    ax.set_ylim(bottom=0)
    twin = ax.twinx()
    twin.plot(x[1:], np.cumsum(lower), color="black", linewidth=1.2, label="cumulative")
    twin.set_ylabel("cumulative water (L)")
    twin.set_ylim(bottom=0)
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = twin.get_legend_handles_labels()
    ax.legend(h1 + h2, l1 + l2, loc="upper left", fontsize="small")
    ax.set_title("Water consumption")
    _time_axis(ax)
    return figure


COST_PARTS = (("energy_cost_usd", "energy", "#ff7f0e"), ("hardware_cost_usd", "hardware", "#9467bd"))


def cost_figure(ts: pd.DataFrame | None) -> Figure:
    """Electricity price (top) and cost per interval, energy and hardware stacked, with the running total."""
    ts = _need(ts, "timeseries.parquet", ("timestamp", "interval_s"))
    parts = [(c, name, color) for c, name, color in COST_PARTS if c in ts.columns and _has_values(ts[c])]
    if not parts:
        raise Skip("no cost in the time series (no electricity price or hardware cost)")
    x, _ = _edges(ts)
    price = _finite_any(ts, "electricity_price_usd_per_mwh")
    figure, axes = _new_figure(TALL if price else WIDE, rows=2 if price else 1, sharex=True)
    if price:
        top = axes[0, 0]
        top.step(x, _step(ts["electricity_price_usd_per_mwh"]), where="post", color="#ff7f0e")
        top.set_ylabel("electricity price (USD/MWh)")
        top.set_ylim(bottom=min(0.0, float(np.nanmin(ts["electricity_price_usd_per_mwh"]))))  # prices can go negative
        top.set_title("Electricity price and cost")
    ax = axes[-1, 0]
    lower = np.zeros(len(ts))
    for column, name, color in parts:
        upper = lower + np.nan_to_num(ts[column].to_numpy(dtype=float))
        ax.fill_between(x, _step(lower), _step(upper), step="post", color=color, label=name, linewidth=0)
        lower = upper
    ax.set_ylabel("cost per interval (USD)")
    ax.set_ylim(bottom=0)
    twin = ax.twinx()
    twin.plot(x[1:], np.cumsum(lower), color="black", linewidth=1.2, label="cumulative")
    twin.set_ylabel("cumulative cost (USD)")
    twin.set_ylim(bottom=0)
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = twin.get_legend_handles_labels()
    ax.legend(h1 + h2, l1 + l2, loc="upper left", fontsize="small")
    if not price:
        ax.set_title("Cost")
    _time_axis(ax)
    return figure


# ------------------------------------------------------------------------------------------ jobs
def _top_rows(frame: pd.DataFrame, by: str, label: str, limit: int = MAX_BARS) -> pd.DataFrame:
    """The `limit - 1` largest rows by `by`, and the rest summed into one row (if there are more)."""
    ordered = frame.sort_values(by, ascending=False, kind="stable")
    if len(ordered) <= limit:
        return ordered
    head, tail = ordered.iloc[: limit - 1], ordered.iloc[limit - 1:]
    rest = tail.select_dtypes("number").sum().to_frame().T
    rest[label] = f"{len(tail)} other jobs"
    return pd.concat([head, rest], ignore_index=True)


def jobs_figure(jobs: pd.DataFrame | None) -> Figure:
    """Energy and carbon of each job, largest first, each bar labelled with its share of all jobs."""
    jobs = _need(jobs, "jobs.parquet", ("job", "facility_kwh", "carbon_kg"))
    if "policy" in jobs.columns:  # a comparison: the same jobs under each policy
        jobs = jobs.assign(job=jobs["policy"].astype(str) + ": " + jobs["job"].astype(str))
    shown = _top_rows(jobs, "facility_kwh", "job")
    names = shown["job"].astype(str).tolist()
    figure, axes = _new_figure((10.0, max(3.2, 1.6 + 0.4 * len(names))), cols=2)
    y = np.arange(len(names))
    left, right = axes[0, 0], axes[0, 1]

    facility = shown["facility_kwh"].to_numpy(dtype=float)
    divisor, unit = display_scale("kWh", facility)
    if "it_kwh" in shown.columns:
        it = shown["it_kwh"].to_numpy(dtype=float)
        left.barh(y, it / divisor, color="#1f77b4", label="IT")
        left.barh(y, (facility - it) / divisor, left=it / divisor, color="#2ca02c",
                  label="share of cooling and losses")
        figure.legend(loc="outside lower center", ncols=2, fontsize="small")
    else:
        left.barh(y, facility / divisor, color="#1f77b4")
    left.set_xlabel(f"facility energy ({unit})")
    left.set_title("Energy per job")
    carbon = shown["carbon_kg"].to_numpy(dtype=float)
    c_div, c_unit = display_scale("kgCO2e", carbon)
    right.barh(y, carbon / c_div, color="#7f7f7f")
    right.set_xlabel(f"operational carbon ({c_unit})")
    right.set_title("Carbon per job")
    for ax, values, scale, total in ((left, facility, divisor, jobs["facility_kwh"].sum()),
                                     (right, carbon, c_div, jobs["carbon_kg"].sum())):
        ax.set_yticks(y, names)
        ax.invert_yaxis()
        ax.set_xlim(0, 1.18 * max(float(np.nanmax(values / scale)), 1e-12))
        if total > 0:
            for yi, value in zip(y, values):
                ax.annotate(f"{100.0 * value / total:.0f}%", (value / scale, yi), xytext=(3, 0),
                            textcoords="offset points", va="center", fontsize="small")
    right.set_yticklabels([])
    return figure


# ------------------------------------------------------------------------------------- inference
_LATENCY_WORDS = ("ttft", "tpot", "latency", "e2e", "first_token", "per_output_token", "itl", "queue", "wait")


def latency_columns(requests: pd.DataFrame) -> list[str]:
    """Per-request latency columns: names ending in `_s` that say what latency they are."""
    return [c for c in requests.columns
            if c.endswith("_s") and any(w in c.lower() for w in _LATENCY_WORDS)
            and pd.api.types.is_numeric_dtype(requests[c])]


def latency_figure(requests: pd.DataFrame | None) -> Figure:
    """Distribution (empirical CDF, log time axis) of every per-request latency, p50 and p99 in the legend."""
    requests = _need(requests, "requests.parquet")
    columns = latency_columns(requests)
    if not columns:
        raise Skip("requests.parquet has no latency column (e.g. ttft_s, tpot_s, latency_s)")
    figure, axes = _new_figure()
    ax = axes[0, 0]
    drawn = 0
    for column in columns:
        values = np.sort(pd.to_numeric(requests[column], errors="coerce").dropna().to_numpy(dtype=float))
        values = values[values > 0]
        if values.size == 0:
            continue
        p50, p99 = np.percentile(values, [50, 99])
        share = 100.0 * np.arange(1, values.size + 1) / values.size
        ax.step(values, share, where="post", label=f"{words(column)}: p50 {p50:.3g} s, p99 {p99:.3g} s")
        drawn += 1
    if not drawn:
        raise Skip("requests.parquet has no positive latency")
    ax.set_xscale("log")
    ax.set_xlabel("latency (s)")
    ax.set_ylabel("requests at or below (%)")
    ax.set_ylim(0, 100)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(loc="lower right", fontsize="small")
    ax.set_title(f"Latency distributions ({len(requests):,} requests)")
    return figure


def _first(columns, *tests: Callable[[str], bool]) -> str | None:
    for test in tests:
        for column in columns:
            if test(column.lower()):
                return column
    return None


def _energy_j(frame: pd.DataFrame, column: str) -> np.ndarray:
    """A per-row energy column in joules, from its unit suffix (_j, _wh, _kwh)."""
    values = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)
    unit = unit_of(column)
    factor = {"J": 1.0, "Wh": J_PER_WH, "kWh": J_PER_KWH}.get(unit)
    if factor is None:
        raise Skip(f"energy column {column} has no energy unit in its name")
    return values * factor


def energy_per_token_points(ts: pd.DataFrame | None, requests: pd.DataFrame | None) -> tuple[np.ndarray, np.ndarray, str]:
    """(load [requests/s], energy per output token [J/token], what the energy is) per output interval.

    From requests.parquet when it has an arrival time, output tokens and an energy per request:
    requests are grouped by the output interval they arrived in. Otherwise from per-interval
    `requests` and token columns of the time series, with the interval's facility energy.
    """
    if requests is not None and not requests.empty and ts is not None and not ts.empty:
        cols = requests.columns
        arrival = _first(cols, lambda c: c.startswith("arriv") and (c.endswith("_at") or c.endswith("_s")),
                         lambda c: "arriv" in c)
        tokens = _first(cols, lambda c: c in ("output_tokens", "generated_tokens", "decode_tokens"),
                        lambda c: c.endswith("_tokens") and ("out" in c or "gen" in c))
        energy = _first(cols, lambda c: c in ("energy_j", "facility_energy_j", "energy_wh", "energy_kwh"),
                        lambda c: "facility" in c and unit_of(c) in ("J", "Wh", "kWh"),
                        lambda c: "energy" in c and not c.startswith(("gpu_", "host_"))
                        and unit_of(c) in ("J", "Wh", "kWh"),
                        lambda c: "energy" in c and unit_of(c) in ("J", "Wh", "kWh"))
        if arrival and tokens and energy:
            if "status" in cols:  # only requests that finished carry their whole energy
                requests = requests[requests["status"].astype(str) == "completed"]
            starts = pd.to_datetime(ts["timestamp"], utc=True)
            arrived = requests[arrival]
            if pd.api.types.is_numeric_dtype(arrived):  # seconds since the start of the run
                arrived = starts.iloc[0] + pd.to_timedelta(arrived.astype(float), unit="s")
            arrived = pd.to_datetime(arrived, utc=True)
            index = np.searchsorted(starts.to_numpy(), arrived.to_numpy(), side="right") - 1
            frame = pd.DataFrame({"i": index, "tokens": pd.to_numeric(requests[tokens], errors="coerce"),
                                  "energy_j": _energy_j(requests, energy)})
            frame = frame[(frame["i"] >= 0) & (frame["i"] < len(ts))]
            grouped = frame.groupby("i").agg(n=("tokens", "size"), tokens=("tokens", "sum"), energy_j=("energy_j", "sum"))
            grouped = grouped[grouped["tokens"] > 0]
            interval_s = ts["interval_s"].to_numpy(dtype=float)[grouped.index.to_numpy()]
            return (grouped["n"].to_numpy(dtype=float) / interval_s,
                    grouped["energy_j"].to_numpy(dtype=float) / grouped["tokens"].to_numpy(dtype=float),
                    f"{words(energy)} per output token, by arrival interval")
    if ts is not None and not ts.empty:
        cols = [c for c in ts.columns if c != "interval_s"]
        count = _first(cols, lambda c: c in ("requests", "requests_completed", "completed_requests"),
                       lambda c: c.startswith("requests") and unit_of(c) in ("", "requests"))
        tokens = _first(cols, lambda c: c in ("output_tokens", "tokens", "generated_tokens"),
                        lambda c: c.endswith("_tokens") and ("out" in c or "gen" in c))
        if count and tokens:
            tok = ts[tokens].to_numpy(dtype=float)
            keep = tok > 0
            load = ts[count].to_numpy(dtype=float)[keep] / ts["interval_s"].to_numpy(dtype=float)[keep]
            energy_j = ts["facility_kwh"].to_numpy(dtype=float)[keep] * J_PER_KWH
            return load, energy_j / tok[keep], "facility energy per output token, by interval"
    raise Skip("no per-request energy and tokens in requests.parquet, nor per-interval requests and tokens "
               "in timeseries.parquet")


def energy_per_token_figure(ts: pd.DataFrame | None, requests: pd.DataFrame | None) -> Figure:
    """Energy per output token against load: one point per output interval."""
    if requests is None or requests.empty:
        raise Skip("no requests.parquet (the run served no inference)")
    load, j_per_token, what = energy_per_token_points(ts, requests)
    if load.size == 0:
        raise Skip("no interval produced output tokens")
    figure, axes = _new_figure()
    ax = axes[0, 0]
    ax.scatter(load, j_per_token, s=14, alpha=0.7, color="#9467bd")
    ax.set_xlabel("load (requests/s)")
    ax.set_ylabel("energy per output token (J/token)")
    if np.all(j_per_token > 0) and j_per_token.max() / max(j_per_token.min(), 1e-300) > 30:
        ax.set_yscale("log")
    if ax.get_yscale() == "linear":
        ax.set_ylim(0, 1.1 * float(np.nanmax(j_per_token)))
    ax.grid(True, alpha=0.3)
    ax.set_title(f"Energy per token against load ({what})")
    return figure


# ------------------------------------------------------------------------- sweeps and comparisons
SWEEP_TABLES = ("points", "comparison", "compare", "sweep")
_LABEL_COLUMNS = ("label", "name", "point", "policy", "scenario", "run", "id")
_PREFERRED_METRICS = ("facility_energy_kwh", "carbon_kg", "water_total_l", "water_l", "cost_usd", "pue",
                      "it_energy_kwh")
_NOT_METRICS = ("seed", "index", "point", "id", "wall_s", "events", "intervals", "sim_version",
                "output_interval_s")
# What a Pareto scatter puts against carbon: time or service first, then resources.
_PARETO_X = ("makespan_s", "simulated_s", "duration_s", "wait_s", "mean_wait_s", "facility_energy_kwh",
             "cost_usd", "water_l")


def sweep_table(run) -> tuple[str, pd.DataFrame]:
    for name in SWEEP_TABLES:
        frame = run.tables.get(name)
        if frame is not None and not frame.empty:
            return name, frame
    raise Skip("no sweep or comparison table (points.parquet, comparison.parquet or .csv)")


def point_labels(frame: pd.DataFrame) -> list[str]:
    for column in _LABEL_COLUMNS:
        if column in frame.columns:
            return frame[column].astype(str).tolist()
    text = [c for c in frame.columns if frame[c].dtype == object]
    if text:
        return frame[text[0]].astype(str).tolist()
    return [f"#{i}" for i in range(len(frame))]


def metric_columns(frame: pd.DataFrame) -> list[str]:
    """Numeric columns that are results, preferred ones first; identifiers and bookkeeping left out."""
    numeric = [c for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c])
               and not pd.api.types.is_bool_dtype(frame[c]) and c not in _NOT_METRICS
               and not c.endswith(("_delta", "_delta_pct"))  # a comparison's differences from its baseline
               and frame[c].notna().any()]
    preferred = [c for c in _PREFERRED_METRICS if c in numeric]
    return preferred + [c for c in numeric if c not in preferred]


def sweep_bars_figure(run) -> Figure:
    """The metric table as bar charts: one panel per metric (up to four), one bar per point or policy."""
    name, frame = sweep_table(run)
    metrics = metric_columns(frame)[:4]
    if not metrics:
        raise Skip(f"{name} table has no numeric metric column")
    labels = point_labels(frame)
    if len(frame) > MAX_BARS:
        frame, labels = frame.iloc[:MAX_BARS], labels[:MAX_BARS]
    figure, axes = _new_figure((10.0, 2.0 + 0.9 * len(metrics) + 0.1 * len(labels)), rows=len(metrics), sharex=True)
    x = np.arange(len(labels))
    for ax, metric in zip(axes[:, 0], metrics):
        values = pd.to_numeric(frame[metric], errors="coerce").to_numpy(dtype=float)
        divisor, unit = display_scale(unit_of(metric), values)
        ax.bar(x, values / divisor, color="#1f77b4")
        ax.set_ylabel(axis_label(metric, unit), fontsize="small")
    bottom = axes[-1, 0]
    bottom.set_xticks(x, labels, rotation=30, ha="right")  # categories: no unit, so no axis label
    axes[0, 0].set_title(f"{name.capitalize()}: metrics by {name[:-1] if name.endswith('s') else 'row'}")
    return figure


def pareto_front(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Mask of points no other point beats on both (lower x and lower y are better)."""
    n = len(x)
    efficient = np.ones(n, dtype=bool)
    for i in range(n):
        if not (math.isfinite(x[i]) and math.isfinite(y[i])):
            efficient[i] = False
            continue
        dominated = (x <= x[i]) & (y <= y[i]) & ((x < x[i]) | (y < y[i]))
        efficient[i] = not dominated.any()
    return efficient


def pareto_figure(run) -> Figure:
    """Carbon (or the first metric) against a time, service or resource metric; the Pareto front joined."""
    name, frame = sweep_table(run)
    metrics = metric_columns(frame)
    y_col = "carbon_kg" if "carbon_kg" in metrics else (metrics[0] if metrics else None)
    x_col = next((c for c in _PARETO_X if c in metrics and c != y_col), None)
    if x_col is None:
        x_col = next((c for c in metrics if c != y_col), None)
    if y_col is None or x_col is None:
        raise Skip(f"{name} table needs two numeric metrics for a Pareto scatter")
    x = pd.to_numeric(frame[x_col], errors="coerce").to_numpy(dtype=float)
    y = pd.to_numeric(frame[y_col], errors="coerce").to_numpy(dtype=float)
    x_div, x_unit = display_scale(unit_of(x_col), x)
    y_div, y_unit = display_scale(unit_of(y_col), y)
    front = pareto_front(x, y)
    figure, axes = _new_figure((8.0, 5.6))
    ax = axes[0, 0]
    ax.scatter(x[~front] / x_div, y[~front] / y_div, color="#7f7f7f", label="dominated")
    ax.scatter(x[front] / x_div, y[front] / y_div, color="#d62728", label="Pareto-efficient")
    order = np.argsort(x[front])
    ax.plot((x[front] / x_div)[order], (y[front] / y_div)[order], color="#d62728", linewidth=1.0)
    for label, xi, yi in zip(point_labels(frame), x / x_div, y / y_div):
        ax.annotate(label, (xi, yi), textcoords="offset points", xytext=(4, 4), fontsize="x-small")
    ax.set_xlabel(axis_label(x_col, x_unit))
    ax.set_ylabel(axis_label(y_col, y_unit))
    ax.grid(True, alpha=0.3)
    ax.legend(loc="best", fontsize="small")
    ax.set_title(f"Trade-off: {words(y_col)} against {words(x_col)} (lower is better)")
    return figure


# -------------------------------------------------------------------------------------- registry
@dataclass(frozen=True)
class FigureSpec:
    name: str   # file stem of the PNG
    title: str
    make: Callable[[object], Figure]  # run -> Figure, or raises Skip


FIGURES: tuple[FigureSpec, ...] = (
    FigureSpec("facility_power", "Facility power by component", lambda r: facility_power_figure(r.timeseries)),
    FigureSpec("pue_weather", "PUE and outdoor temperature", lambda r: pue_weather_figure(r.timeseries)),
    FigureSpec("carbon", "Carbon intensity and emissions", lambda r: carbon_figure(r.timeseries)),
    FigureSpec("water", "Water consumption", lambda r: water_figure(r.timeseries)),
    FigureSpec("cost", "Electricity price and cost", lambda r: cost_figure(r.timeseries)),
    FigureSpec("jobs", "Energy and carbon per job", lambda r: jobs_figure(r.jobs)),
    FigureSpec("latency", "Latency distributions", lambda r: latency_figure(r.requests)),
    FigureSpec("energy_per_token", "Energy per token against load",
               lambda r: energy_per_token_figure(r.timeseries, r.requests)),
    FigureSpec("sweep_metrics", "Metrics by point", sweep_bars_figure),
    FigureSpec("pareto", "Pareto scatter", pareto_figure),
)


def make_figures(run) -> tuple[list[Made], list[Skipped]]:
    """Every figure the run's data allows; the others with the reason they were skipped."""
    made, skipped = [], []
    for spec in FIGURES:
        try:
            made.append(Made(spec.name, spec.title, spec.make(run)))
        except Skip as reason:
            skipped.append(Skipped(spec.name, spec.title, str(reason)))
    return made, skipped


def png_bytes(figure: Figure) -> bytes:
    import io

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


def write_figures(made: list[Made], out_dir: Path) -> list[Path]:
    """Each figure as <out_dir>/<name>.png, written under a temporary name and renamed into place."""
    import os

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for item in made:
        path = out_dir / f"{item.name}.png"
        tmp = out_dir / f".{item.name}.png.tmp-{os.getpid()}"
        try:
            tmp.write_bytes(png_bytes(item.figure))
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
        paths.append(path)
    return paths
