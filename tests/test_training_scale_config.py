"""[network], [storage] and the training-at-scale job keys: defaults that keep old scenarios running, and
every mistake reported with its TOML path."""

import math

import pytest

from sim.config import validate_scenario
from sim.errors import ScenarioError


def scenario(**job_extra) -> dict:
    job = {"name": "j", "gpus": 64, "parameters": 7e9, "tokens": 1e10, "batch_tokens": 2e6, "mfu": 0.4}
    job.update(job_extra)
    return {"cluster": {"node": "dgx-h100", "nodes": 8}, "jobs": [job]}


def predict(**extra) -> dict:
    return scenario(mfu=None, mode="predict", compute_efficiency=0.5, **extra)


def errors_of(data: dict) -> list[str]:
    data = {k: v for k, v in data.items()}
    for job in data.get("jobs", []):
        for key in [k for k, v in job.items() if v is None]:
            del job[key]
    with pytest.raises(ScenarioError) as info:
        validate_scenario(data, "s.toml", None)
    return info.value.messages


def test_defaults_keep_a_scenario_without_the_new_tables_valid():
    s = validate_scenario(scenario(), "s.toml", None)
    assert s.network is None and s.storage is None  # opt-in: nothing added to an old scenario
    data = scenario()
    data["network"], data["storage"] = {}, {}
    s = validate_scenario(data, "s.toml", None)
    assert s.network.enabled and s.network.topology == "rail_optimized" and s.network.link == "infiniband_ndr_400g"
    assert s.storage.enabled and s.storage.capacity_tb is None
    job = s.jobs[0]
    assert job.mode == "reproduce" and job.failures is None
    assert job.checkpoint.interval == "young_daly" and job.checkpoint.bytes_per_parameter == 16
    assert job.dataset_bytes_per_token == 4.0


def test_durations_and_inline_links_are_read():
    data = predict(checkpoint={"interval": "20min"}, failures={"gpu_mtbf": "2000d", "repair_time": "2d"})
    data["network"] = {"link": {"bandwidth_bytes_per_s": math.inf, "latency_s": 0}}
    s = validate_scenario(data, "s.toml", None)
    assert s.jobs[0].checkpoint.interval == 1200.0
    assert s.jobs[0].failures.gpu_mtbf == 2000 * 86_400 and s.jobs[0].failures.repair_time == 172_800
    assert s.network.link.bandwidth_bytes_per_s == math.inf


@pytest.mark.parametrize(
    "mutate, fragment",
    [
        (lambda d: d.update(network={"topology": "star"}),
         "s.toml: network.topology = 'star': expected 'fat_tree', 'rail_optimized' or 'rail_only'"),
        (lambda d: d.update(network={"link": "carrier_pigeon"}), "s.toml: network.link = 'carrier_pigeon': unknown link"),
        (lambda d: d.update(network={"switch": "hub"}), "s.toml: network.switch = 'hub': unknown switch"),
        (lambda d: d.update(network={"switch_radix": 63}), "s.toml: network.switch_radix = 63: expected an even number"),
        (lambda d: d.update(network={"oversubscription": 0.5}), "s.toml: network.oversubscription = 0.5"),
        (lambda d: d.update(network={"colour": "blue"}), "s.toml: network.colour: unknown key"),
        (lambda d: d.update(storage={"capacity_tb": -1}), "s.toml: storage.capacity_tb = -1"),
        (lambda d: d["jobs"][0].update(checkpoint={"interval": "sometimes"}), "s.toml: jobs.0.checkpoint.interval = 'sometimes'"),
        (lambda d: d["jobs"][0].update(failures={"calibration": "llama3", "gpu_mtbf": "10d"}),
         "s.toml: jobs.0.failures: give `calibration` or `gpu_mtbf`, not both"),
        (lambda d: d["jobs"][0].update(failures={"detection_time": "1min"}), "s.toml: jobs.0.failures: give `calibration"),
        (lambda d: d["jobs"][0].update(failures={"calibration": "llama2"}), "s.toml: jobs.0.failures.calibration = 'llama2'"),
        (lambda d: d["jobs"][0].update(failures={"calibration": "llama3", "spare_nodes": 1}) or d["cluster"].update(nodes=8),
         "s.toml: jobs.0.failures.spare_nodes = 1: the job's 8 nodes plus its spares exceed the cluster's 8 nodes"),
        (lambda d: d["jobs"][0].update(mode="predict"), "s.toml: jobs.0: mode = 'predict' needs `compute_efficiency`"),
        (lambda d: d["jobs"][0].update(compute_efficiency=0.5), "s.toml: jobs.0: `compute_efficiency` and `parallel` belong to mode = 'predict'"),
    ],
)
def test_errors_name_the_toml_path(mutate, fragment):
    data = scenario()
    mutate(data)
    assert any(fragment in message for message in errors_of(data)), errors_of(data)


def test_a_layout_that_does_not_multiply_to_the_gpus_is_refused_with_its_path():
    messages = errors_of(predict(parallel={"tensor": 8, "pipeline": 2, "data": 5}))
    assert any("s.toml: jobs.0.parallel: tensor 8 x pipeline 2 x data 5 = 80, not 64 GPUs" in m for m in messages)
    messages = errors_of(predict(parallel={"tensor": 3, "pipeline": 1}))
    assert any(m.startswith("s.toml: jobs.0.parallel:") for m in messages)
    messages = errors_of(predict(exposed_communication_fraction=0.2))
    assert any("drop `exposed_communication_fraction`" in m for m in messages)


def test_predict_mode_needs_an_intra_node_link_for_an_accelerator_without_a_known_one():
    data = predict()
    data["cluster"] = {"node": "tpu-v4-host", "nodes": 16}
    messages = errors_of(data)
    assert any(m.startswith("s.toml: network.intra_node_link: no NVLink generation is known for accelerator 'tpu-v4'") for m in messages)
    data["network"] = {"intra_node_link": {"bandwidth_bytes_per_s": 5e10, "latency_s": 5e-6}}
    validate_scenario(data, "s.toml", None)
