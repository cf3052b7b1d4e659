"""[[services]] in scenario files: every bad value named with its TOML path, the value and what was
expected; cross-checks against the cluster with the key to change; routers found by name."""

from __future__ import annotations

import tomllib

import pytest

from sim.config import load_scenario, validate_scenario
from sim.engine.simulation import Simulation
from sim.errors import DataFileError, ScenarioError
from sim.policies.routing import ROUTERS, make_router, router_names
from helpers import SCENARIOS, run_cli

SMALL = SCENARIOS / "inference-small.toml"


def base() -> dict:
    return tomllib.loads(SMALL.read_text())


def errors_of(data: dict, tmp_path=None) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        validate_scenario(data, "s.toml", tmp_path)
    return info.value.messages


def svc(data: dict) -> dict:
    return data["services"][0]


@pytest.mark.parametrize(
    "mutate, path, fragment",
    [
        (lambda d: svc(d).update(router="fastest"), "services.0.router = 'fastest'",
         "unknown router 'fastest'; expected one of: join_shortest_queue, least_outstanding_tokens, round_robin"),
        (lambda d: svc(d).update(model="gpt-5"), "services.0.model = 'gpt-5'", "expected one of: gpt-3-175b"),
        (lambda d: svc(d).update(precision="fp4"), "services.0.precision", "'bf16', 'fp8' or 'int4'"),
        (lambda d: svc(d).update(max_batch=0), "services.0.max_batch = 0", "greater than or equal to 1"),
        (lambda d: svc(d).update(colour="red"), "services.0.colour", "unknown key; expected one of: name, model"),
        (lambda d: svc(d)["arrivals"].update(rate_per_s=-1), "services.0.arrivals.rate_per_s = -1", "greater than or equal to 0"),
        (lambda d: svc(d)["arrivals"].update(process="bursty"), "services.0.arrivals.process = 'bursty'",
         "'poisson', 'diurnal', 'rate_file' or 'trace'"),
        (lambda d: svc(d)["arrivals"].update(peak_hour_local=14), "services.0.arrivals",
         "peak_hour_local does not apply to process 'poisson' (it takes format, rate_per_s)"),
        (lambda d: svc(d).update(prompt_tokens={"distribution": "normal", "mean_tokens": 5}),
         "services.0.prompt_tokens.distribution = 'normal'", "'fixed', 'uniform', 'lognormal', 'geometric' or 'empirical'"),
        (lambda d: svc(d).update(prompt_tokens={"distribution": "lognormal", "median_tokens": 500}),
         "services.0.prompt_tokens", "distribution 'lognormal' needs sigma"),
        (lambda d: svc(d).update(output_tokens={"distribution": "uniform", "low": 50, "high": 10}),
         "services.0.output_tokens", "need 0 <= low <= high"),
        (lambda d: svc(d).update(prompt_tokens=0), "services.0", "a prompt needs at least 1 token"),
        (lambda d: svc(d).pop("output_tokens"), "services.0", "give prompt_tokens and output_tokens"),
        (lambda d: svc(d).update(slo={"ttft_s": 0}), "services.0.slo.ttft_s = 0", "greater than 0"),
        (lambda d: svc(d).update(efficiency={"memory_bandwidth": 1.5}), "services.0.efficiency.memory_bandwidth = 1.5",
         "less than or equal to 1"),
        (lambda d: svc(d).update(name="idle"), "(top level)", "'idle' is the name of the cluster's idle pool"),
        (lambda d: svc(d).update(model={"n_layers": 2, "hidden_size": 64, "n_heads": 3, "ffn_hidden_size": 128,
                                        "vocab_size": 100, "max_context_tokens": 512, "n_kv_heads": 2}),
         "services.0.model", "n_heads 3 is not a multiple of n_kv_heads 2"),
    ],
)
def test_each_bad_service_value_is_named_with_its_path(mutate, path, fragment):
    data = base()
    mutate(data)
    messages = errors_of(data)
    assert any(path in m and fragment in m for m in messages), messages
    assert all("\n" not in m for m in messages)


@pytest.mark.parametrize(
    "mutate, path, fragment",
    [
        (lambda d: svc(d).update(tensor_parallel=3), "services.0.tensor_parallel = 3", "must divide the node's 8 GPUs"),
        (lambda d: svc(d).update(model="llama-2-70b", tensor_parallel=1), "services.0.model = 'llama-2-70b'",
         "fewer than one 4096-token context; raise tensor_parallel or lower the precision"),
        (lambda d: svc(d).update(replicas=12), "services.0.replicas = 12", "needs 2 nodes of 8 GPUs; the cluster has 1"),
        (lambda d: svc(d).update(prompt_tokens=4096), "services.0.prompt_tokens = 4096",
         "every prompt would be refused; the model's context window is 4096 tokens"),
        (lambda d: svc(d).pop("duration"), "services.0.duration", "required key is missing (or give scenario.duration)"),
        (lambda d: d["cluster"].update(node="tpu-v4-host") or svc(d).update(tensor_parallel=2),
         "services.0.tensor_parallel = 2", "no chip-to-chip link bandwidth"),
    ],
)
def test_cross_checks_name_the_key_to_change(mutate, path, fragment):
    data = base()
    mutate(data)
    messages = errors_of(data)
    assert any(path in m and fragment in m for m in messages), messages


