"""Failures, restarts and checkpoints through the engine: Llama 3's interruption rate and effective
training time, the Young/Daly interval, and failures drawn on their own stream."""

import copy
import math

import numpy as np
import pytest

from helpers import SCENARIOS
from sim.config.loader import read_toml, validate_scenario
from sim.engine.simulation import Simulation
from sim.physics.reliability import daly_interval_s
from sim.units import J_PER_KWH, S_PER_DAY

LLAMA3 = read_toml(SCENARIOS / "llama3-405b.toml")
PUBLISHED_INTERRUPTIONS_PER_DAY = 419 / 54  # Dubey et al. 2024, Table 5


def run(data: dict) -> Simulation:
    sim = Simulation(validate_scenario(copy.deepcopy(data), "test.toml", None, name="test"))
    sim.result = sim.run()
    return sim


@pytest.fixture(scope="module")
def llama3():
    sim = run(LLAMA3)
    return sim, sim.result.jobs.to_pylist()[0]


def test_llama3_interruptions_per_day_are_within_25_percent_of_the_published_rate(llama3):
    _, row = llama3
    per_day = row["failures"] / (row["duration_s"] / S_PER_DAY)
    assert per_day == pytest.approx(PUBLISHED_INTERRUPTIONS_PER_DAY, rel=0.25)
    assert row["failures"] > 300  # a real sample, not a handful


def test_llama3_effective_training_time_is_above_90_percent(llama3):
    _, row = llama3
    assert 0.90 < row["effective_training_time_ratio"] < 1.0
    assert row["checkpoints"] > 1000 and row["lost_gpu_hours"] > 0


def test_time_adds_up_productive_lost_checkpoint_restart(llama3):
    _, row = llama3
    total = row["productive_s"] + row["lost_work_s"] + row["checkpoint_s"] + row["restart_s"]
    assert total == pytest.approx(row["duration_s"], rel=1e-9)
    assert row["lost_gpu_hours"] == pytest.approx(16_384 * (row["lost_work_s"] + row["restart_s"]) / 3600, rel=1e-12)


def test_llama3_checkpoint_size_write_time_and_daly_interval(llama3):
    sim, row = llama3
    st = sim.jobs[0].state
    assert st.checkpoint_bytes == 405e9 * 16  # 6.48 TB
    assert st.checkpoint_write_s == pytest.approx(6.48e12 / 2e12)  # Tectonic 2 TB/s sustained
    mtbf_s = 1 / (16_384 / (16_384 * 54 * S_PER_DAY / 419))
    assert row["checkpoint_interval_s"] == pytest.approx(daly_interval_s(3.24, mtbf_s))
    # every committed checkpoint paused training for its write; failures may cut one short
    assert row["checkpoint_s"] == pytest.approx(row["checkpoints"] * 3.24, rel=0.01)


def test_checkpoint_writes_and_dataset_reads_cost_energy_per_byte():
    data = copy.deepcopy(LLAMA3)
    job = data["jobs"][0]
    job["failures"]["enabled"] = False
    job["checkpoint"]["interval"] = "1h"
    job["tokens"] = 15.6e12 / 20
    with_io = run(data)
    job["checkpoint"]["interval"] = "none"
    job["dataset_bytes_per_token"] = 0.0
    without = run(data)
    row = with_io.result.jobs.to_pylist()[0]
    tier = with_io.storage.tier
    checkpoints_j = row["checkpoints"] * 6.48e12 * tier.write_energy_j_per_byte
    reads_j = 15.6e12 / 20 * 4 * tier.read_energy_j_per_byte
    idle_j = tier.idle_power_w * (row["duration_s"] - without.result.jobs.to_pylist()[0]["duration_s"])
    extra_kwh = with_io.result.summary["storage_energy_kwh"] - without.result.summary["storage_energy_kwh"]
    assert extra_kwh == pytest.approx((checkpoints_j + reads_j + idle_j) / J_PER_KWH, rel=1e-9)
    assert row["checkpoints"] == math.floor(without.result.jobs.to_pylist()[0]["duration_s"] / 3600)


def test_asynchronous_checkpoints_do_not_pause_training():
    data = copy.deepcopy(LLAMA3)
    job = data["jobs"][0]
    job["failures"]["enabled"] = False
    job["tokens"] = 15.6e12 / 50
    job["checkpoint"] = {"interval": "10min", "asynchronous": True}
    sync = copy.deepcopy(data)
    sync["jobs"][0]["checkpoint"]["asynchronous"] = False
    a, s = run(data).result.jobs.to_pylist()[0], run(sync).result.jobs.to_pylist()[0]
    assert a["checkpoint_s"] == 0.0 and a["duration_s"] == pytest.approx(a["iterations"] * a["iteration_s"])
    assert s["duration_s"] == pytest.approx(a["duration_s"] + s["checkpoints"] * 3.24, rel=1e-9)
    # training goes on during a background write; the next snapshot comes one interval after it ends
    assert a["checkpoints"] == math.floor(a["duration_s"] / (600 + 3.24))
    assert s["checkpoints"] == math.floor(s["duration_s"] / (600 + 3.24))


