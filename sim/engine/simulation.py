"""Builds the SimPy world from a scenario, runs it, and gathers the results."""

from __future__ import annotations

import functools
import json
import math
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pyarrow as pa
import simpy

from sim import __version__
from sim.config.schema import Scenario
from sim.engine.footprint import FootprintAccountant, grid_sources, hardware_footprint
from sim.engine.meter import IT_CHANNELS, Meter
from sim.engine.streams import RandomStreams
from sim.facility.cluster import IDLE_OWNER, Cluster
from sim.facility.network import build_fabric, fabric_summary
from sim.facility.grid_signals import FileSource, SignalSource, schedule_source
from sim.facility.plant import attach_weather, build_plant, facility_summary
from sim.facility.storage import build_storage, storage_summary
from sim.output.recorder import TimeseriesRecorder
from sim.physics.fixed_pue import FixedPue
from sim.timeseries.series import to_epoch_s
from sim.units import J_PER_KWH, S_PER_H, US_PER_S
from sim.workloads.training import TrainingJob
from sim.engine.policy_wiring import (
    build_run_policies,
    carbon_integrals,
    routed,
    check_unique_names,
    policy_job_columns,
    queue_job_base_columns,
    queue_job_training_columns,
    queue_summary,
)
from sim.workloads.batch import BatchJob
from sim.workloads.job_trace import queue_job_specs


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
    if scenario.facility.model == "plant":
        return build_plant(scenario)
    return FixedPue(pue=scenario.facility.pue, cooling_share=scenario.facility.cooling_share,
                    wue_l_per_kwh=scenario.facility.wue_l_per_kwh)


@dataclass
class RunResult:
    summary: dict
    timeseries: pa.Table | None
    jobs: pa.Table | None  # None when streamed to a file
    warnings: list[str] = field(default_factory=list)
    requests: pa.Table | None = None  # one row per inference request, when the scenario has services


