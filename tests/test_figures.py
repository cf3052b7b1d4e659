"""Figures: every shipped scenario gets its figures as valid PNGs whose axes state their units; figures
whose data is absent are skipped with the reason; weather, water, cooling parts, inference requests and
sweep tables are drawn when a run has them."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sim
from helpers import SCENARIOS, run_cli
from sim.cli import main
from sim.report.figures import (
    FIGURES,
    cooling_parts,
    energy_per_token_points,
    make_figures,
    pareto_front,
    write_figures,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SHIPPED = sorted(p for p in SCENARIOS.rglob("*.toml") if "sweeps" not in p.parts and p.name != "published.toml")
UNIT_IN_LABEL = re.compile(r"\(.+\)$")

# The labels a reader of each figure must find (regular expressions), units included.
EXPECTED_LABELS = {
    "facility_power": [r"^time \(UTC\)$", r"^mean power \((kW|MW|GW)\)$"],
    "pue_weather": [r"^time \(UTC\)$", r"^PUE \(facility / IT energy, 1\)$"],
    "carbon": [r"^time \(UTC\)$", r"^carbon intensity \(gCO2e/kWh\)$", r"^emissions per interval \((kg|t)CO2e\)$",
               r"^cumulative emissions \((kg|t)CO2e\)$"],
    "water": [r"^water per interval \(L\)$", r"^cumulative water \(L\)$"],
    "cost": [r"^cost per interval \(USD\)$", r"^cumulative cost \(USD\)$"],
    "jobs": [r"^facility energy \((kWh|MWh|GWh)\)$", r"^operational carbon \((kg|t)CO2e\)$"],
    "latency": [r"^latency \(s\)$", r"^requests at or below \(%\)$"],
    "energy_per_token": [r"^load \(requests/s\)$", r"^energy per output token \(J/token\)$"],
    "sweep_metrics": [r"^facility energy \((kWh|MWh|GWh)\)$", r"^carbon \((kg|t)CO2e\)$"],
    "pareto": [r"^makespan \((s|h|d)\)$", r"^carbon \((kg|t)CO2e\)$"],
}


def labels_of(figure) -> list[str]:
    return [label for ax in figure.axes for label in (ax.get_xlabel(), ax.get_ylabel()) if label]


def assert_readable(made) -> None:
    """Expected labels present, and every axis label that is there ends with its unit in brackets."""
    labels = labels_of(made.figure)
    for pattern in EXPECTED_LABELS[made.name]:
        assert any(re.search(pattern, label) for label in labels), (made.name, pattern, labels)
    for label in labels:
        assert UNIT_IN_LABEL.search(label), (made.name, label)


# ------------------------------------------------------------------------------ shipped scenarios
@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_every_shipped_scenario_gets_its_figures_as_png_with_units(path, shared_data, tmp_path):
    run = sim.run(path, {"scenario.duration": "1d"}, out=tmp_path / "run")
    made, skipped = make_figures(run)
    names = {m.name for m in made}
    assert {"facility_power", "pue_weather", "carbon"} <= names
    if run.jobs is not None and len(run.jobs):
        assert "jobs" in names
    for item in made:
        assert_readable(item)
    paths = write_figures(made, tmp_path / "figures")
    assert sorted(p.name for p in paths) == sorted(f"{n}.png" for n in names)
    for png in paths:
        assert png.read_bytes()[:8] == PNG_SIGNATURE
        assert png.stat().st_size > 5_000  # a drawn figure, not an empty canvas
    assert not list((tmp_path / "figures").glob(".*"))  # no temporary files left
    for item in skipped:
        assert item.reason  # every absent figure says why


def test_plot_command_writes_pngs_and_says_what_it_skipped(tmp_path):
    run_dir = tmp_path / "qs"
    sim.run(SCENARIOS / "quickstart.toml", out=run_dir)
    result = run_cli("plot", str(run_dir))
    assert result.returncode == 0, result.stderr
    for name in ("facility_power", "pue_weather", "carbon", "jobs"):
        png = run_dir / "figures" / f"{name}.png"
        assert png.read_bytes()[:8] == PNG_SIGNATURE
        assert str(png) in result.stdout
    assert "skipped  latency: no requests.parquet" in result.stdout
    elsewhere = tmp_path / "slides"
    assert main(["plot", str(run_dir), "--out", str(elsewhere)]) == 0  # in-process: same command, no start-up
    assert (elsewhere / "carbon.png").is_file()


def test_plot_of_a_missing_directory_is_one_line_and_exit_2(tmp_path):
    result = run_cli("plot", str(tmp_path / "nope"))
    assert result.returncode == 2
    assert result.stderr.strip() == f"error: {tmp_path / 'nope'}: no such run directory"


# ------------------------------------------------------------------- what other capabilities add
@pytest.fixture(scope="module")
def quickstart():
    return sim.run(SCENARIOS / "quickstart.toml")


def with_tables(run, **tables) -> sim.Run:
    merged = dict(run.tables)
    merged.update(tables)
    return sim.Run(summary=run.summary, scenario=run.scenario, tables=merged)


def facility_timeseries(ts: pd.DataFrame) -> pd.DataFrame:
    """The quickstart series as a cooling-plant model would write it: weather, parts, water."""
    ts = ts.copy()
    hours = np.arange(len(ts))
    ts["ambient_c"] = 18.0 + 8.0 * np.sin(hours / 10.0)
    ts["wet_bulb_c"] = ts["ambient_c"] - 5.0
    ts["cooling_chiller_kwh"] = 0.7 * ts["cooling_kwh"]
    ts["cooling_fans_kwh"] = 0.3 * ts["cooling_kwh"]
    ts["water_l"] = 1.8 * ts["it_kwh"]  # ~1.8 L/kWh, the order of magnitude of a US average WUE
    return ts


def test_footprint_columns_add_accountings_water_and_cost(shared_data):
    run = sim.run(SCENARIOS / "footprint.toml", {"scenario.duration": "1d"})
    made = {m.name: m for m in make_figures(run)[0]}
    assert {"carbon", "water", "cost"} <= set(made)
    for item in made.values():
        assert_readable(item)
    carbon_legend = [t.get_text() for t in made["carbon"].figure.axes[1].get_legend().get_texts()]
    assert {"location-based, cumulative", "market-based, cumulative", "marginal, cumulative",
            "embodied, cumulative"} <= set(carbon_legend)
    water_legend = [t.get_text() for t in made["water"].figure.axes[0].get_legend().get_texts()]
    assert water_legend[:2] == ["on site (cooling)", "off site (generation)"]
    assert "electricity price (USD/MWh)" in labels_of(made["cost"].figure)


def test_weather_water_and_cooling_parts_are_drawn_when_present(quickstart):
    run = with_tables(quickstart, timeseries=facility_timeseries(quickstart.timeseries))
    made = {m.name: m for m in make_figures(run)[0]}
    assert {"facility_power", "pue_weather", "water"} <= set(made)
    for item in made.values():
        assert_readable(item)
    labels = labels_of(made["pue_weather"].figure)
    assert "outdoor temperature (°C)" in labels
    legend = [t.get_text() for t in made["facility_power"].figure.axes[0].get_legend().get_texts()]
    assert "cooling: chiller" in legend and "cooling: fans" in legend and "cooling" not in legend


def test_cooling_parts_are_used_only_when_they_add_up_to_cooling(quickstart):
    ts = facility_timeseries(quickstart.timeseries)
    assert cooling_parts(ts) == ["cooling_chiller_kwh", "cooling_fans_kwh"]
    ts["cooling_fans_kwh"] *= 2  # no longer a breakdown of cooling_kwh
    assert cooling_parts(ts) == []


def test_without_weather_the_pue_figure_says_so(quickstart):
    made = {m.name: m for m in make_figures(quickstart)[0]}
    assert "no weather modelled" in made["pue_weather"].figure.axes[0].get_title()
    skipped = {s.name: s.reason for s in make_figures(quickstart)[1]}
    assert skipped["latency"] == "no requests.parquet"
    assert skipped["pareto"].startswith("no sweep or comparison table")


def synthetic_requests(ts: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    start = pd.Timestamp(ts["timestamp"].iloc[0])
    span_s = float(ts["interval_s"].sum())
    n = 2_000
    arrival_s = np.sort(rng.uniform(0, span_s, n))
    output_tokens = rng.integers(50, 400, n)
    return pd.DataFrame({
        "arrival_at": start + pd.to_timedelta(arrival_s, unit="s"),
        "ttft_s": rng.lognormal(-1.5, 0.5, n),
        "tpot_s": rng.lognormal(-3.5, 0.3, n),
        "latency_s": rng.lognormal(1.0, 0.6, n),
        "output_tokens": output_tokens,
        "energy_j": output_tokens * 0.4,  # 0.4 J per output token, exactly
    })


def test_inference_figures_from_requests(quickstart):
    requests = synthetic_requests(quickstart.timeseries, np.random.default_rng(7))
    run = with_tables(quickstart, requests=requests)
    made = {m.name: m for m in make_figures(run)[0]}
    assert {"latency", "energy_per_token"} <= set(made)
    for name in ("latency", "energy_per_token"):
        assert_readable(made[name])
    legend = [t.get_text() for t in made["latency"].figure.axes[0].get_legend().get_texts()]
    assert [label.split(":")[0] for label in legend] == ["TTFT", "TPOT", "latency"]


def test_energy_per_token_groups_requests_by_arrival_interval(quickstart):
    ts = quickstart.timeseries
    requests = synthetic_requests(ts, np.random.default_rng(3))
    load, j_per_token, _ = energy_per_token_points(ts, requests)
    np.testing.assert_allclose(j_per_token, 0.4)  # every request used 0.4 J/token
    assert load.sum() * float(ts["interval_s"].iloc[0]) == pytest.approx(len(requests), rel=0.02)


def test_energy_per_token_from_per_interval_columns_when_requests_lack_energy(quickstart):
    ts = quickstart.timeseries.copy()
    ts["requests"] = 90.0
    ts["output_tokens"] = ts["facility_kwh"] * 3.6e6 / 2.0  # 2 J of facility energy per token
    load, j_per_token, what = energy_per_token_points(ts, pd.DataFrame({"ttft_s": [0.1]}))
    np.testing.assert_allclose(j_per_token, 2.0)
    np.testing.assert_allclose(load, 90.0 / ts["interval_s"].to_numpy())
    assert what.startswith("facility energy")


def test_sweep_table_gives_bars_and_a_pareto_scatter(tmp_path):
    points = pd.DataFrame({
        "point": ["virginia", "quebec", "ireland", "iowa-cap"],
        "seed": [0, 0, 0, 0],
        "facility_energy_kwh": [1.20e6, 1.25e6, 1.22e6, 1.10e6],
        "carbon_kg": [4.5e5, 2.5e4, 3.4e5, 4.0e5],
        "makespan_s": [1.28e6, 1.28e6, 1.30e6, 1.45e6],
    })
    points.to_parquet(tmp_path / "points.parquet")
    run = sim.open_run(tmp_path)
    made, _ = make_figures(run)
    made = {m.name: m for m in made}
    assert set(made) == {"sweep_metrics", "pareto"}
    for item in made.values():
        assert_readable(item)
    assert [t.get_text() for t in made["sweep_metrics"].figure.axes[-1].get_xticklabels()] == list(points.point)


def test_a_comparison_csv_is_found_by_its_name(tmp_path):
    pd.DataFrame({"policy": ["fifo", "carbon-aware"], "carbon_kg": [10.0, 7.0], "mean_wait_s": [0.0, 3600.0]}
                 ).to_csv(tmp_path / "comparison.csv", index=False)
    made, _ = make_figures(sim.open_run(tmp_path))
    pareto = next(m for m in made if m.name == "pareto")
    assert labels_of(pareto.figure) == ["mean wait (s)", "carbon (kgCO2e)"]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 20), st.integers(0, 20)), min_size=1, max_size=30))
def test_pareto_front_is_exactly_the_undominated_points(points):
    x = np.array([p[0] for p in points], dtype=float)
    y = np.array([p[1] for p in points], dtype=float)
    front = pareto_front(x, y)
    for i in range(len(points)):
        dominated = any(x[j] <= x[i] and y[j] <= y[i] and (x[j] < x[i] or y[j] < y[i]) for j in range(len(points)))
        assert front[i] == (not dominated)
    assert front.any()  # a finite set always has an undominated point


def test_every_registered_figure_has_expected_labels_listed():
    assert {spec.name for spec in FIGURES} == set(EXPECTED_LABELS)
