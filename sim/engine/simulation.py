"""Builds the SimPy world from a scenario, runs it, and gathers the results."""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pyarrow as pa
import simpy

from sim import __version__
from sim.config.schema import DEFAULT_CARBON_INTENSITY_G_PER_KWH, Scenario
from sim.engine.meter import IT_CHANNELS, Meter
from sim.engine.streams import RandomStreams
from sim.facility.cluster import IDLE_OWNER, Cluster
from sim.facility.network import build_fabric, fabric_summary
from sim.facility.signals import drive_signal
from sim.facility.storage import build_storage, storage_summary
from sim.output.recorder import TimeseriesRecorder
from sim.physics.fixed_pue import FixedPue
from sim.timeseries.series import StepSeries, to_epoch_s
from sim.units import J_PER_KWH, S_PER_H
from sim.workloads.training import TrainingJob


def resolved_scenario_json(scenario: Scenario) -> str:
    """The scenario after overrides and defaults, as canonical JSON (sorted keys)."""
    return json.dumps(scenario.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))


def parquet_metadata(scenario: Scenario) -> dict[bytes, bytes]:
    return {
        b"sim.scenario": resolved_scenario_json(scenario).encode(),
        b"sim.version": __version__.encode(),
        b"sim.seed": str(scenario.scenario.seed).encode(),
    }


def build_facility(scenario: Scenario):
    return FixedPue(pue=scenario.facility.pue, cooling_share=scenario.facility.cooling_share)


def carbon_intensity_series(scenario: Scenario, warnings: list[str]) -> StepSeries:
    grid = scenario.grid
    if grid.carbon_intensity_file is None:
        value = grid.carbon_intensity_g_per_kwh
        if value is None:
            value = DEFAULT_CARBON_INTENSITY_G_PER_KWH
        return StepSeries.constant("carbon_intensity", "gCO2e/kWh", value)
    from sim.timeseries.grid import read_signal  # the file readers

    return read_signal(grid.carbon_intensity_file, format=grid.file_format, column=grid.column)


@dataclass
class RunResult:
    summary: dict
    timeseries: pa.Table | None
    jobs: pa.Table
    warnings: list[str] = field(default_factory=list)


