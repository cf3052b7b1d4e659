"""Capacity search: the bisection finds what a brute-force sweep over the same axis finds, in far fewer runs."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.errors import SimInputError
from sim.experiments.capacity import CapacityGoal, IntervalSearch, build_goal, run_capacity
from sim.experiments.executors import ProcessExecutor, SerialExecutor
from sim.experiments.runner import run_sweep
from sim.experiments.spec import load_spec, load_sweep
from helpers import REPO, run_cli
from sweep_fixtures import read_points, write_sweep


# ------------------------------------------------------------------------------------------ the search alone
def drive(search: IntervalSearch, meets, k: int) -> int:
    """Run the search against a predicate; return the number of evaluations."""
    evaluations = 0
    while not search.done:
        probes = search.probes(k)
        assert probes, "a search that is not done must ask for something"
        for value in probes:
            assert search.low <= value <= search.high
            search.record(value, meets(value))
            evaluations += 1
    return evaluations


@settings(max_examples=300, deadline=None)
@given(low=st.integers(-50, 50), size=st.integers(1, 400), data=st.data(), k=st.sampled_from([1, 2, 3, 7]),
       find=st.sampled_from(["smallest", "largest"]))
def test_the_search_finds_the_boundary_of_any_monotone_predicate(low, size, data, k, find):
    high = low + size - 1
    threshold = data.draw(st.integers(low - 1, high + 1))
    if find == "smallest":  # false below the threshold, true from it on
        meets = lambda v: v >= threshold  # noqa: E731
        expected = min((v for v in range(low, high + 1) if meets(v)), default=None)
    else:  # true up to the threshold, false above
        meets = lambda v: v <= threshold  # noqa: E731
        expected = max((v for v in range(low, high + 1) if meets(v)), default=None)
    search = IntervalSearch(low, high, find)
    evaluations = drive(search, meets, k)
    assert search.answer == expected
    assert search.monotone
    if k == 1:  # both ends, then one value per round: bisection
        assert evaluations <= 2 + math.ceil(math.log2(max(size - 1, 1)))


def test_a_non_monotone_result_is_reported_and_the_answer_is_a_boundary():
    search = IntervalSearch(0, 20)
    for value, ok in ((0, False), (20, True), (10, False), (5, True)):
        search.record(value, ok)
    assert not search.monotone  # 5 meets the target, 10 does not
    drive(search, lambda v: v >= 15 or v in (5, 6), 1)
    assert search.answer in (5, 15) and not search.monotone


# ------------------------------------------------------------------------------------------ on the simulator
# The job uses the whole cluster (follow), so its duration falls strictly as cluster.gpus grows.
SWEEP = """
[sweep]
name = "cap"
[axes]
"cluster.node" = ["dgx-a100", "dgx-h100"]
"cluster.gpus" = { start = 1, stop = 40 }
[follow]
"jobs.0.gpus" = "cluster.gpus"
[set]
"output.interval" = "1d"
"""


@pytest.fixture(scope="module")
def brute_force(tmp_path_factory):
    """Every value of the axis, run: the answer by inspection."""
    folder = tmp_path_factory.mktemp("capacity")
    spec = load_sweep(write_sweep(folder, SWEEP))
    with ProcessExecutor(2) as executor:
        run_sweep(spec, folder / "brute", executor, progress=False)
    points = read_points(folder / "brute")
    assert (points["status"] == "ok").all()
    return spec, points


def brute_answer(points, node, metric, target, direction, find):
    rows = points[points["cluster.node"] == node]
    ok = rows[rows[metric] <= target] if direction == "le" else rows[rows[metric] >= target]
    if ok.empty:
        return None
    return int(ok["cluster.gpus"].min() if find == "smallest" else ok["cluster.gpus"].max())


def test_capacity_search_equals_brute_force_over_the_same_axis(brute_force, tmp_path):
    spec, points = brute_force
    metric = "jobs.train.duration_s"
    h100 = points[points["cluster.node"] == "dgx-h100"].set_index("cluster.gpus")[metric]
    cases = [
        (float(h100[23]), "le", "smallest"),          # exactly a run's value: that run meets it
        (float(h100[23]) * 1.001, "le", "smallest"),  # between two runs
        (float(h100.min()) / 2, "le", "smallest"),    # not met even with 40 GPUs
        (float(h100.max()) * 2, "le", "smallest"),    # met with one GPU
        (float(h100[11]), "ge", "largest"),           # the most GPUs that still take at least this long
    ]
    for target, direction, find in cases:
        goal = CapacityGoal(key="cluster.gpus", metric=metric, target=target, direction=direction, find=find,
                            low=1, high=40)
        report = run_capacity(spec, goal, tmp_path / f"search-{target}-{direction}", SerialExecutor(), progress=False)
        for result in report.results:
            node = dict(result.settings)["cluster.node"]
            expected = brute_answer(points, node, metric, target, direction, find)
            assert result.answer == expected, (node, target, direction, find)
            assert result.status == ("found" if expected is not None else "not met")
            assert result.runs <= 2 + math.ceil(math.log2(39))  # against 40 runs by brute force
            if expected is not None:
                row = points[(points["cluster.node"] == node) & (points["cluster.gpus"] == expected)].iloc[0]
                assert result.metric_value == row[metric]
                assert result.at_answer["carbon_kg"] == row["carbon_kg"]
                assert result.at_answer["facility_energy_kwh"] == row["facility_energy_kwh"]


def test_a_search_reuses_the_points_of_the_sweep(brute_force, tmp_path):
    """In the sweep's own directory, every probe is already done: nothing runs again."""
    spec, points = brute_force
    out = tmp_path / "shared"
    run_sweep(spec, out, SerialExecutor(), progress=False)
    stamps = {p: p.stat().st_mtime_ns for p in out.rglob("point.json")}
    goal = build_goal(spec, key="cluster.gpus", metric="jobs.train.duration_s", target="1h", direction="le")
    assert (goal.low, goal.high) == (1, 40)  # the axis gives the range
    report = run_capacity(spec, goal, out, SerialExecutor(), progress=False)
    assert {p: p.stat().st_mtime_ns for p in out.rglob("point.json")} == stamps
    assert {r.status for r in report.results} == {"found"}
    assert (out / "points.parquet").exists() and (out / "capacity_points.parquet").exists()


