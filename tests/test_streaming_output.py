"""requests.parquet streamed in row groups as the run goes: the same rows and summary as the in-memory run."""

from __future__ import annotations

import copy
import tomllib

import numpy as np
import pyarrow.parquet as pq
import pytest

import sim.output.request_log as request_log
from sim.config import validate_scenario
from sim.engine.simulation import Simulation
from helpers import SCENARIOS

SMALL = tomllib.loads((SCENARIOS / "inference-small.toml").read_text())


def small(duration: str = "10min") -> dict:
    data = copy.deepcopy(SMALL)
    data["services"][0]["duration"] = duration
    data["scenario"]["duration"] = "9min"      # the run ends with requests in flight: unfinished rows
    return data


def test_the_streamed_file_holds_the_rows_of_the_in_memory_run(tmp_path, monkeypatch):
    monkeypatch.setattr(request_log, "ROWS_PER_ROW_GROUP", 300)
    in_memory = Simulation(validate_scenario(small(), "t.toml", SCENARIOS)).run()
    path = tmp_path / "requests.parquet"
    streamed = Simulation(validate_scenario(small(), "t.toml", SCENARIOS)).run(
        timeseries_path=tmp_path / "timeseries.parquet", requests_path=path)
    assert streamed.requests is None
    source = pq.ParquetFile(path)
    assert source.num_row_groups > 3                       # written as the run went, not at the end
    assert source.schema_arrow.metadata[b"sim.seed"] == b"7"
    frame = source.read().to_pandas().sort_values("request_id").reset_index(drop=True)
    expected = in_memory.requests.to_pandas()
    assert list(frame.status.unique()) and set(frame.status) == {"completed", "unfinished"}
    assert frame.equals(expected)
    for key in ("completed", "unfinished", "energy_kwh", "attributed_energy_kwh", "latency_p99_s", "ttft_p50_s",
                "tpot_p90_s", "queueing_delay_mean_s"):
        assert streamed.summary["services"][0][key] == in_memory.summary["services"][0][key], key


def test_summary_percentiles_are_exact(tmp_path):
    path = tmp_path / "requests.parquet"
    result = Simulation(validate_scenario(small(), "t.toml", SCENARIOS)).run(requests_path=path)
    frame = pq.read_table(path).to_pandas()
    done = frame[frame.status == "completed"]
    service = result.summary["services"][0]
    for column, key in (("latency_s", "latency"), ("ttft_s", "ttft"), ("tpot_s", "tpot")):
        values = done[column].to_numpy()
        values = values[np.isfinite(values)]
        for p in (50, 90, 99):
            assert service[f"{key}_p{p}_s"] == pytest.approx(float(np.percentile(values, p)), rel=1e-12)


def test_requests_are_drawn_one_window_at_a_time(monkeypatch):
    """A service keeps one window of requests: at most MAX_PER_WINDOW expected, whatever the run's length."""
    from sim.workloads import service as service_module

    monkeypatch.setattr(service_module.ArrivalFeed, "MAX_PER_WINDOW", 100)
    simulation = Simulation(validate_scenario(small(), "t.toml", SCENARIOS))
    largest = 0
    feed = simulation.services[0]._feed
    original = feed.next_chunk

    def watched():
        nonlocal largest
        chunk = original()
        largest = max(largest, len(chunk) if chunk is not None else 0)
        return chunk

    feed.next_chunk = watched
    result = simulation.run()
    assert result.summary["services"][0]["requests"] > 1500
    assert largest < 160                                   # Poisson(<= 100): far below the run's requests


def test_jobs_stream_as_they_finish_with_the_rows_of_the_in_memory_run(tmp_path, monkeypatch):
    """Two jobs under hourly clean-energy matching (market carbon is final only when the hour closes): the file's
    rows, written as each job's last output row is emitted, equal the in-memory table."""
    import sim.output.job_log as job_log
    from sim.config import load_scenario

    monkeypatch.setattr(job_log, "ROWS_PER_ROW_GROUP", 1)
    scenario = load_scenario(SCENARIOS / "footprint.toml")
    in_memory = Simulation(scenario).run().jobs.to_pandas()
    path = tmp_path / "jobs.parquet"
    streamed = Simulation(load_scenario(SCENARIOS / "footprint.toml")).run(jobs_path=path)
    assert streamed.jobs is None
    source = pq.ParquetFile(path)
    assert source.num_row_groups == 2
    frame = source.read().to_pandas()
    assert list(frame.job) == list(in_memory.sort_values("finished_at").job)     # in the order they finished
    assert frame.sort_values("job").reset_index(drop=True).equals(
        in_memory.sort_values("job").reset_index(drop=True))