class Simulation:
    """One run of one scenario. `run()` may stream the time series to `timeseries_path`."""

    def __init__(self, scenario: Scenario, full_duration: bool = False):
        """`full_duration`: run to scenario.duration even when all jobs are done (comparisons over one horizon)."""
        self.scenario = scenario
        self.full_duration = full_duration
        self.start = scenario.scenario.start
        self.start_epoch_s = to_epoch_s(self.start)
        self.warnings: list[str] = []
        self.env = simpy.Environment()
        self.streams = RandomStreams(scenario.scenario.seed)
        self.facility = build_facility(scenario)
        # Grid signals (carbon, marginal, price, water intensity, clean supply): sources, span checks, notes.
        self.grid = grid_sources(scenario, self.warnings)
        for source in self.grid.all().values():
            source.check_start(self.start_epoch_s)
            self.warnings += [f"{source.label}: {note}" for note in source.notes]
        self.recorder = TimeseriesRecorder(
            self.start, getattr(self.facility, "part_names", ()), signals=self.grid.meter_signals()
        )
        self.hardware = hardware_footprint(scenario, scenario.cluster.node_spec(), scenario.cluster.node_count,
                                           self.warnings)
        self.footprint = FootprintAccountant(scenario, self.grid, self.hardware, self.start_epoch_s,
                                             emit=self.recorder.on_bin)
        self.recorder.add_provider(self.footprint.columns, self.footprint.provider)
        self.meter = Meter(
            bin_s=self.footprint.meter_bin_s,
            facility=self.facility,
            on_bin=self.footprint.on_bin,
            intensity_g_per_kwh=self.grid.carbon.value_at(self.start_epoch_s),
            signals=self.grid.meter_signals(),
        )
        self.footprint.attach(self.meter)
        for key, source in self.grid.energy_signals().items():
            self.meter.set_signal(key, 0.0, source.value_at(self.start_epoch_s))
            if not source.is_constant:
                self.env.process(schedule_source(self.env, source, self.start_epoch_s,
                                                 functools.partial(self.meter.schedule_signal, key),
                                                 self._horizon(source)))
        # Outdoor weather, hour by hour, for the cooling plant (and the ambient columns): a SimPy process.
        self.weather = attach_weather(self.env, self.meter, self.facility, scenario, self.start_epoch_s)
        node = scenario.cluster.node_spec()
        # Policies (sim/policies/) and the queued jobs, drawn up front on their own stream ("job-generator").
        self.policies = build_run_policies(scenario, self.grid, self.streams, self.start_epoch_s, node.gpu.tdp_w)
        queued_specs = queue_job_specs(scenario, self.streams, node.gpu.peak_flop_per_s)
        check_unique_names([spec.name for spec in scenario.jobs] + [spec.name for spec in queued_specs])
        self.cluster = Cluster(self.env, self.meter, node, scenario.cluster.node_count, policies=self.policies)
        self.fabric = build_fabric(scenario.network, self.meter, self.cluster)
        self.storage = build_storage(scenario.storage, self.meter, self.cluster)
        self.jobs = [
            TrainingJob(self.env, self.cluster, spec, fabric=self.fabric, storage=self.storage, streams=self.streams)
            for spec in scenario.jobs
        ]
        self.queued_jobs = [BatchJob(self.env, self.cluster, spec) for spec in queued_specs]
        self._queued_ids = {id(job) for job in self.queued_jobs}   # (the job rows ask at every output row)
        self._integrals: tuple[float, dict] | None = None   # (span [s], the grid's integrals): `_carbon_integrals`
        self.services = self._build_services()

    def _build_services(self) -> list:
        """[[services]]: inference services take their nodes now, before any job asks for some."""
        if not self.scenario.services:
            return []
        from sim.output.columns import SERVICE_TIMESERIES_COLUMNS
        from sim.workloads.flow import FlowService, ServiceColumns
        from sim.workloads.service import InferenceService

        from sim.output.request_log import RequestLog

        # requests.parquet: rows of the request-level services, handed over as they become final
        self.request_log = RequestLog(self.start, parquet_metadata(self.scenario),
                                      tuple(spec.name for spec in self.scenario.services))
        services = []
        for spec in (routed(s, self.policies) for s in self.scenario.services):
            window_s = spec.duration if spec.duration is not None else self.scenario.scenario.duration
            if spec.fidelity == "flow":
                services.append(FlowService(self.env, self.cluster, self.meter, spec, self.streams,
                                            self.start_epoch_s, window_s))
            else:
                services.append(InferenceService(self.env, self.cluster, self.meter, spec, self.streams,
                                                 self.start_epoch_s, window_s, log=self.request_log))
        self.recorder.add_provider(tuple(c.name for c in SERVICE_TIMESERIES_COLUMNS), ServiceColumns(services))
        return services

    def _horizon(self, source: SignalSource) -> float | None:
        """Where a signal's driver stops [UTC epoch s]: never (None) when jobs, services or a duration end the run;
        otherwise at the end of a file (a run without either lasts as long as its files) or at once."""
        if self.scenario.scenario.duration is not None:
            return self.start_epoch_s + self.scenario.scenario.duration
        if self.scenario.jobs or self.scenario.services or not self.scenario.queue.empty:
            return None
        return source.series.end_epoch_s if isinstance(source, FileSource) else self.start_epoch_s

    def run(self, timeseries_path: Path | None = None, requests_path: Path | None = None,
            jobs_path: Path | None = None) -> RunResult:
        """Run to the end. With paths, the time series, the request rows and the job rows stream to Parquet as the
        run goes (memory stays flat); without, they are returned as tables."""
        wall_start = time.perf_counter()
        if timeseries_path is not None:
            self.recorder.open(timeseries_path, parquet_metadata(self.scenario))
        job_log = None
        if jobs_path is not None:
            from sim.output.job_log import JobLog

            # a finished job's row is final once the output row of its end is emitted (hourly matching included)
            job_log = JobLog(jobs_path, self._jobs_table(0.0, []).schema, [*self.jobs, *self.queued_jobs],
                             lambda jobs, end_s: self._jobs_table(end_s, jobs))
            self.recorder.add_provider((), job_log.due)
        request_level = [s for s in self.services if s.spec.fidelity == "request"]
        if requests_path is not None and request_level:
            self.request_log.open(requests_path)
        env = self.env
        until = None
        processes = [job.process for job in self.jobs] + [job.process for job in self.queued_jobs]
        processes += [s.process for s in self.services]
        if processes:
            until = env.all_of(processes)
        if self.scenario.scenario.duration is not None:
            limit = env.timeout(self.scenario.scenario.duration)
            until = limit if (until is None or self.full_duration) else env.any_of([until, limit])
        env.run(until=until)
        if self.full_duration:
            while env.peek() <= env.now:  # what else happens at the horizon instant (a job ending on it)
                env.step()
        end_s = env.now
        for source in self.grid.all().values():
            warning = source.end_warning(self.start_epoch_s, self.start_epoch_s + end_s)
            if warning:
                self.warnings.append(warning)
        if end_s > self.hardware.lifetime_s:
            self.warnings.append(
                f"embodied carbon: the run ({end_s / S_PER_H:,.0f} h) is longer than the hardware lifetime "
                f"({self.hardware.lifetime_s / S_PER_H:,.0f} h); amortisation stays linear, so more than the "
                "hardware's embodied carbon is charged"
            )
        self.meter.finish(end_s)
        self.footprint.finish(end_s)
        self.recorder.close()
        for service in request_level:
            service.finish_log()
        if request_level:
            self.request_log.close()
        if timeseries_path is not None:
            self.footprint.finalize_timeseries(path=timeseries_path)
        if job_log is not None:
            job_log.close(end_s)
        wall_s = time.perf_counter() - wall_start
        jobs = self._jobs_table(end_s) if job_log is None else None
        summary = self._summary(end_s, wall_s)
        timeseries = None if timeseries_path is not None else self.footprint.finalize_timeseries(table=self.recorder.table())
        requests = None
        if self.services:
            summary["services"] = [
                {**service.summary(end_s),
                 **self._footprint_columns(service.name, service.held_node_s(end_s))}
                for service in self.services
            ]
            if request_level and requests_path is None:
                requests = self.request_log.table()
        from sim.output.split import workload_split

        summary["split"] = workload_split(self.meter.owner_totals(), [job.spec.name for job in self.jobs],
                                          [service.name for service in self.services])
        return RunResult(summary=summary, timeseries=timeseries, jobs=jobs, warnings=list(self.warnings),
                         requests=requests)

    # ---------------------------------------------------------------- results
    def _job_rows(self, end_s: float, jobs: list | None = None) -> list[dict]:
        if jobs is not None:                         # some jobs (streamed as they finish): no cache
            return self._compute_job_rows(end_s, jobs)
        cached = getattr(self, "_rows_cache", None)  # the jobs table and the summary ask for the same rows
        if cached is not None and cached[0] == end_s:
            return cached[1]
        rows = self._compute_job_rows(end_s)
        self._rows_cache = (end_s, rows)
        return rows

    def _compute_job_rows(self, end_s: float, jobs: list | None = None) -> list[dict]:
        """Rows of `jobs` (default: every training job, then every queued job), in that order."""
        owners = self.meter.owner_totals()
        chosen = [*self.jobs, *self.queued_jobs] if jobs is None else list(jobs)
        queued = self._queued_ids
        rows = []
        for job in chosen:
            if id(job) in queued:
                rows.append({
                    **queue_job_base_columns(job, owners, end_s, self._instant),
                    **queue_job_training_columns(job, owners, end_s),
                    **self._footprint_columns(job.spec.name, job.state.nodes * job.state.holding_s(end_s)),
                })
                continue
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
                **self._footprint_columns(job.spec.name, job.allocated_node_s(end_s)),
            })
            rows[-1].update(job.result_columns(end_s, network_kwh=channel_kwh[2], storage_kwh=channel_kwh[3]))
        integrals = self._carbon_integrals(end_s)
        for row, job in zip(rows, chosen):
            row.update(policy_job_columns(job, owners, integrals, end_s, self._instant))
        return rows

    def _carbon_integrals(self, end_s: float) -> dict:
        """The grid's running integrals for the jobs' run-now credits, over the whole run, read once: the job log
        asks at every output row, and an integral read up to each row's end would make a year of rows quadratic.
        (Without a stated duration, read again, twice as far, when a row ends beyond them.)"""
        cached = self._integrals
        if cached is None or cached[0] < end_s:
            span_s = max(end_s, self.scenario.scenario.duration or 0.0, 2.0 * cached[0] if cached else 0.0)
            cached = self._integrals = (span_s, carbon_integrals(self.grid, self.start_epoch_s, span_s))
        return cached[1]

    def _footprint_columns(self, owner: str, allocated_node_s: float) -> dict:
        """The footprint columns of a job (or any owner) holding `allocated_node_s` node-seconds."""
        fp = self.footprint.owner_footprint(owner, allocated_node_s).as_dict()
        columns = {k: fp[k] for k in ("carbon_marginal_kg", "carbon_market_kg", "embodied_carbon_kg", "water_l",
                                      "water_offsite_l", "water_total_l", "energy_cost_usd", "hardware_cost_usd",
                                      "cost_usd", "allocated_node_hours")}
        return {k: (math.nan if v is None else v) for k, v in columns.items()}

    def _instant(self, t_s: float | None):
        return None if t_s is None else self.start + timedelta(seconds=t_s)

    def _jobs_table(self, end_s: float, jobs: list | None = None) -> pa.Table:
        from sim.output.columns import JOB_COLUMNS

        rows = self._job_rows(end_s, jobs)
        arrays = {}
        for column in JOB_COLUMNS:
            values = [row[column.name] for row in rows]
            if column.name.endswith("_at"):  # as UTC epoch microseconds: converting datetimes would import pandas
                micros = [None if v is None else round(v.timestamp() * US_PER_S) for v in values]
                arrays[column.name] = pa.array(micros, type=pa.int64()).cast(pa.timestamp("us", tz="UTC"))
            elif column.name in ("job", "kind", "status", "mode"):
                arrays[column.name] = pa.array(values, type=pa.string())
            elif column.name in ("gpus", "nodes", "failures", "checkpoints", "suspensions"):
                arrays[column.name] = pa.array(values, type=pa.int64())
            elif column.unit == "bool":
                arrays[column.name] = pa.array(values, type=pa.bool_())
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
            **facility_summary(self.scenario, self.facility, self.weather, r),
            **self._footprint_summary(end_s, job_rows),
            "gpu_hours": math.fsum(row["gpu_hours"] for row in job_rows),
            "wall_s": wall_s,
            "events": _events_processed(self.env),
            "warnings": list(self.warnings),
            "network": fabric_summary(self.fabric),
            "storage": storage_summary(self.storage),
            "failures": sum(row["failures"] for row in job_rows),
            "queue": queue_summary(job_rows, self.policies),
            "jobs": [
                {k: (v.isoformat().replace("+00:00", "Z") if hasattr(v, "isoformat") else v) for k, v in row.items()}
                for row in job_rows
            ],
        }
        return summary


    def _footprint_summary(self, end_s: float, job_rows: list[dict]) -> dict:
        """Footprint totals (sums of the columns), how each part was computed, and the idle pool's share."""
        r = self.recorder
        marginal = self.grid.marginal is not None
        hardware_usd = r.total("hardware_cost_usd") if self.hardware.hardware_usd_per_gpu_hour is not None else None
        jobs_node_s = math.fsum(row["allocated_node_hours"] for row in job_rows) * S_PER_H
        idle_node_s = max(self.cluster.node_count * end_s - jobs_node_s, 0.0)
        idle = self.footprint.owner_footprint(IDLE_OWNER, idle_node_s).as_dict()
        return {
            "carbon_marginal_kg": r.total("carbon_marginal_kg") if marginal else None,
            "carbon_market_kg": r.total("carbon_market_kg") * self.footprint.market_scale,
            "embodied_carbon_kg": r.total("embodied_carbon_kg"),
            "water_offsite_l": r.total("water_offsite_l"),
            "water_total_l": r.total("water_total_l"),
            "energy_cost_usd": r.total("energy_cost_usd"),
            "hardware_cost_usd": hardware_usd,
            "cost_usd": r.total("energy_cost_usd") + (hardware_usd or 0.0),
            "market_based": self.footprint.market_section(r.total("carbon_kg")),
            "embodied": self.hardware.describe(),
            "grid_signals": {key: source.description for key, source in self.grid.all().items()},
            "idle": idle,
        }


def _events_processed(env: simpy.Environment) -> int:
    """Events scheduled in the run (SimPy numbers each event it schedules)."""
    counter = getattr(env, "_eid", None)
    return int(next(counter)) if counter is not None else -1