# ----------------------------------------------------------------------------- Young / Daly sweep
def sweep_scenario(interval) -> dict:
    """16 GPUs failing every hour on average, a 60 s checkpoint, ~500 failures: the cost of an interval
    is visible above the noise, and every run sees the same failures (same stream)."""
    return {
        "cluster": {"node": "dgx-h100", "nodes": 3},
        "network": {"enabled": False},
        "storage": {"write_bandwidth_bytes_per_s": 1e9 * 16 / 60, "read_bandwidth_bytes_per_s": 1e12},
        "jobs": [{
            "name": "sweep", "gpus": 16, "parameters": 1e9, "tokens": 3.2e12, "batch_tokens": 4e6,
            "achieved_flop_per_s_per_gpu": 4e14,
            "checkpoint": {"interval": interval},
            "failures": {"gpu_mtbf": "16h", "detection_time": "1min", "replacement_time": "1min",
                         "spare_nodes": 1, "repair_time": "1min"},
        }],
        "output": {"interval": "1d"},
    }


def test_the_young_daly_interval_minimises_lost_plus_checkpoint_time_in_a_sweep():
    optimum = run(sweep_scenario("young_daly"))
    tau = optimum.jobs[0].state.checkpoint_interval_s
    assert tau == pytest.approx(daly_interval_s(60.0, 3600.0))
    cost = {}
    for factor in (0.25, 0.5, 1.0, 2.0, 4.0):
        row = run(sweep_scenario(tau * factor)).result.jobs.to_pylist()[0]
        assert row["failures"] > 300
        cost[factor] = row["lost_work_s"] + row["checkpoint_s"]
    assert min(cost, key=cost.get) == 1.0
    assert cost[0.5] > 1.1 * cost[1.0] and cost[2.0] > 1.1 * cost[1.0]
    young_daly = optimum.result.jobs.to_pylist()[0]
    assert young_daly["lost_work_s"] + young_daly["checkpoint_s"] == pytest.approx(cost[1.0], rel=1e-9)


# ------------------------------------------------------------------------------- failure streams
def two_jobs(failure_seed: int) -> dict:
    job = {"parameters": 7e9, "tokens": 2e11, "batch_tokens": 4e6, "mfu": 0.4}
    return {
        "cluster": {"node": "dgx-h100", "nodes": 16},
        "jobs": [
            {"name": "failing", "gpus": 64, **job,
             "failures": {"gpu_mtbf": "30d", "seed": failure_seed, "detection_time": "5min"}},
            {"name": "steady", "gpus": 64, **job},
        ],
        "output": {"interval": "15min"},
    }


# What failures cannot change: the job's identity, its work and its plan.
NOT_FAILURE_DRIVEN = ("job", "kind", "status", "gpus", "nodes", "submitted_at", "started_at", "wait_s", "flop",
                      "mode", "exposed_communication_s", "checkpoint_interval_s", "iterations")


def test_same_seed_same_failures():
    a, b = run(two_jobs(0)), run(two_jobs(0))
    assert a.jobs[0].state.failure_times_s == b.jobs[0].state.failure_times_s
    assert len(a.jobs[0].state.failure_times_s) >= 3
    assert a.result.timeseries.to_pandas().equals(b.result.timeseries.to_pandas())


