"""Scenario loading: typed values, every error with its TOML path, value and expectation."""

import tomllib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.config import load_scenario, validate_scenario
from sim.config.loader import apply_override, parse_override
from sim.errors import ScenarioError

REPO = Path(__file__).resolve().parents[1]
QUICKSTART = REPO / "scenarios" / "quickstart.toml"


def base() -> dict:
    return tomllib.loads(QUICKSTART.read_text())


def errors_of(data: dict, tmp_path: Path | None = None) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        validate_scenario(data, "s.toml", tmp_path)
    return info.value.messages


def test_quickstart_loads_into_typed_frozen_objects():
    scenario = load_scenario(QUICKSTART)
    assert scenario.cluster.node_spec().gpu.tdp_w == 700
    assert scenario.output.interval == 900.0
    assert scenario.jobs[1].submit_at == 1800.0
    with pytest.raises(Exception):
        scenario.cluster.nodes = 5  # frozen


@pytest.mark.parametrize(
    "mutate, path, fragment",
    [
        (lambda d: d["cluster"].update(colour="red"), "cluster.colour", "unknown key; expected one of: node, nodes, gpus"),
        (lambda d: d["cluster"].update(nodes="four"), "cluster.nodes = 'four'", "integer"),
        (lambda d: d["cluster"].update(nodes=-4), "cluster.nodes = -4", "greater than or equal to 1"),
        (lambda d: d["facility"].update(pue=0.95), "facility.pue = 0.95", "greater than or equal to 1"),
        (lambda d: d["jobs"][0].update(gpus=1000), "jobs.0.gpus = 1000", "exceeds the cluster's 32"),
        (lambda d: d["jobs"][1].update(submit_at="soon"), "jobs.1.submit_at = 'soon'", "duration"),
        (lambda d: d["cluster"].update(node="dgx-9000"), "cluster.node = 'dgx-9000'", "dgx-h100"),
        (lambda d: d.pop("cluster"), "cluster", "required key is missing"),
        (lambda d: d["grid"].update(carbon_intensity_file="missing.csv"), "grid.carbon_intensity_file", "file not found"),
        (lambda d: d["output"].update(interval="0.5s"), "output.interval", "at least 1 s, got 0.5 s"),
    ],
)
def test_each_bad_value_is_named_with_its_path(mutate, path, fragment, tmp_path):
    data = base()
    mutate(data)
    messages = errors_of(data, tmp_path)
    assert any(path in m and fragment in m for m in messages), messages
    assert all("\n" not in m for m in messages)


def test_all_errors_are_reported_together():
    data = base()
    data["cluster"]["nodes"] = 0
    data["facility"]["pue"] = 0.5
    data["scenario"]["seeed"] = 3
    messages = errors_of(data)
    assert len(messages) == 3


def test_inline_hardware_is_accepted():
    data = base()
    data["cluster"]["node"] = {
        "gpu": {"tdp_w": 500, "idle_w": 50, "peak_flop_per_s": 5e14, "hbm_bytes": 96e9,
                "hbm_bandwidth_bytes_per_s": 4e12},
        "gpus_per_node": 8, "max_power_w": 5000, "host_idle_w": 300,
    }
    scenario = validate_scenario(data, "s.toml", None)
    assert scenario.cluster.node_spec().host_max_w == 1000
    assert scenario.cluster.gpu_count == 32


def test_inline_node_whose_rating_is_below_its_gpus_is_refused():
    data = base()
    data["cluster"]["node"] = {"gpu": "h100-sxm5-80gb", "gpus_per_node": 8, "max_power_w": 5000, "host_idle_w": 0}
    assert any("cluster.node" in m and "below" in m for m in errors_of(data))


def test_set_overrides_are_validated_the_same_way():
    scenario = load_scenario(QUICKSTART, ["cluster.nodes=8", "jobs.0.mfu=0.5", "grid.carbon_intensity_g_per_kwh=20"])
    assert scenario.cluster.nodes == 8 and scenario.jobs[0].mfu == 0.5
    assert scenario.grid.carbon_intensity_g_per_kwh == 20
    with pytest.raises(ScenarioError) as info:
        load_scenario(QUICKSTART, ["cluster.nodes=-1"])
    assert "cluster.nodes = -1" in info.value.messages[0]
    with pytest.raises(ScenarioError):
        load_scenario(QUICKSTART, ["cluster.nodez=4"])


def test_override_parsing():
    assert parse_override("a.b=3") == (["a", "b"], 3)
    assert parse_override("a.0.b='x'") == (["a", 0, "b"], "x")
    assert parse_override("a=dgx-h100") == (["a"], "dgx-h100")
    data = {"jobs": [{"gpus": 1}]}
    apply_override(data, ["jobs", 0, "gpus"], 5, "jobs.0.gpus=5")
    assert data == {"jobs": [{"gpus": 5}]}
    with pytest.raises(ScenarioError):
        parse_override("novalue")


def test_unreadable_files_are_reported_not_raised(tmp_path):
    garbage = tmp_path / "garbage.toml"
    garbage.write_bytes(b"\xff\xfe\x00 not toml")
    with pytest.raises(ScenarioError, match="garbage.toml"):
        load_scenario(garbage)
    bad_toml = tmp_path / "bad.toml"
    bad_toml.write_text("[cluster\nnodes = 3")
    with pytest.raises(ScenarioError, match="invalid TOML"):
        load_scenario(bad_toml)
    with pytest.raises(ScenarioError, match="not found"):
        load_scenario(tmp_path / "absent.toml")


# ---------------------------------------------------------------- fuzzing
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-10**12, 10**12), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12), st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)


def _paths(data, prefix=()):
    if isinstance(data, dict):
        for key, value in data.items():
            yield prefix + (key,)
            yield from _paths(value, prefix + (key,))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            yield prefix + (i,)
            yield from _paths(value, prefix + (i,))


@given(data=st.data())
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_mutated_scenarios_raise_only_validation_errors(data):
    scenario = base()
    paths = list(_paths(scenario))
    for _ in range(data.draw(st.integers(1, 4))):
        path = data.draw(st.sampled_from(paths))
        node = scenario
        try:
            for part in path[:-1]:
                node = node[part]
            action = data.draw(st.sampled_from(["replace", "delete", "add"]))
            if action == "replace":
                node[path[-1]] = data.draw(scalars)
            elif action == "delete" and isinstance(node, dict):
                node.pop(path[-1], None)
            elif isinstance(node, dict):
                node[data.draw(st.text(min_size=1, max_size=8))] = data.draw(scalars)
        except (KeyError, IndexError, TypeError):
            continue
    try:
        validate_scenario(scenario, "fuzz.toml", None)
    except ScenarioError as exc:
        assert exc.messages and all(m.startswith("fuzz.toml") for m in exc.messages)


@given(raw=st.binary(max_size=200))
@settings(max_examples=200, deadline=None)
def test_garbage_bytes_raise_only_validation_errors(raw, tmp_path_factory):
    path = tmp_path_factory.mktemp("fuzz") / "s.toml"
    path.write_bytes(raw)
    with pytest.raises(ScenarioError):
        load_scenario(path)
