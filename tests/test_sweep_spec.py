"""Sweep files: axes, ranges, zips and seeds expand into the stated points; every point's scenario is the
base with the same overrides `python -m sim --set` would apply; every error names its TOML path."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote, unquote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.config import load_scenario
from sim.engine.simulation import resolved_scenario_json
from sim.errors import ScenarioError
from sim.experiments.spec import (
    MAX_SEGMENT_VALUE_CHARS,
    load_spec,
    load_sweep,
    resolve_points,
    segment,
    value_text,
)
from helpers import REPO, run_cli
from sweep_fixtures import write_base, write_sweep


def errors_of(path: Path) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        spec = load_sweep(path)
        resolve_points(spec, spec.points())
    return info.value.messages


def test_product_of_axes_times_seeds_in_file_order(tmp_path):
    path = write_sweep(tmp_path, """
[sweep]
name = "grid"
seeds = 2
[axes]
"cluster.node" = ["dgx-a100", "dgx-h100"]
"facility.pue" = [1.1, 1.5, 1.9]
""")
    spec = load_sweep(path)
    points = spec.points()
    assert spec.size == len(points) == 2 * 3 * 2
    assert spec.seeds == (3, 4)  # the base's seed 3, then 4
    assert points[0].path == "cluster.node=dgx-a100/facility.pue=1.1/seed=3"
    assert points[1].path == "cluster.node=dgx-a100/facility.pue=1.1/seed=4"
    assert points[-1].path == "cluster.node=dgx-h100/facility.pue=1.9/seed=4"
    assert len({p.path for p in points}) == len(points)


def test_ranges_include_stop_and_floats_are_computed_not_accumulated(tmp_path):
    path = write_sweep(tmp_path, """
[sweep]
name = "ranges"
[axes]
"cluster.gpus" = { start = 8, stop = 32, step = 8 }
"facility.pue" = { start = 1.1, stop = 1.4, step = 0.1 }
""")
    spec = load_sweep(path)
    gpus, pue = spec.axes
    assert [v[0] for v in gpus.values] == [8, 16, 24, 32]
    assert all(isinstance(v[0], int) for v in gpus.values)
    assert [v[0] for v in pue.values] == [1.1, 1.2, 1.3, 1.4]  # not 1.2000000000000002
    assert "facility.pue=1.3/" in spec.points()[2].path


def test_bare_and_quoted_dotted_keys_are_the_same_axis(tmp_path):
    quoted = load_sweep(write_sweep(tmp_path, '[sweep]\nname = "a"\n[axes]\n"cluster.gpus" = [8, 16]\n'))
    bare = load_sweep(write_sweep(tmp_path, '[sweep]\nname = "a"\n[axes]\ncluster.gpus = [8, 16]\n'))
    assert quoted.axes == bare.axes


def test_zipped_keys_vary_together(tmp_path):
    path = write_sweep(tmp_path, """
[sweep]
name = "zipped"
[axes]
"facility.pue" = [1.1, 1.5]
[[zip]]
"cluster.gpus" = [8, 16, 32]
"jobs.0.gpus" = [8, 16, 32]
""")
    spec = load_sweep(path)
    points = spec.points()
    assert len(points) == 2 * 3
    scenarios = resolve_points(spec, points)
    for point, scenario in zip(points, scenarios):
        assert scenario.cluster.gpus == scenario.jobs[0].gpus == point.value("cluster.gpus")
        assert scenario.facility.pue == point.value("facility.pue")


def test_a_points_scenario_equals_the_base_with_the_same_set_overrides(tmp_path):
    """Resolution is the loader's: the same resolved scenario as `python -m sim base.toml --set ...`."""
    write_base(tmp_path)
    path = write_sweep(tmp_path, """
[sweep]
name = "same"
seeds = [0, 9]
unset = ["cluster.gpus"]
[axes]
"cluster.nodes" = [2, 4]
[set]
"facility.pue" = 1.3
grid.carbon_intensity_g_per_kwh = 20
[follow]
"jobs.0.gpus" = "cluster.nodes"
""")
    spec = load_sweep(path)
    for point, scenario in zip(spec.points(), resolve_points(spec, spec.points())):
        nodes = point.value("cluster.nodes")
        # `unset` has no --set equivalent: start from a base without cluster.gpus.
        text = (tmp_path / "base.toml").read_text().replace("gpus = 16\n\n[facility]", "nodes = 1\n\n[facility]")
        (tmp_path / "plain.toml").write_text(text)
        expected = load_scenario(tmp_path / "plain.toml", [
            f"cluster.nodes={nodes}", "facility.pue=1.3", "grid.carbon_intensity_g_per_kwh=20",
            f"scenario.seed={point.seed}", f"jobs.0.gpus={nodes}",
        ])
        assert resolved_scenario_json(scenario) == resolved_scenario_json(expected)


