"""Failures planned ahead (`TrainingJob._plan_ahead`, sim/workloads/training.py): a job that takes the failures needing
nothing from outside it (a spare at hand) several to an event gives the run it gives with one event per failure: the
same failures at the same instants, the same restarts, lost work and checkpoints, and the same energy to rounding.
Also where something cuts a horizon short: the job's network share or clock changes, a shifting policy suspends it,
the run ends inside one, or a failure finds no spare and borrows a node."""

import copy
import math

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import sim.workloads.training as training
from helpers import SCENARIOS
from sim.config.loader import read_toml, validate_scenario
from sim.engine.cyclic import CyclicPower, TimelinePower
from sim.engine.profiles import ConstantPower, PeriodicPower
from sim.engine.simulation import Simulation

LLAMA3 = read_toml(SCENARIOS / "llama3-405b.toml")
SHARED_SPINE = read_toml(SCENARIOS / "shared-spine.toml")

EXACT = ("status", "failures", "checkpoints", "suspensions")
TIMES = ("duration_s", "lost_work_s", "restart_s", "checkpoint_s", "productive_s", "iterations", "suspended_s")
ENERGY = ("gpu_kwh", "host_kwh", "storage_kwh", "network_kwh", "it_kwh", "facility_kwh", "carbon_kg", "carbon_as_run_kg",
          "carbon_run_now_kg")


def run(data: dict, ahead: bool, monkeypatch) -> Simulation:
    """The scenario with failures planned ahead (the default), or one event per failure (none planned ahead)."""
    with monkeypatch.context() as patch:
        if not ahead:
            patch.setattr(training, "_FIRST_AHEAD", 0)
        sim = Simulation(validate_scenario(copy.deepcopy(data), "test.toml", None, name="test"))
        sim.result = sim.run()
    return sim


def assert_same_run(data: dict, monkeypatch) -> tuple[Simulation, Simulation]:
    each, ahead = run(data, False, monkeypatch), run(data, True, monkeypatch)
    rows_each, rows_ahead = each.result.jobs.to_pylist(), ahead.result.jobs.to_pylist()
    assert [r["job"] for r in rows_each] == [r["job"] for r in rows_ahead]
    for a, b in zip(rows_each, rows_ahead):
        for key in EXACT:
            assert a[key] == b[key], (a["job"], key)
        for key in TIMES:
            assert b[key] == pytest.approx(a[key], rel=1e-12, abs=1e-9), (a["job"], key)
        for key in ENERGY:
            assert b[key] == pytest.approx(a[key], rel=1e-9), (a["job"], key)
    for job_each, job_ahead in zip(each.jobs, ahead.jobs):
        assert job_ahead.state.failure_times_s == pytest.approx(job_each.state.failure_times_s, rel=1e-12)
        flat = [[t for restart in job.state.restarts for t in restart] for job in (job_each, job_ahead)]
        assert flat[1] == pytest.approx(flat[0], rel=1e-12)
        assert job_ahead.reloads_skipped == job_each.reloads_skipped
        assert job_ahead.state.borrowed_nodes == job_each.state.borrowed_nodes
    for key in ("facility_energy_kwh", "it_energy_kwh", "storage_energy_kwh", "carbon_kg", "failures"):
        assert ahead.result.summary[key] == pytest.approx(each.result.summary[key], rel=1e-9)
    ts_each, ts_ahead = each.result.timeseries, ahead.result.timeseries
    for column in ("gpu_kwh", "host_kwh", "storage_kwh", "facility_kwh", "carbon_kg"):
        assert ts_ahead[column].to_numpy() == pytest.approx(ts_each[column].to_numpy(), rel=1e-9, abs=1e-9)
    return each, ahead


def test_the_llama3_run_has_the_same_failures_in_a_few_dozen_events_instead_of_one_each(monkeypatch):
    each, ahead = assert_same_run(LLAMA3, monkeypatch)
    failures = each.result.jobs.to_pylist()[0]["failures"]
    assert failures > 300
    assert each.result.summary["events"] > failures
    assert ahead.result.summary["events"] < failures / 10


def test_a_run_that_ends_inside_a_horizon_counts_only_the_failures_before_its_end(monkeypatch):
    data = copy.deepcopy(LLAMA3)
    data["scenario"]["duration"] = 9 * 86_400 + 7 * 3600 + 13 * 60  # inside a horizon
    each, ahead = assert_same_run(data, monkeypatch)
    row = ahead.result.jobs.to_pylist()[0]
    assert row["status"] == "running" and row["failures"] > 30
    end_s = ahead.result.summary["simulated_s"]
    assert max(ahead.jobs[0].state.failure_times_s) < end_s


