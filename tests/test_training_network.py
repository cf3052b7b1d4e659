"""Predict mode through the engine: iteration = compute + (1 - overlap) x communication on the network
model; a shared spine is split max-min fair; the fabric's power is an always-on load."""

import copy
import math

import pytest

from helpers import SCENARIOS
from sim.config.loader import read_toml, validate_scenario
from sim.engine.simulation import Simulation
from sim.units import J_PER_KWH

H100_PEAK = 989e12  # catalog h100-sxm5-80gb, dense BF16
NVLINK4 = (3.4e-6, 4.5e11)  # network catalog: latency per step [s], bandwidth per direction [byte/s]
NDR = (9.6e-6, 5.0e10)


def run(data: dict) -> Simulation:
    sim = Simulation(validate_scenario(copy.deepcopy(data), "test.toml", None, name="test"))
    sim.result = sim.run()
    return sim


def predict_job(**extra) -> dict:
    job = {
        "name": "p", "gpus": 64, "mode": "predict", "parameters": 13e9, "tokens": 2e9, "batch_tokens": 1_048_576,
        "sequence_length": 4096, "layers": 40, "hidden_size": 5120, "compute_efficiency": 0.5,
        "overlap_fraction": 0.25, "parallel": {"tensor": 8, "pipeline": 1},
    }
    job.update(extra)
    return job


def eight_nodes(*jobs, **network) -> dict:
    return {"cluster": {"node": "dgx-h100", "nodes": 8}, "jobs": list(jobs), "network": network,
            "output": {"interval": "1h"}}


def test_predicted_iteration_is_compute_plus_exposed_alpha_beta_communication():
    sim = run(eight_nodes(predict_job()))
    job = sim.jobs[0]
    # Compute: 6 N x batch tokens at 50% of the H100 peak on 64 GPUs.
    compute_s = 6 * 13e9 * 1_048_576 / (64 * 0.5 * H100_PEAK)
    # Tensor parallel: 8 GPUs in a node, 4 ring all-reduces of b s h x 2 bytes per layer per micro-batch;
    # data parallel: 8 replicas on 8 nodes, one ring all-reduce of N / 8 x 2 bytes over the NICs.
    alpha_nv, bw_nv = NVLINK4
    alpha_ib, bw_ib = NDR
    microbatches = math.ceil(1_048_576 / 4096 / 8)
    activation = 1 * 4096 * 5120 * 2
    tp_ring = 2 * 7 * alpha_nv + 2 * 7 / 8 * activation / bw_nv
    dp_ring = 2 * 7 * alpha_ib + 2 * 7 / 8 * (13e9 / 8 * 2) / bw_ib
    comm_s = 4 * 40 * microbatches * tp_ring + dp_ring
    expected_s = compute_s + (1 - 0.25) * comm_s
    assert job.first_plan.compute_s == pytest.approx(compute_s, rel=1e-12)
    assert job.first_plan.communication_s == pytest.approx(comm_s, rel=1e-12)
    assert job.first_plan.iteration_s == pytest.approx(expected_s, rel=1e-12)
    row = sim.result.jobs.to_pylist()[0]
    assert row["iteration_s"] == pytest.approx(expected_s, rel=1e-9)
    assert row["exposed_communication_s"] == pytest.approx(0.75 * comm_s, rel=1e-12)
    assert row["duration_s"] == pytest.approx(row["iterations"] * expected_s, rel=1e-9)


def test_a_pipeline_adds_its_bubble_to_the_compute():
    base = run(eight_nodes(predict_job(overlap_fraction=1.0))).jobs[0].first_plan
    piped = run(eight_nodes(predict_job(overlap_fraction=1.0, parallel={"tensor": 8, "pipeline": 4}))).jobs[0]
    m = piped.shape.batch.microbatches  # 1,048,576 / 4,096 / 2 replicas = 128 micro-batches
    assert m == 128
    assert piped.first_plan.compute_s == pytest.approx(base.compute_s * (m + 3) / m, rel=1e-12)


