"""`python -m sim compare`: one row per policy on the same scenario and seed, differences from the baseline."""

import math

import pandas as pd
import pyarrow.parquet as pq
import pytest

from sim.output.comparison import COMPARE_METRICS, format_table, markdown_table, with_deltas

from helpers import run_cli

SCENARIO = """
[scenario]
name = "compare-test"
seed = 4
start = 2023-06-01T00:00:00Z

[cluster]
node = "dgx-h100"
nodes = 4

[facility]
pue = 1.25

[grid]
carbon_intensity_g_per_kwh = 300

[[queue.jobs]]
name = "wide"
gpus = 32
duration = "3h"

[[queue.jobs]]
name = "short"
gpus = 8
duration = "1h"
submit_at = "10min"

[[queue.jobs]]
name = "mid"
gpus = 16
duration = "2h"
submit_at = "20min"

[compare]
policies = ["fifo", "sjf", "capped"]

[compare.variants.capped]
policies = "fifo+static_cap"
set = ["policies.static_cap.gpu_cap_w=300"]
"""


@pytest.fixture
def scenario_file(tmp_path):
    path = tmp_path / "cmp.toml"
    path.write_text(SCENARIO, encoding="utf-8")
    return path


def test_compare_writes_the_table_with_differences_from_the_baseline(scenario_file, tmp_path):
    out = tmp_path / "out"
    done = run_cli("compare", str(scenario_file), "--policy", "fifo", "--policy", "easy_backfill",
                   "--policy", "sjf+power_down", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert "baseline fifo" in done.stdout and "easy_backfill" in done.stdout
    table = pq.read_table(out / "compare.parquet").to_pandas()
    assert list(table["policy"]) == ["fifo", "easy_backfill", "sjf+power_down"]
    for column in COMPARE_METRICS:
        assert table[f"{column.name}_delta"].iloc[0] == 0 or math.isnan(table[f"{column.name}_delta"].iloc[0])
        delta = table[column.name] - table[column.name].iloc[0]
        assert (table[f"{column.name}_delta"].fillna(0) == delta.fillna(0)).all()
    base = table["facility_energy_kwh"].iloc[0]
    assert table["facility_energy_kwh_delta_pct"].iloc[2] == pytest.approx(
        100 * (table["facility_energy_kwh"].iloc[2] - base) / base)
    csv = pd.read_csv(out / "compare.csv")
    assert list(csv["policy"]) == list(table["policy"])
    assert (out / "jobs.parquet").is_file()
    jobs = pq.read_table(out / "jobs.parquet").to_pandas()
    assert set(jobs["policy"]) == set(table["policy"]) and len(jobs) == 9
    # the same scenario and seed: the same horizon for every row
    assert table["simulated_s"].nunique() == 1
    # easy backfill lets 'short' and 'mid' through while 'wide' runs... fifo makes them wait
    assert table["mean_wait_s"].iloc[1] <= table["mean_wait_s"].iloc[0]


def test_compare_uses_the_scenario_table_and_its_variants(scenario_file, tmp_path):
    out = tmp_path / "out"
    done = run_cli("compare", str(scenario_file), "--out", str(out))
    assert done.returncode == 0, done.stderr
    table = pq.read_table(out / "compare.parquet").to_pandas()
    assert list(table["policy"]) == ["fifo", "sjf", "capped"]
    # the capped variant's jobs ran slower (300 W per GPU)
    jobs = pq.read_table(out / "jobs.parquet").to_pandas()
    assert (jobs[jobs["policy"] == "capped"]["mean_clock_ratio"] < 1).all()


def test_compare_refuses_to_overwrite_and_names_unknown_policies(scenario_file, tmp_path):
    out = tmp_path / "out"
    assert run_cli("compare", str(scenario_file), "--policy", "fifo", "--out", str(out)).returncode == 0
    again = run_cli("compare", str(scenario_file), "--policy", "fifo", "--out", str(out))
    assert again.returncode == 2 and "--force" in again.stderr
    assert run_cli("compare", str(scenario_file), "--policy", "fifo", "--out", str(out), "--force").returncode == 0
    bad = run_cli("compare", str(scenario_file), "--policy", "fifo", "--policy", "lottery", "--out", str(tmp_path / "x"))
    assert bad.returncode == 2
    assert "unknown policy 'lottery'" in bad.stderr and "easy_backfill" in bad.stderr and "capped" in bad.stderr
    assert not (tmp_path / "x").exists()


def test_printed_and_markdown_tables_show_the_percentages():
    rows = [{"policy": "a", **{c.name: 100.0 for c in COMPARE_METRICS}},
            {"policy": "b", **{c.name: 90.0 for c in COMPARE_METRICS}}]
    rows[0]["slo_attainment"] = rows[1]["slo_attainment"] = math.nan
    text = format_table(rows)
    assert "(-10.0%)" in text and "SLO" not in text
    md = markdown_table(rows)
    assert md.splitlines()[0].startswith("| policy |") and "(-10.0%)" in md
    assert with_deltas(rows)[1]["carbon_kg_delta"] == -10.0


def test_rows_run_side_by_side_give_the_same_files_as_one_at_a_time(scenario_file, tmp_path):
    one, two = tmp_path / "one", tmp_path / "two"
    assert run_cli("compare", str(scenario_file), "--out", str(one), "--workers", "1").returncode == 0
    done = run_cli("compare", str(scenario_file), "--out", str(two), "--workers", "3")
    assert done.returncode == 0, done.stderr
    for name in ("compare.parquet", "compare.csv", "jobs.parquet"):
        assert (one / name).read_bytes() == (two / name).read_bytes(), name
    bad = run_cli("compare", str(scenario_file), "--out", str(tmp_path / "x"), "--workers", "0")
    assert bad.returncode == 2 and "--workers 0" in bad.stderr and not (tmp_path / "x").exists()