def test_goal_errors_name_the_option(brute_force, tmp_path):
    spec, _ = brute_force
    with pytest.raises(SimInputError, match="capacity.metric .or --metric. is required"):
        build_goal(spec, key="cluster.gpus", target=1, direction="le")
    with pytest.raises(SimInputError, match="--target 'soon': expected a number"):
        build_goal(spec, key="cluster.gpus", metric="carbon_kg", target="soon", direction="le")
    with pytest.raises(SimInputError, match="give --low and --high"):
        build_goal(spec, key="cluster.node", metric="carbon_kg", target=1, direction="le")
    goal = build_goal(spec, key="cluster.gpus", metric="jobs.train.duration_s", target="2h", direction="le")
    assert goal.target == 7200.0
    with pytest.raises(SimInputError, match="--metric 'jobs.train.duration': not in the summary; did you mean"):
        bad = CapacityGoal("cluster.gpus", "jobs.train.duration", 1.0, "le", "smallest", 1, 4)
        run_capacity(spec, bad, tmp_path / "bad", SerialExecutor(), progress=False)


def test_a_metric_without_a_value_does_not_meet_the_target(brute_force, tmp_path):
    spec, points = brute_force
    assert points["carbon_marginal_kg"].isna().all()  # no marginal-intensity signal in these runs
    goal = CapacityGoal("cluster.gpus", "carbon_marginal_kg", 1e12, "le", "smallest", 1, 4)
    report = run_capacity(spec, goal, tmp_path / "none", SerialExecutor(), progress=False)
    assert [r.status for r in report.results] == ["not met", "not met"]
    assert all(r.probes[-1][1:] == (None, False) for r in report.results)


def test_the_command_on_a_scenario_file_reports_energy_and_carbon_at_the_answer(tmp_path):
    write_sweep(tmp_path, "")
    result = run_cli("capacity", str(tmp_path / "base.toml"), "--key", "cluster.gpus", "--metric", "simulated_s",
                     "--target", "30min", "--direction", "le", "--low", "8", "--high", "64",
                     "--follow", "jobs.0.gpus=cluster.gpus", "--out", str(tmp_path / "out"), "--workers", "1")
    assert result.returncode == 0, result.stderr
    document = json.loads((tmp_path / "out" / "capacity.json").read_text())
    (found,) = document["results"]
    assert found["status"] == "found" and found["metric_value"] <= 1800
    assert {"facility_energy_kwh", "carbon_kg", "it_energy_kwh"} <= set(found["at_answer"])
    smaller = [p for p in found["probes"] if p["value"] == found["answer"] - 1]
    assert all(not p["meets"] for p in smaller)
    assert f"cluster.gpus = {found['answer']}" in result.stdout and "CO2e" in result.stdout


def test_capacity_on_a_latency_percentile_equals_brute_force(tmp_path):
    """The inference summary's p99 TTFT is one more metric: the fewest replicas meeting an SLO on it."""
    path = tmp_path / "chat.toml"
    path.write_text(f"""
base = "{REPO / 'scenarios' / 'inference-small.toml'}"
[sweep]
name = "chat"
unset = ["cluster.nodes"]
[axes]
"services.0.replicas" = {{ start = 1, stop = 8 }}
[follow]
"cluster.gpus" = "services.0.replicas"
[set]
"services.0.arrivals.rate_per_s" = 12.0
"services.0.duration" = "2min"
""")
    spec = load_sweep(path)
    run_sweep(spec, tmp_path / "brute", SerialExecutor(), progress=False)
    points = read_points(tmp_path / "brute")
    metric = "services.chat-7b.ttft_p99_s"
    ttft = points.set_index("services.0.replicas")[metric]
    assert ttft[1] > 10 and ttft[8] < 0.5  # one replica is overloaded, eight are not
    for target in (0.5, float(ttft[3]), 0.01):
        meets = [bool(ttft[r] <= target) for r in range(1, 9)]
        assert meets == sorted(meets), "the predicate must be monotone in this case"
        expected = next((r for r in range(1, 9) if meets[r - 1]), None)
        goal = CapacityGoal("services.0.replicas", metric, target, "le", "smallest", 1, 8)
        (result,) = run_capacity(spec, goal, tmp_path / f"search-{target}", SerialExecutor(), progress=False).results
        assert result.answer == expected, (target, ttft.to_dict())
        if expected is not None:
            assert result.metric_value == ttft[expected]
            assert result.at_answer["carbon_kg"] == points.set_index("services.0.replicas")["carbon_kg"][expected]


def test_the_example_capacity_table_is_complete():
    spec = load_spec("scenarios/sweeps/gpu_type_count.toml")
    goal = build_goal(spec)
    assert (goal.key, goal.direction, goal.target, goal.low, goal.high) == ("cluster.gpus", "le", 3 * 86400, 8, 1024)
