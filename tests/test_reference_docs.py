"""Reference docs and the JSON Schema are generated from the code, and kept current by this test."""

from __future__ import annotations

import json
import tomllib
from datetime import datetime

import jsonschema
import pytest

from helpers import REPO, SCENARIOS, run_cli
from sim.output.columns import JOB_COLUMNS, TIMESERIES_COLUMNS
from sim.reference import DOCS_DIR, reference_documents, scenario_json_schema, undocumented_scenario_keys

# Scenario files, as tests/test_scenarios.py finds them (sweep definitions and published-figure files are not).
SHIPPED = sorted(p for p in SCENARIOS.rglob("*.toml") if "sweeps" not in p.parts and p.name != "published.toml")


@pytest.mark.parametrize("name", sorted(reference_documents()))
def test_docs_are_current(name):
    path = DOCS_DIR / name
    assert path.is_file(), f"{path} is missing: run `python -m sim docs` and commit docs/"
    assert path.read_text(encoding="utf-8") == reference_documents()[name], (
        f"{path} is out of date with the code: run `python -m sim docs` and commit docs/"
    )


def test_every_scenario_key_has_a_meaning():
    assert undocumented_scenario_keys() == [], (
        "give these keys a Field(description=...) in sim/config/schema.py, then run `python -m sim docs`"
    )


def test_scenario_reference_lists_every_key_with_type_unit_and_default():
    text = reference_documents()["scenario-reference.md"]
    for row in ("| `pue` | number, >= 1 | 1 | `1.58` |",
                "| `tdp_w` | number, > 0 | W | required |",
                "| `interval` | duration (s, or '90s', '15min', '1h', '14.8d') | s | `3600.0` |",
                "| `carbon_intensity_g_per_kwh` | number, >= 0 | gCO2e/kWh | not set |"):
        assert row in text
    for header in ("## `[scenario]`", "## `[cluster]`", "## `[cluster.node]`", "## `[cluster.node.gpu]`",
                   "## `[facility]`", "## `[grid]`", "## `[[jobs]]`", "## `[output]`"):
        assert header in text


def test_output_reference_lists_every_column_with_its_unit_and_formula():
    text = reference_documents()["output-reference.md"]
    for column in (*TIMESERIES_COLUMNS, *JOB_COLUMNS):
        assert f"| `{column.name}` | {column.unit} |" in text
    assert "| `it_kwh` | kWh | IT energy = gpu + host + network + storage | gpu_kwh + host_kwh + network_kwh + storage_kwh |" in text
    assert "## `timeseries.parquet`" in text and "## `jobs.parquet`" in text


def test_docs_check_command_says_which_command_regenerates(tmp_path):
    result = run_cli("docs", "--check", "--dir", str(tmp_path))
    assert result.returncode == 1
    assert "run `python -m sim docs` to regenerate them" in result.stdout
    assert run_cli("docs", "--dir", str(tmp_path)).returncode == 0
    assert run_cli("docs", "--check", "--dir", str(tmp_path)).returncode == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["output-reference.md", "scenario-reference.md"]


# ------------------------------------------------------------------------------------ JSON Schema
def as_json_document(value):
    """A TOML document as an editor's schema validator sees it: date-times as RFC 3339 strings."""
    if isinstance(value, dict):
        return {k: as_json_document(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_json_document(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value


@pytest.fixture(scope="module")
def validator():
    schema = json.loads(run_cli("schema").stdout)
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_schema_command_prints_the_models_schema(validator):
    assert validator.schema == json.loads(json.dumps(scenario_json_schema()))
    assert validator.schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_every_shipped_scenario_validates_against_the_schema(validator, path):
    document = as_json_document(tomllib.loads(path.read_text(encoding="utf-8")))
    errors = [e.message for e in validator.iter_errors(document)]
    assert errors == []


def test_schema_rejects_what_the_loader_rejects(validator):
    base = as_json_document(tomllib.loads((SCENARIOS / "quickstart.toml").read_text(encoding="utf-8")))
    for path, value in ((("cluster", "nodez"), 4), (("output", "interval"), "soon"), (("facility", "pue"), 0.9),
                        (("cluster", "node"), "dgx-z9"), (("jobs", 0, "mfu"), 1.5)):
        document = json.loads(json.dumps(base))
        node = document
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value
        assert not validator.is_valid(document), path
    durations = json.loads(json.dumps(base))
    for text in ("90s", "15min", "1h", "14.8d", "2 weeks"):
        durations["output"]["interval"] = text
        assert validator.is_valid(durations), text


def test_schema_out_option_writes_a_file(tmp_path):
    target = tmp_path / "scenario.schema.json"
    assert run_cli("schema", "--out", str(target)).returncode == 0
    assert json.loads(target.read_text())["title"] == "sim scenario"


def test_docs_dir_is_the_repository_docs():
    assert DOCS_DIR == REPO / "docs"