def test_set_merges_tables_into_the_base(tmp_path):
    path = write_sweep(tmp_path, """
[sweep]
name = "merge"
[set.jobs.0]
mfu = 0.5
""")
    spec = load_sweep(path)
    (scenario,) = resolve_points(spec, spec.points())
    assert scenario.jobs[0].mfu == 0.5
    assert scenario.jobs[0].parameters == 1.0e9  # the rest of the job is kept


def test_unset_removes_a_key_or_an_entry_of_an_array_of_tables(tmp_path):
    two_jobs = write_base(tmp_path)
    text = two_jobs.read_text()
    two_jobs.write_text(text.replace("[output]", '[[jobs]]\nname = "second"\ngpus = 8\nparameters = 1e9\n'
                                             'tokens = 1e9\nbatch_tokens = 1e6\nmfu = 0.3\n\n[output]'))
    spec = load_sweep(write_sweep(tmp_path, '[sweep]\nname = "u"\nunset = ["jobs.0", "scenario.name"]\n'))
    (scenario,) = resolve_points(spec, spec.points())
    assert [job.name for job in scenario.jobs] == ["second"]
    assert scenario.scenario.name == "base"  # no name left: the base file's stem


def test_a_scenario_file_is_a_sweep_of_one_point(tmp_path):
    spec = load_spec(write_base(tmp_path))
    (point,) = spec.points()
    assert point.path == "seed=3"
    (scenario,) = resolve_points(spec, [point])
    assert resolved_scenario_json(scenario) == resolved_scenario_json(load_scenario(tmp_path / "base.toml"))


@pytest.mark.parametrize(("body", "expected"), [
    ('[sweep]\nname = "x"\n[axes]\n"cluster.gpus" = 8\n',
     "axes.cluster.gpus = 8: expected a list of values, or a range"),
    ('[sweep]\nname = "x"\n[axes]\n"cluster.gpus" = []\n', "axes.cluster.gpus = []: expected at least one value"),
    ('[sweep]\nname = "x"\n[axes]\n"cluster.gpus" = { start = 8, stop = 1, step = 8 }\n',
     "axes.cluster.gpus: the range from 8 to 1 never reaches stop with step 8"),
    ('[sweep]\nname = "x"\n[axes]\n"cluster.gpus" = { start = 8, stop = 16, step = 0 }\n',
     "axes.cluster.gpus.step = 0: expected a non-zero step"),
    ('[sweep]\nname = "x"\n[[zip]]\n"cluster.gpus" = [8, 16]\n"jobs.0.gpus" = [8]\n',
     "zip.0: zipped keys need the same number of values (cluster.gpus has 2, jobs.0.gpus has 1)"),
    ('[sweep]\nname = "x"\n[axes]\n"scenario.seed" = [1, 2]\n', "axes.scenario.seed: the seed is not an axis"),
    ('[sweep]\nname = "x"\n[axes]\n"cluster.gpus" = [8, 8]\n', "axes.cluster.gpus: values 8 and 8 of cluster.gpus"),
    ('[sweep]\nname = "x"\n[axes]\n"facility.pue" = [1.2]\n[set]\n"facility.pue" = 1.3\n',
     "set.facility.pue: facility.pue is also set by axes.facility.pue"),
    ('[sweep]\nname = "x"\nseeds = 0\n', "sweep.seeds = 0: expected at least 1"),
    ('[sweep]\nname = "x"\ncolour = 1\n', "sweep.colour: unknown key; expected one of: name, description, seeds, unset"),
    ('[sweep]\nname = "x"\n[axis]\n', "axis: unknown key; expected one of: base, sweep, axes, zip, follow, set"),
    ('[axes]\n"facility.pue" = [1.2]\n', "sweep: required key is missing"),
])
def test_every_error_names_its_toml_path(tmp_path, body, expected):
    messages = errors_of(write_sweep(tmp_path, body))
    assert any(m.startswith(f"{tmp_path / 'sweep.toml'}: ") and expected in m for m in messages), messages