def test_a_service_and_a_job_cannot_share_a_name():
    data = base()
    data["cluster"]["nodes"] = 2
    data["jobs"] = [{"name": "chat-7b", "gpus": 8, "parameters": 1e9, "tokens": 1e9, "batch_tokens": 1e6, "mfu": 0.4}]
    assert any("repeated: chat-7b" in m for m in errors_of(data))


def test_a_trace_gives_the_lengths(tmp_path):
    (tmp_path / "t.csv").write_text("TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:46,10,5\n")
    data = base()
    svc(data)["arrivals"] = {"process": "trace", "file": "t.csv"}
    assert any("services.0" in m and "leave out prompt_tokens and output_tokens" in m for m in errors_of(data, tmp_path))
    svc(data)["arrivals"] = {"process": "trace", "file": "missing.csv"}
    assert any("services.0.arrivals.file" in m and "file not found" in m for m in errors_of(data, tmp_path))


def test_data_file_problems_name_the_file(tmp_path):
    """A rate series that does not cover the window, a malformed trace: one line, file (and line)."""
    (tmp_path / "rate.csv").write_text("timestamp,value\n2023-06-01T12:00:00Z,1.0\n2023-06-01T12:10:00Z,2.0\n")
    data = base()
    svc(data)["arrivals"] = {"process": "rate_file", "file": "rate.csv"}
    scenario = validate_scenario(data, "s.toml", tmp_path)
    with pytest.raises(DataFileError, match=r"rate.csv: the rate series must cover the arrival window"):
        Simulation(scenario)
    (tmp_path / "t.csv").write_text("TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:46,ten,5\n")
    del svc(data)["prompt_tokens"], svc(data)["output_tokens"]
    svc(data)["arrivals"] = {"process": "trace", "file": "t.csv"}
    with pytest.raises(DataFileError, match=r"t.csv:2: ContextTokens 'ten': expected an integer >= 1"):
        Simulation(validate_scenario(data, "s.toml", tmp_path))


def test_the_cli_reports_a_bad_service_in_one_line_and_writes_nothing(tmp_path):
    out = tmp_path / "run"
    done = run_cli(str(SMALL), "--out", str(out), "--set", "services.0.router=fastest")
    assert done.returncode == 2
    assert "services.0.router = 'fastest': unknown router" in done.stderr
    assert "Traceback" not in done.stderr and not out.exists()


def test_the_cli_writes_requests_parquet_identically_for_the_same_seed(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    for out in (a, b):
        done = run_cli(str(SMALL), "--out", str(out), "--set", "services.0.duration='2min'")
        assert done.returncode == 0, done.stderr
    assert "requests.parquet" in done.stdout
    assert (a / "requests.parquet").read_bytes() == (b / "requests.parquet").read_bytes()
    assert (a / "timeseries.parquet").read_bytes() == (b / "timeseries.parquet").read_bytes()


def test_inline_model_and_precision_table_load():
    data = base()
    svc(data)["model"] = {"name": "tiny", "n_layers": 4, "hidden_size": 512, "n_heads": 8, "ffn_hidden_size": 1024,
                          "vocab_size": 32000, "max_context_tokens": 2048}
    svc(data)["precision"] = {"weights": "int4", "kv_cache": "fp8"}
    svc(data)["duration"] = "1min"
    scenario = validate_scenario(data, "s.toml", None)
    spec = scenario.services[0]
    assert spec.weights_precision == "int4" and spec.kv_cache_precision == "fp8"
    assert spec.architecture().head_dim == 64
    summary = Simulation(scenario).run().summary["services"][0]
    assert summary["completed"] > 100 and summary["model"] == "tiny (int4 weights, fp8 KV)"


# --------------------------------------------------------------------------------------------- routers
class Loads:
    def __init__(self, requests, tokens):
        self.outstanding_requests = requests
        self.outstanding_tokens = tokens


def test_routers_are_found_by_name_and_decide_as_documented():
    assert router_names() == sorted(ROUTERS) == ["join_shortest_queue", "least_outstanding_tokens", "round_robin"]
    loads = Loads([3, 1, 1, 2], [100, 900, 50, 10])
    rr = make_router("round_robin", 4)
    assert [rr.choose(loads, 1, 1) for _ in range(6)] == [0, 1, 2, 3, 0, 1]
    assert make_router("join_shortest_queue", 4).choose(loads, 1, 1) == 1        # ties: lowest index
    assert make_router("least_outstanding_tokens", 4).choose(loads, 1, 1) == 3
    with pytest.raises(ValueError, match="expected one of: join_shortest_queue, least_outstanding_tokens, round_robin"):
        make_router("random", 4)


def test_shipped_inference_scenarios_load():
    for name in ("inference-small.toml", "chat-70b.toml"):
        scenario = load_scenario(SCENARIOS / name)
        assert scenario.services and scenario.services[0].replicas >= 2