def test_failures_that_find_no_spare_borrow_a_node_as_with_one_event_each(monkeypatch):
    data = copy.deepcopy(LLAMA3)
    data["jobs"][0]["failures"]["spare_nodes"] = 2
    data["cluster"]["gpus"] = 16_384 + 8 * 2 + 8 * 6   # six free nodes to borrow, then waits for repairs
    data["jobs"][0]["tokens"] = 15.6e12 / 4
    each, ahead = assert_same_run(data, monkeypatch)
    assert ahead.jobs[0].state.borrowed_nodes == 6
    assert ahead.jobs[0].state.failures > 100


def _failing(job: dict, gpu_mtbf: str) -> dict:
    return {**job, "failures": {"gpu_mtbf": gpu_mtbf, "spare_nodes": 2, "detection_time": "1min",
                                "replacement_time": "1min", "repair_time": "30min"},
            "checkpoint": {"interval": "young_daly", "bytes_per_parameter": 16}}


def test_network_share_changes_cut_horizons_and_give_the_same_run(monkeypatch):
    # Job B starts an hour after job A and ends before it: A re-plans twice, inside its failures planned ahead.
    data = copy.deepcopy(SHARED_SPINE)
    data["cluster"]["nodes"] = 104   # both jobs, their spares, and four nodes to borrow
    data["jobs"] = [_failing(job, "4d") for job in data["jobs"]]
    data["jobs"][1]["submit_at"] = 3600.0
    data["jobs"][1]["tokens"] = 8e9
    data["storage"] = {"capacity_tb": 1000, "read_bandwidth_bytes_per_s": 2e10, "write_bandwidth_bytes_per_s": 2e10}
    each, ahead = assert_same_run(data, monkeypatch)
    job_a = ahead.jobs[0]
    assert len(job_a.plans) >= 3                       # alone, shared, alone again
    assert job_a.state.failures > 10
    assert job_a._ahead_limit >= 1                     # interrupts shrink the horizon, never to nothing
    assert ahead.result.summary["events"] < each.result.summary["events"]


def test_power_cap_changes_cut_horizons_and_give_the_same_run(monkeypatch):
    # A power budget re-caps the GPUs when the second job starts and when it ends: the first job's clock changes.
    job = {"name": "a", "gpus": 64, "parameters": 7e9, "tokens": 6e10, "batch_tokens": 4e6, "mfu": 0.4}
    data = {
        "scenario": {"name": "caps", "seed": 3},
        "cluster": {"node": "dgx-h100", "nodes": 20},
        "facility": {"pue": 1.2},
        "grid": {"carbon_intensity_g_per_kwh": 300.0},
        "storage": {"capacity_tb": 1000, "read_bandwidth_bytes_per_s": 2e10, "write_bandwidth_bytes_per_s": 2e10},
        "policies": {"power": "power_budget", "power_budget": {"budget_w": 120_000.0}},
        "jobs": [_failing(job, "2d"), _failing({**job, "name": "b", "tokens": 1.5e10, "submit_at": 7200.0}, "2d")],
        "output": {"interval": "1h"},
    }
    each, ahead = assert_same_run(data, monkeypatch)
    job_a = ahead.jobs[0]
    assert len({clock for _, clock in job_a._clock_log}) >= 2
    assert job_a.state.failures > 10


def test_a_suspension_cuts_a_horizon_and_gives_the_same_run(monkeypatch):
    job = {"name": "a", "gpus": 64, "parameters": 7e9, "tokens": 1.2e11, "batch_tokens": 4e6, "mfu": 0.4,
           "slack": "3d", "interruptible": True}
    data = {
        "scenario": {"name": "shift", "seed": 5, "start": "2023-06-01T00:00:00Z"},
        "cluster": {"node": "dgx-h100", "nodes": 10},
        "facility": {"pue": 1.2},
        "grid": {"region": "us-california"},
        "storage": {"capacity_tb": 1000, "read_bandwidth_bytes_per_s": 2e10, "write_bandwidth_bytes_per_s": 2e10},
        "policies": {"shifting": "carbon_threshold"},
        "jobs": [_failing(job, "10d")],
        "output": {"interval": "1h"},
    }
    each, ahead = assert_same_run(data, monkeypatch)
    row = ahead.result.jobs.to_pylist()[0]
    assert row["suspensions"] >= 1 and row["failures"] > 10


