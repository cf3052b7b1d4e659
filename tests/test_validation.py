"""Validation against published figures (issue 10): every check within its stated tolerance, the README's
table is the command's table, and the machinery (arithmetic mode, variants, table errors) does what it says."""

from __future__ import annotations

import math
import re
import tomllib

import pytest

from helpers import REPO, SCENARIOS, run_cli
from sim.catalog.hardware import gpu_catalog
from sim.cli import main
from sim.config import load_scenario
from sim.engine.simulation import Simulation
from sim.errors import ScenarioError, SimInputError
from sim.units import J_PER_KWH, S_PER_DAY
from sim.validation import format_markdown, load_table, run_validation
from sim.validation.report import COUNTEREXAMPLE, FAIL, INFO, NOT_MODELLED, PASS

VALIDATION = SCENARIOS / "validation"
TABLE = VALIDATION / "published.toml"
README_TABLE = re.compile(r"<!-- validation-table:begin -->\n(.*?)\n<!-- validation-table:end -->", re.S)


@pytest.fixture(scope="module")
def report():
    return run_validation(load_table(TABLE))


def test_every_check_is_within_its_tolerance(report):
    failures = [f"{r.case} {r.quantity} ({r.mode}): {r.error_pct:+.2f}% vs ±{r.tolerance_pct}%" for r in report.failures]
    assert not failures, "out of tolerance:\n" + "\n".join(failures)
    assert report.count(PASS) >= 20
    assert report.wall_s < 30, "the validation must run in well under a minute"


def test_every_case_with_a_scenario_ran_and_every_scenario_belongs_to_a_case(report):
    scenario_ids = {p.stem for p in VALIDATION.glob("*.toml")} - {"published"}
    assert set(report.cases_run) == scenario_ids
    assert {"patterson2021_gpt3_175b", "luccioni2022_bloom_176b_training", "touvron2023_llama1_65b",
            "writeup_dimensional_error_one_gpu_10_days"} <= scenario_ids


def test_the_readme_table_is_the_commands_table(report):
    match = README_TABLE.search((REPO / "README.md").read_text(encoding="utf-8"))
    assert match, "README.md lacks the validation table markers"
    assert match.group(1) == format_markdown(report.rows), (
        "README table is stale: regenerate it with `python -m sim validate --markdown`"
    )


def test_arithmetic_cases_show_the_physically_modelled_figure_beside(report):
    for case in {r.case for r in report.rows if r.kind == "arithmetic" and r.result == PASS}:
        modes = {r.mode for r in report.rows if r.case == case and r.result == INFO}
        assert "general model" in modes, f"{case}: no physically modelled figure beside the arithmetic one"


def test_embodied_carbon_is_reported_as_not_modelled_never_as_a_pass(report):
    bloom = {r.quantity: r for r in report.rows if r.case == "luccioni2022_bloom_176b_training"}
    assert bloom["embodied_carbon_t"].result == NOT_MODELLED
    assert bloom["embodied_carbon_t"].simulated is None
    assert bloom["total_carbon_t"].result == NOT_MODELLED
    # the dynamic part is GPU-hours x TDP exactly: 1,082,990 h x 400 W
    assert bloom["dynamic_energy_kwh"].simulated == pytest.approx(1_082_990 * 0.400, rel=1e-4)


def test_the_writeup_figure_is_power_times_time_and_its_claim_a_counterexample(report):
    rows = {(r.quantity, r.mode): r for r in report.rows if r.case == "writeup_dimensional_error_one_gpu_10_days"}
    # 300 W x 10 days = 300 x 864,000 J = 72 kWh
    assert rows["energy_kwh", "as published"].simulated == pytest.approx(300 * 10 * S_PER_DAY / J_PER_KWH, rel=1e-12)
    claimed = rows["energy_kwh_claimed", "as published"]
    assert claimed.result == COUNTEREXAMPLE
    # the claim is off by a factor of 2e6, of which 1.2e8 is the spurious parameter count
    assert claimed.published / claimed.simulated == pytest.approx(2.0e6)