def test_another_failure_seed_changes_only_what_failures_drive():
    a, b = run(two_jobs(0)), run(two_jobs(1))
    fa, fb = a.jobs[0].state.failure_times_s, b.jobs[0].state.failure_times_s
    assert fa != fb
    rows_a, rows_b = a.result.jobs.to_pylist(), b.result.jobs.to_pylist()
    for column in NOT_FAILURE_DRIVEN:
        assert rows_a[0][column] == rows_b[0][column], column
    assert rows_a[0]["failures"] != rows_b[0]["failures"] or rows_a[0]["lost_work_s"] != rows_b[0]["lost_work_s"]
    for column in rows_a[1]:  # the job without failures is untouched
        value_a, value_b = rows_a[1][column], rows_b[1][column]
        if isinstance(value_a, float) and math.isnan(value_a):
            assert math.isnan(value_b), column
        elif column in ("facility_kwh", "carbon_kg", "carbon_market_kg", "water_l", "water_total_l", "water_offsite_l",
                        "energy_cost_usd", "cost_usd"):
            # its share of the overhead is in proportion to IT energy in each stretch, and the overhead
            # follows the period mean of the other job's checkpoint cycle: a few parts in 10^7
            assert value_a == pytest.approx(value_b, rel=1e-5), column
        elif isinstance(value_a, float):
            assert value_a == pytest.approx(value_b, rel=1e-12), column
        else:
            assert value_a == value_b, column
    # the time series agree until the first failure of either run
    ts_a, ts_b = a.result.timeseries.to_pandas(), b.result.timeseries.to_pandas()
    first = min(fa[0], fb[0])
    rows = int(((ts_a.timestamp - ts_a.timestamp[0]).dt.total_seconds() + ts_a.interval_s <= first).sum())
    assert rows >= 4
    for column in ("gpu_kwh", "host_kwh", "network_kwh", "storage_kwh", "it_kwh", "facility_kwh", "carbon_kg"):
        np.testing.assert_allclose(ts_a[column][:rows], ts_b[column][:rows], rtol=1e-12)


# ------------------------------------------------------------------------------ spares and repair
def spares_scenario(spares: int, checkpoint: str = "young_daly", tokens: float = 1e12, mtbf: str = "30d") -> dict:
    return {
        "cluster": {"node": "dgx-h100", "nodes": 2 + spares},
        "network": {"enabled": False},
        "jobs": [{
            "name": "j", "gpus": 16, "parameters": 1e9, "tokens": tokens, "batch_tokens": 4e6, "mfu": 0.4,
            "checkpoint": {"interval": checkpoint},
            "failures": {"gpu_mtbf": mtbf, "detection_time": "2min", "replacement_time": "3min",
                         "spare_nodes": spares, "repair_time": "1d"},
        }],
        "output": {"interval": "1d"},
    }


def test_with_a_spare_the_restart_is_detection_plus_replacement_without_one_the_repair():
    spare = run(spares_scenario(4))
    st = spare.jobs[0].state
    assert st.failures >= 2
    reload_s = spare.storage.read_time_s(st.checkpoint_bytes)
    row = spare.result.jobs.to_pylist()[0]
    assert row["restart_s"] == pytest.approx(st.failures * 300.0 + reload_s * _reloads(spare), rel=1e-9)
    none = run(spares_scenario(0))
    st = none.jobs[0].state
    assert st.failures >= 2
    row = none.result.jobs.to_pylist()[0]
    reload_s = none.storage.read_time_s(st.checkpoint_bytes)  # a smaller cluster, a smaller default tier
    assert row["restart_s"] == pytest.approx(st.failures * 86_400.0 + reload_s * _reloads(none), rel=1e-9)


def _reloads(sim) -> int:
    """Restarts that had a checkpoint to reload (a failure before the first commit restarts from scratch)."""
    return sum(1 for _ in sim.jobs[0].state.failure_times_s) - sim.jobs[0].reloads_skipped


def test_a_free_node_of_the_cluster_replaces_a_failed_one():
    data = spares_scenario(0)
    data["cluster"]["nodes"] = 3  # one node more than the job needs, not reserved
    sim = run(data)
    st = sim.jobs[0].state
    assert st.failures >= 2 and st.borrowed_nodes >= 1
    row = sim.result.jobs.to_pylist()[0]
    # the first failure borrows the free node; the failed node comes back from repair as a spare
    assert row["restart_s"] < st.failures * 86_400.0


def test_failed_and_waiting_gpus_draw_idle_power():
    sim = run(spares_scenario(0, checkpoint="none", tokens=5e10, mtbf="8d"))
    job = sim.jobs[0]
    assert job.state.failures >= 2
    row = sim.result.jobs.to_pylist()[0]
    idle_w = 16 * 75.0 + 2 * 2200.0  # catalog: H100 idle 75 W; DGX H100 host idle 2,200 W
    from sim.facility.cluster import NodeGroup
    from sim.physics.power import TRAINING_COMPUTE

    busy_w = sum(NodeGroup(sim.meter, sim.cluster.node, 2, 16, "probe").phase_power_w(TRAINING_COMPUTE))
    # no checkpoints: kept and lost work both ran at training power; restarts at idle
    expected_kwh = (busy_w * (row["productive_s"] + row["lost_work_s"]) + idle_w * row["restart_s"]) / J_PER_KWH
    assert row["gpu_kwh"] + row["host_kwh"] == pytest.approx(expected_kwh, rel=1e-9)