def test_an_infinitely_fast_network_gives_the_compute_only_throughput():
    ideal = {"bandwidth_bytes_per_s": math.inf, "latency_s": 0.0}
    sim = run(eight_nodes(predict_job(overlap_fraction=0.0), link=ideal, intra_node_link=ideal))
    row = sim.result.jobs.to_pylist()[0]
    compute_s = 6 * 13e9 * 1_048_576 / (64 * 0.5 * H100_PEAK)
    assert row["iteration_s"] == pytest.approx(compute_s, rel=1e-12)
    assert row["exposed_communication_s"] == 0.0
    tokens_per_s = 1_048_576 / row["iteration_s"]
    assert tokens_per_s == pytest.approx(64 * 0.5 * H100_PEAK / (6 * 13e9), rel=1e-12)
    # and a real network is slower
    assert run(eight_nodes(predict_job())).jobs[0].first_plan.iteration_s > compute_s


# ------------------------------------------------------------------------------------ a shared spine
SHARED = read_toml(SCENARIOS / "shared-spine.toml")


def shared_spine(*names: str, submit_b: float = 0.0) -> dict:
    data = copy.deepcopy(SHARED)
    data["jobs"][1]["submit_at"] = submit_b
    data["jobs"] = [job for job in data["jobs"] if job["name"] in names]
    return data


def test_two_jobs_on_a_shared_spine_each_get_half_of_it_and_both_slow_down():
    together = run(shared_spine("job-a", "job-b"))
    capacity = together.fabric.design.spine_capacity_bytes_per_s
    assert capacity == pytest.approx(768 * 50e9 / 7)
    rates = {name: rate for _, name, rate in together.fabric.history if _ == 0.0}
    for name in ("job-a", "job-b"):
        assert rates[name] * 384 == pytest.approx(capacity / 2)  # each job's flows: half the spine
    alone = {name: run(shared_spine(name)) for name in ("job-a", "job-b")}
    for name, sim in alone.items():
        rate = sim.fabric.history[0][2]
        assert rate * 384 == pytest.approx(capacity)  # alone, the whole spine (below its 50 GB/s NICs)
        assert rate < 50e9
    rows = {row["job"]: row for row in together.result.jobs.to_pylist()}
    nodes, shard = 48, 7e9 * 2 / 8  # the inter-node ring of the hierarchical all-reduce: 48 nodes, N x 2 B / 8
    ring_bytes = 2 * (nodes - 1) / nodes * shard
    for name, sim in alone.items():
        alone_row = sim.result.jobs.to_pylist()[0]
        assert rows[name]["iteration_s"] > alone_row["iteration_s"] * 1.1
        assert rows[name]["duration_s"] > alone_row["duration_s"] * 1.1
        # the slowdown is exactly the inter-node ring at half the bandwidth
        extra_s = rows[name]["iteration_s"] - alone_row["iteration_s"]
        assert extra_s == pytest.approx(ring_bytes / (capacity / 2 / 384) - ring_bytes / (capacity / 384), rel=1e-9)


def test_a_job_re_plans_only_when_the_set_of_jobs_on_its_spine_changes():
    sim = run(shared_spine("job-a", "job-b", submit_b=3600.0))
    # job-a: alone, then shared from 1 h, and job-b alone again once job-a ends
    assert [(t, name) for t, name, _ in sim.fabric.history] == [
        (0.0, "job-a"), (3600.0, "job-a"), (3600.0, "job-b"), (pytest.approx(sim.jobs[0].state.finished_at_s), "job-b")
    ]
    events = sim.result.summary["events"]
    longer = shared_spine("job-a", "job-b", submit_b=3600.0)
    for job in longer["jobs"]:
        job["tokens"] *= 10
    assert run(longer).result.summary["events"] == events  # 10x the iterations, same events