def test_the_scenarios_state_the_published_inputs():
    """Each scenario's chips, PUE, grid factor, measured power and throughput are the table's inputs."""
    checked = 0
    for case in tomllib.loads(TABLE.read_text(encoding="utf-8"))["case"]:
        path = VALIDATION / f"{case['id']}.toml"
        if not path.is_file():
            continue
        inputs, scenario = case["inputs"], load_scenario(path)
        job = scenario.jobs[0]
        expect = {
            "accelerator_count": job.gpus,
            "pue": scenario.facility.pue,
            "measured_system_power_per_accelerator_w": job.measured_power_w_per_gpu,
            "measured_flops_per_s_per_accelerator": job.achieved_flop_per_s_per_gpu,
            "total_flop": job.flop,
            "grid_intensity_kg_per_kwh": scenario.grid.carbon_intensity_g_per_kwh / 1000,
            "grid_intensity_gross_kg_per_kwh": scenario.grid.carbon_intensity_g_per_kwh / 1000,
            "grid_intensity_g_per_kwh": scenario.grid.carbon_intensity_g_per_kwh,
            "accelerator_tdp_w": scenario.cluster.node_spec().gpu.tdp_w,
            "accelerator_power_w": scenario.cluster.node_spec().gpu.tdp_w,
        }
        for key, simulated in expect.items():
            if key in inputs:
                assert simulated == pytest.approx(inputs[key]), f"{case['id']}: {key}"
                checked += 1
    assert checked >= 40


def test_no_case_has_its_own_hardware():
    """No per-case fudge: every accelerator is the catalog's entry, unchanged."""
    catalog = gpu_catalog()
    for path in sorted(VALIDATION.glob("*_*.toml")):
        gpu = load_scenario(path).cluster.node_spec().gpu
        assert catalog.get(gpu.key) == gpu, f"{path.name}: accelerator {gpu.key!r} is not a catalog entry"


def test_arithmetic_mode_is_gpu_hours_times_tdp_and_leaves_the_host_out():
    path = SCENARIOS / "quickstart.toml"
    scenario = load_scenario(path, ["jobs.0.gpu_hours_x_tdp=true", "jobs.1.gpu_hours_x_tdp=true"])
    result = Simulation(scenario).run()
    jobs = result.summary["jobs"]
    for job in jobs:
        # H100 TDP 700 W x GPU-hours, nothing on the host channel
        assert job["gpu_kwh"] == pytest.approx(job["gpu_hours"] * 700 / 1000, rel=1e-9)
        assert job["host_kwh"] == 0.0
        assert job["facility_kwh"] == pytest.approx(job["it_kwh"] * 1.2, rel=1e-9)


def test_arithmetic_mode_and_a_measured_power_cannot_both_be_given():
    with pytest.raises(ScenarioError, match="gpu_hours_x_tdp"):
        load_scenario(SCENARIOS / "gpt3.toml", ["jobs.0.measured_power_w_per_gpu=330", "jobs.0.gpu_hours_x_tdp=true"])


# ---------------------------------------------------------------------------------- the command
def test_validate_prints_the_table_and_exits_0():
    done = run_cli("validate", "--case", "touvron2023_llama1_*")
    assert done.returncode == 0, done.stderr
    header = done.stdout.splitlines()[0].split()
    assert header == ["case", "quantity", "mode", "published", "simulated", "error", "tolerance", "result", "kind"]
    assert "touvron2023_llama1_65b" in done.stdout and "patterson2021" not in done.stdout
    assert "4 cases, 9 checks: 9 pass, 0 fail" in done.stdout