class Simulation:
    """One run of one scenario. `run()` may stream the time series to `timeseries_path`."""

    def __init__(self, scenario: Scenario):
        self.scenario = scenario
        self.start = scenario.scenario.start
        self.start_epoch_s = to_epoch_s(self.start)
        self.warnings: list[str] = []
        self.env = simpy.Environment()
        self.streams = RandomStreams(scenario.scenario.seed)
        self.facility = build_facility(scenario)
        self.recorder = TimeseriesRecorder(self.start, getattr(self.facility, "part_names", ()))
        self.intensity = carbon_intensity_series(scenario, self.warnings)
        self._check_signal_span(self.intensity)
        self.meter = Meter(
            bin_s=scenario.output.interval,
            facility=self.facility,
            on_bin=self.recorder.on_bin,
            intensity_g_per_kwh=self.intensity.value_at(self.start_epoch_s),
        )
        if not self.intensity.is_constant:
            self.env.process(drive_signal(self.env, self.intensity, self.start_epoch_s, self.meter.set_intensity))
        self.cluster = Cluster(self.env, self.meter, scenario.cluster.node_spec(), scenario.cluster.node_count)
        node, nodes = self.cluster.node, self.cluster.node_count
        self.fabric = build_fabric(scenario.network, self.meter, node, nodes, IDLE_OWNER)
        self.storage = build_storage(scenario.storage, self.meter, self.cluster.gpu_count, nodes, IDLE_OWNER)
        self.jobs = [
            TrainingJob(self.env, self.cluster, spec, fabric=self.fabric, storage=self.storage, streams=self.streams)
            for spec in scenario.jobs
        ]

    def _check_signal_span(self, series: StepSeries) -> None:
        from sim.errors import DataFileError

        if series.is_constant:
            return
        if not series.start_epoch_s <= self.start_epoch_s < series.end_epoch_s:
            raise DataFileError(
                series.source or series.name,
                f"the run starts at {self.start.isoformat()}, outside the file's span "
                f"{_iso(series.start_epoch_s)} to {_iso(series.end_epoch_s)}",
            )

    def run(self, timeseries_path: Path | None = None) -> RunResult:
        wall_start = time.perf_counter()
        if timeseries_path is not None:
            self.recorder.open(timeseries_path, parquet_metadata(self.scenario))
        env = self.env
        until = None
        if self.jobs:
            until = env.all_of([job.process for job in self.jobs])
        if self.scenario.scenario.duration is not None:
            limit = env.timeout(self.scenario.scenario.duration)
            until = limit if until is None else env.any_of([until, limit])
        env.run(until=until)
        end_s = env.now
        if self.intensity.end_epoch_s < self.start_epoch_s + end_s:
            self.warnings.append(
                f"carbon intensity: {self.intensity.source} ends at {_iso(self.intensity.end_epoch_s)}, before the "
                f"run ends at {_iso(self.start_epoch_s + end_s)}; its last value was held"
            )
        self.meter.finish(end_s)
        self.recorder.close()
        wall_s = time.perf_counter() - wall_start
        jobs = self._jobs_table(end_s)
        summary = self._summary(end_s, wall_s)
        timeseries = None if timeseries_path is not None else self.recorder.table()
        return RunResult(summary=summary, timeseries=timeseries, jobs=jobs, warnings=list(self.warnings))

    # ---------------------------------------------------------------- results
    def _job_rows(self, end_s: float) -> list[dict]:
        owners = self.meter.owner_totals()
        rows = []
        for job in self.jobs:
            job.settle(end_s)
            st = job.state
            totals = owners.get(job.spec.name)
            channel_kwh = [e / J_PER_KWH for e in totals.channel_energy_j] if totals else [0.0] * len(IT_CHANNELS)
            started = st.started_at_s
            duration_s = (st.finished_at_s if st.finished_at_s is not None else end_s) - started if started is not None else 0.0
            rows.append({
                "job": job.spec.name,
                "kind": job.spec.kind,
                "status": st.status,
                "gpus": job.spec.gpus,
                "nodes": st.nodes,
                "submitted_at": self._instant(st.submitted_at_s),
                "started_at": self._instant(started),
                "finished_at": self._instant(st.finished_at_s),
                "wait_s": (started - st.submitted_at_s) if started is not None else math.nan,
                "duration_s": duration_s,
                "iterations": st.iterations_done(end_s),
                "iteration_s": st.iteration_s,
                "flop": job.spec.total_flop,
                "gpu_hours": st.gpu_seconds(end_s) / S_PER_H,
                "gpu_kwh": channel_kwh[0],
                "host_kwh": channel_kwh[1],
                "it_kwh": math.fsum(channel_kwh),
                "facility_kwh": (totals.facility_energy_j / J_PER_KWH) if totals else 0.0,
                "carbon_kg": (totals.carbon_g / 1000.0) if totals else 0.0,
            })
            rows[-1].update(job.result_columns(end_s, network_kwh=channel_kwh[2], storage_kwh=channel_kwh[3]))
        return rows

    def _instant(self, t_s: float | None):
        return None if t_s is None else self.start + timedelta(seconds=t_s)

    def _jobs_table(self, end_s: float) -> pa.Table:
        from sim.output.columns import JOB_COLUMNS

        rows = self._job_rows(end_s)
        arrays = {}
        for column in JOB_COLUMNS:
            values = [row[column.name] for row in rows]
            if column.name.endswith("_at"):
                arrays[column.name] = pa.array(values, type=pa.timestamp("us", tz="UTC"))
            elif column.name in ("job", "kind", "status", "mode"):
                arrays[column.name] = pa.array(values, type=pa.string())
            elif column.name in ("gpus", "nodes", "failures", "checkpoints"):
                arrays[column.name] = pa.array(values, type=pa.int64())
            else:
                arrays[column.name] = pa.array(values, type=pa.float64())
        return pa.table(arrays).replace_schema_metadata(parquet_metadata(self.scenario))

    def _summary(self, end_s: float, wall_s: float) -> dict:
        r = self.recorder
        it_kwh = r.total("it_kwh")
        facility_kwh = r.total("facility_kwh")
        job_rows = self._job_rows(end_s)
        summary = {
            "scenario": self.scenario.scenario.name,
            "seed": self.scenario.scenario.seed,
            "sim_version": __version__,
            "start": self.start.isoformat().replace("+00:00", "Z"),
            "end": self._instant(end_s).isoformat().replace("+00:00", "Z"),
            "simulated_s": end_s,
            "output_interval_s": self.scenario.output.interval,
            "intervals": r.rows,
            "gpus": self.cluster.gpu_count,
            "nodes": self.cluster.node_count,
            "gpu_energy_kwh": r.total("gpu_kwh"),
            "host_energy_kwh": r.total("host_kwh"),
            "network_energy_kwh": r.total("network_kwh"),
            "storage_energy_kwh": r.total("storage_kwh"),
            "it_energy_kwh": it_kwh,
            "cooling_energy_kwh": r.total("cooling_kwh"),
            "power_loss_energy_kwh": r.total("power_loss_kwh"),
            "misc_energy_kwh": r.total("misc_kwh"),
            "facility_energy_kwh": facility_kwh,
            "pue": facility_kwh / it_kwh if it_kwh > 0 else None,
            "carbon_kg": r.total("carbon_kg"),
            "water_l": r.total("water_l"),
            "gpu_hours": math.fsum(row["gpu_hours"] for row in job_rows),
            "wall_s": wall_s,
            "events": _events_processed(self.env),
            "warnings": list(self.warnings),
            "network": fabric_summary(self.fabric),
            "storage": storage_summary(self.storage),
            "failures": sum(row["failures"] for row in job_rows),
            "jobs": [
                {k: (v.isoformat().replace("+00:00", "Z") if hasattr(v, "isoformat") else v) for k, v in row.items()}
                for row in job_rows
            ],
        }
        return summary


def _events_processed(env: simpy.Environment) -> int:
    """Events scheduled in the run (SimPy numbers each event it schedules)."""
    counter = getattr(env, "_eid", None)
    return int(next(counter)) if counter is not None else -1


def _iso(epoch_s: float) -> str:
    from sim.timeseries.series import from_epoch_s

    return from_epoch_s(epoch_s).isoformat().replace("+00:00", "Z")