# ------------------------------------------------------------------------------------------ the timeline profile
def _piece(kind: int, start_s: float, value_w: float):
    if kind == 0:
        return ConstantPower(value_w)
    periodic = PeriodicPower(start_s, (3.0, 1.5), (value_w, value_w / 4))
    return CyclicPower(start_s, 40.0, 7.0, periodic, value_w / 2)


@settings(max_examples=200, deadline=None)
@given(
    gaps=st.lists(st.floats(0.5, 200.0), min_size=1, max_size=6),
    kinds=st.lists(st.integers(0, 1), min_size=7, max_size=7),
    powers=st.lists(st.floats(0.0, 1e4), min_size=7, max_size=7),
    cuts=st.lists(st.floats(0.0, 1.0), min_size=1, max_size=8),
)
def test_a_timeline_integrates_each_piece_over_its_own_span(gaps, kinds, powers, cuts):
    starts = [10.0]
    for gap in gaps:
        starts.append(starts[-1] + gap)
    pieces = [_piece(kinds[i], starts[i], powers[i]) for i in range(len(starts))]
    end_s = starts[-1] + 150.0
    reference = TimelinePower(starts, pieces)

    def by_pieces(a: float, b: float) -> float:
        total = 0.0
        for i, piece in enumerate(pieces):
            lo = -math.inf if i == 0 else starts[i]
            hi = starts[i + 1] if i + 1 < len(starts) else math.inf
            if min(b, hi) > max(a, lo):
                total += piece.energy_j(max(a, lo), min(b, hi))
        return total

    # read forward in stretches, as the meter does: each stretch as the sum of its pieces, and all of them as the whole
    instants = [starts[0]] + sorted(starts[0] + c * (end_s - starts[0]) for c in cuts) + [end_s]
    timeline = TimelinePower(starts, pieces)
    total = 0.0
    for a, b in zip(instants, instants[1:]):
        e = timeline.energy_j(a, b)
        assert e == pytest.approx(by_pieces(a, b), rel=1e-12, abs=1e-6)
        total += e
    assert total == pytest.approx(reference.energy_j(starts[0], end_s), rel=1e-9, abs=1e-6)
    assert timeline.mean_power_w == pieces[-1].mean_power_w


def test_a_timeline_refuses_starts_out_of_order():
    with pytest.raises(ValueError, match="ascending"):
        TimelinePower([0.0, 5.0, 3.0], [ConstantPower(1.0)] * 3)
    with pytest.raises(ValueError, match="one start per profile"):
        TimelinePower([0.0], [])


# ------------------------------------------------------------------------------------------ any small job
@settings(max_examples=12, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    gpu_mtbf_d=st.floats(0.5, 20.0),
    spares=st.integers(0, 3),
    free_nodes=st.integers(0, 2),
    repair_h=st.floats(0.2, 48.0),
    checkpoint=st.sampled_from(["young_daly", "20min", "none"]),
    storage=st.booleans(),
    duration_h=st.one_of(st.none(), st.floats(5.0, 60.0)),
)
def test_any_small_job_runs_the_same_with_failures_planned_ahead(seed, gpu_mtbf_d, spares, free_nodes, repair_h,
                                                                   checkpoint, storage, duration_h):
    # Without checkpoints each failure starts the ~14 h job over: a few expected restarts, not e^(14 h / MTBF).
    assume(checkpoint != "none" or gpu_mtbf_d > 10.0)
    job = {"name": "j", "gpus": 64, "parameters": 7e9, "tokens": 3e10, "batch_tokens": 4e6, "mfu": 0.4,
           "failures": {"gpu_mtbf": gpu_mtbf_d * 86_400, "spare_nodes": spares, "detection_time": "2min",
                        "replacement_time": "3min", "repair_time": repair_h * 3600, "seed": seed},
           "checkpoint": {"interval": checkpoint, "bytes_per_parameter": 16}}
    data = {
        "scenario": {"name": "any", "seed": seed},
        "cluster": {"node": "dgx-h100", "nodes": 8 + spares + free_nodes},
        "facility": {"pue": 1.3},
        "grid": {"carbon_intensity_g_per_kwh": 250.0},
        "jobs": [job],
        "output": {"interval": "1h"},
    }
    if storage:
        data["storage"] = {"capacity_tb": 500, "read_bandwidth_bytes_per_s": 1e10, "write_bandwidth_bytes_per_s": 1e10}
    if duration_h is not None:
        data["scenario"]["duration"] = duration_h * 3600
    with pytest.MonkeyPatch.context() as monkeypatch:
        assert_same_run(data, monkeypatch)