def test_validate_exits_1_when_a_case_is_out_of_tolerance(tmp_path, capsys):
    case_id = "touvron2023_llama1_7b"
    (tmp_path / f"{case_id}.toml").write_text((VALIDATION / f"{case_id}.toml").read_text())
    (tmp_path / "published.toml").write_text(_one_case_table(case_id, published_mwh=40.0, tolerance_pct=2.0))
    assert main(["validate", "--table", str(tmp_path / "published.toml")]) == 1
    out = capsys.readouterr().out
    assert FAIL in out and "-9.32%" in out  # 36.27 MWh simulated vs a tampered 40: -9.3%, out of ±2%


def test_an_unknown_case_is_refused_with_the_known_ones(capsys):
    assert main(["validate", "--case", "no_such_case"]) == 2
    err = capsys.readouterr().err
    assert "no_such_case" in err and "patterson2021_gpt3_175b" in err


def _one_case_table(case_id: str, published_mwh: float, tolerance_pct: object, simulated: str = "facility_energy",
                    slow: bool = False, extra: str = "") -> str:
    return f'''
[[case]]
id = "{case_id}"
title = "test"
kind = "arithmetic"
slow = {str(slow).lower()}

[[case.output]]
quantity = "energy_mwh"
value = {published_mwh}
unit = "MWh"

[[case.check]]
output = "energy_mwh"
simulated = "{simulated}"
tolerance_pct = {tolerance_pct}
why = "test"
{extra}'''


def test_table_mistakes_are_all_reported_with_their_case(tmp_path):
    case_id = "touvron2023_llama1_7b"
    (tmp_path / f"{case_id}.toml").write_text((VALIDATION / f"{case_id}.toml").read_text())
    (tmp_path / "stray.toml").write_text("")
    extra = '''
[[case.check]]
output = "energy_mwh"
simulated = "duration"
variant = "nowhere"
why = "wrong dimension, unknown variant"
'''
    (tmp_path / "published.toml").write_text(_one_case_table(case_id, 36.0, '"2%"', simulated="joules", extra=extra))
    with pytest.raises(SimInputError) as caught:
        load_table(tmp_path / "published.toml")
    text = "\n".join(caught.value.messages)
    assert f"case {case_id}: check 0: tolerance_pct = '2%'" in text
    assert "simulated = 'joules'" in text
    assert "check 1: variant = 'nowhere'" in text
    assert "'MWh', which 'duration' (time) cannot be expressed in" in text
    assert "stray.toml: a scenario file that no case of the table names" in text


def test_fast_leaves_out_the_cases_marked_slow(tmp_path):
    case_id = "touvron2023_llama1_7b"
    (tmp_path / f"{case_id}.toml").write_text((VALIDATION / f"{case_id}.toml").read_text())
    (tmp_path / "published.toml").write_text(_one_case_table(case_id, 36.0, 2.0, slow=True))
    cases = load_table(tmp_path / "published.toml")
    assert run_validation(cases, fast=True).skipped_slow == [case_id]
    full = run_validation(cases)
    assert [r.result for r in full.rows] == [PASS]
    assert math.isclose(full.rows[0].simulated, 82_432 * 0.4 * 1.1 / 1000, rel_tol=1e-4)  # GPU-h x kW x PUE, in MWh


def test_a_variant_that_unsets_a_missing_key_is_an_error(tmp_path):
    case_id = "touvron2023_llama1_7b"
    (tmp_path / f"{case_id}.toml").write_text((VALIDATION / f"{case_id}.toml").read_text())
    extra = '''
[case.variant.model]
label = "general model"
unset = ["jobs.0.measured_power_w_per_gpu"]

[[case.check]]
output = "energy_mwh"
simulated = "facility_energy"
variant = "model"
role = "model"
why = "test"
'''
    (tmp_path / "published.toml").write_text(_one_case_table(case_id, 36.0, 2.0, extra=extra))
    with pytest.raises(ScenarioError, match=r"\[model\]: unset 'jobs.0.measured_power_w_per_gpu'"):
        run_validation(load_table(tmp_path / "published.toml"))