def test_progress_is_kept_across_a_re_plan():
    sim = run(shared_spine("job-a", "job-b", submit_b=3600.0))
    a, b = sim.jobs
    (t0, alone), (t1, shared) = a.plans
    assert (t0, t1) == (0.0, 3600.0) and shared.iteration_s > alone.iteration_s
    rows = {row["job"]: row for row in sim.result.jobs.to_pylist()}
    # job-a: 3,600 s alone, then shared until its iterations are done
    iterations = rows["job-a"]["iterations"]
    end_a = 3600.0 + (iterations - 3600.0 / alone.iteration_s) * shared.iteration_s
    assert rows["job-a"]["duration_s"] == pytest.approx(end_a, rel=1e-9)
    # job-b: shared from 3,600 s until job-a ends, then alone again
    assert [t for t, _ in b.plans] == [3600.0, pytest.approx(end_a)]
    done_shared = (end_a - 3600.0) / shared.iteration_s
    end_b = end_a + (iterations - done_shared) * alone.iteration_s
    assert 3600.0 + rows["job-b"]["duration_s"] == pytest.approx(end_b, rel=1e-9)


# ------------------------------------------------------------------------------------- fabric power
def test_the_fabric_draws_its_power_all_the_time_and_jobs_carry_their_share():
    sim = run(shared_spine("job-a", "job-b", submit_b=3600.0))
    s = sim.result.summary
    power_w = sim.fabric.design.power_w
    assert power_w == s["network"]["power_w"] == pytest.approx(24 * 940 + 2 * 940 + (768 + 2 * 110) * 8.5)
    assert s["network_energy_kwh"] == pytest.approx(power_w * s["simulated_s"] / J_PER_KWH, rel=1e-9)
    jobs = {row["job"]: row for row in sim.result.jobs.to_pylist()}
    for name, row in jobs.items():  # 48 of the 96 nodes while it runs
        assert row["network_kwh"] == pytest.approx(power_w / 2 * row["duration_s"] / J_PER_KWH, rel=1e-9)
    ts = sim.result.timeseries.to_pandas()
    assert (ts.network_kwh > 0).all()
    assert ts.network_kwh.sum() == pytest.approx(s["network_energy_kwh"], rel=1e-9)


def test_energy_per_bit_charges_the_traffic_on_top():
    data = shared_spine("job-a")
    base = run(data)
    data["network"]["energy_per_bit_j"] = 5e-12
    charged = run(data)
    job = charged.jobs[0]
    row = charged.result.jobs.to_pylist()[0]
    # bytes per GPU per iteration x GPUs x 8 bits x 5 pJ x 3 switch hops (leaf, spine, leaf) x iterations
    expected_j = job.first_plan.internode_bytes_per_gpu * 384 * 8 * 5e-12 * 3 * row["iterations"]
    assert job.first_plan.internode_bytes_per_gpu == pytest.approx(2 * 47 / 48 * 7e9 * 2 / 8)
    extra_kwh = charged.result.summary["network_energy_kwh"] - base.result.summary["network_energy_kwh"]
    assert extra_kwh == pytest.approx(expected_j / J_PER_KWH, rel=1e-9)


def test_without_the_tables_nothing_is_added_and_an_empty_table_brings_the_defaults():
    data = {"cluster": {"node": "dgx-h100", "nodes": 4}, "jobs": [
        {"name": "r", "gpus": 32, "parameters": 1e9, "tokens": 1e9, "batch_tokens": 1e6, "mfu": 0.4}]}
    old = run(data).result.summary
    assert old["network_energy_kwh"] == 0.0 and old["storage_energy_kwh"] == 0.0
    data["network"], data["storage"] = {}, {}
    sim = run(data)
    # 32 NICs on one 64-port switch: 940 W + 32 optics of 8.5 W
    assert sim.result.summary["network"]["power_w"] == pytest.approx(940 + 32 * 8.5)
    assert sim.result.summary["network_energy_kwh"] > 0 and sim.result.summary["storage_energy_kwh"] > 0
    data["network"], data["storage"] = {"enabled": False}, {"enabled": False}
    off = run(data).result.summary
    assert off["network_energy_kwh"] == 0.0 and off["storage_energy_kwh"] == 0.0