def test_an_invalid_point_is_refused_before_anything_runs_naming_the_point_and_key(tmp_path):
    path = write_sweep(tmp_path, '[sweep]\nname = "x"\n[axes]\n"cluster.gpus" = [0, 16]\n"facility.pue" = [0.5, 1.2]\n')
    messages = errors_of(path)
    assert any("[point cluster.gpus=0/facility.pue=0.5/seed=3]: cluster.gpus = 0: expected greater than or equal to 1"
               in m for m in messages), messages
    assert any("[point cluster.gpus=16/facility.pue=0.5/seed=3]: facility.pue = 0.5" in m for m in messages)
    assert not any("cluster.gpus=16/facility.pue=1.2" in m for m in messages)


def test_a_missing_base_or_array_entry_is_named(tmp_path):
    assert "base = 'nowhere.toml'" in errors_of(write_sweep(tmp_path, '[sweep]\nname = "x"\n', base="nowhere.toml"))[0]
    messages = errors_of(write_sweep(tmp_path, '[sweep]\nname = "x"\n[axes]\n"jobs.3.gpus" = [8]\n'))
    assert "jobs.3.gpus: the base scenario has no jobs.3 (it has 1 entries)" in messages[0]


def test_the_command_line_reports_each_error_on_one_line_and_exits_2(tmp_path):
    path = write_sweep(tmp_path, '[sweep]\nname = "x"\n[axes]\n"cluster.gpus" = 8\n"facility.pue" = []\n')
    result = run_cli("sweep", str(path), "--out", str(tmp_path / "out"))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 2 and all(line.startswith("error: ") for line in lines), result.stderr
    assert not (tmp_path / "out").exists()


def test_the_example_sweeps_resolve(tmp_path):
    for path in sorted((REPO / "scenarios" / "sweeps").glob("*.toml")):
        spec = load_spec(path)
        assert len(resolve_points(spec, spec.points())) == spec.size


# ------------------------------------------------------------------------------------------ paths
def test_value_texts():
    from datetime import datetime, timezone

    assert value_text(True) == "true"
    assert value_text(64) == "64"
    assert value_text(1.5) == "1.5"
    assert value_text(1e20) == "1e20"
    assert value_text(datetime(2023, 6, 1, tzinfo=timezone.utc)) == "2023-06-01T00:00:00+00:00"
    assert value_text({"b": 1, "a": 2}) == '{"a":2,"b":1}'
    assert segment("grid.carbon_intensity_file", "data/FR 2023.csv") == \
        "grid.carbon_intensity_file=data%2FFR%202023.csv"


@settings(max_examples=200, deadline=None)
@given(st.text(min_size=0, max_size=120))
def test_a_segment_is_one_safe_path_level_that_decodes_back(text):
    seg = segment("key", text)
    value = seg.split("=", 1)[1]
    assert seg.startswith("key=") and "/" not in seg
    assert set(value) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~%")
    assert len(value) <= MAX_SEGMENT_VALUE_CHARS
    if len(quote(text, safe="")) <= MAX_SEGMENT_VALUE_CHARS:
        assert unquote(value) == text
    else:  # shortened: a prefix of the text, '~', and 10 hex digits of its SHA-256
        prefix, digest = value.rsplit("~", 1)
        assert text.startswith(unquote(prefix)) and len(digest) == 10


@settings(max_examples=200, deadline=None)
@given(st.text(min_size=50, max_size=200), st.text(min_size=50, max_size=200))
def test_distinct_long_values_keep_distinct_directories(a, b):
    if a != b:
        assert segment("key", a) != segment("key", b)
