"""Policies in a run: building them from [policies], the queued jobs, and their results.

Kept apart from simulation.py so that the engine only calls three functions: `build_run_policies`,
`queued_jobs` and `policy_job_columns` / `queue_summary` for the outputs.
"""

from __future__ import annotations

import math

import numpy as np

from sim.engine.shift_credit import SignalIntegral, shift_credit
from sim.errors import ScenarioError
from sim.facility.carbon_view import CarbonView
from sim.policies.registry import PolicyContext, PolicySet, build_policies
from sim.units import J_PER_KWH

FORECAST_STREAM = "forecast"


def build_run_policies(scenario, grid, streams, start_epoch_s: float, gpu_tdp_w: float) -> PolicySet:
    """The run's policy objects; carbon-aware ones see the grid through a CarbonView whose forecast error
    is drawn on the stream "forecast" (never on a workload stream)."""

    def carbon_view(signal: str, forecast_error: float) -> CarbonView:
        source = grid.carbon if signal == "average" else grid.marginal
        if source is None:
            raise ScenarioError("policies: signal = 'marginal' needs a marginal carbon intensity in [grid] "
                                "(marginal_carbon_intensity_g_per_kwh or marginal_carbon_intensity_file)")
        rng = streams.generator(FORECAST_STREAM) if forecast_error > 0 else None
        return CarbonView(source, start_epoch_s, forecast_error, rng)

    return build_policies(scenario.policies, PolicyContext(carbon_view=carbon_view, gpu_tdp_w=gpu_tdp_w))


def routed(spec, policies: PolicySet):
    """A service spec with the router of [policies] routing, when one is given (else as it is)."""
    router = policies.names.get("routing")
    return spec if router is None or router == spec.router else spec.model_copy(update={"router": router})


def check_unique_names(names: list[str]) -> None:
    seen, repeated = set(), []
    for name in names:
        if name in seen:
            repeated.append(name)
        seen.add(name)
    if repeated:
        raise ScenarioError(f"job names must be unique across [[jobs]], [[queue.jobs]], the trace and the generator; "
                            f"repeated: {', '.join(sorted(set(repeated)))}")


def carbon_integrals(grid, start_epoch_s: float, end_s: float) -> dict[str, SignalIntegral]:
    """The average (and marginal) intensity of the run, each read once, for the jobs' run-now credits."""
    integrals = {"average": SignalIntegral(grid.carbon, start_epoch_s, end_s)}
    if grid.marginal is not None:
        integrals["marginal"] = SignalIntegral(grid.marginal, start_epoch_s, end_s)
    return integrals


def policy_job_columns(job, owners: dict, integrals: dict[str, SignalIntegral], end_s: float, instant) -> dict:
    """The policy columns of one job's row in jobs.parquet (see sim/output/columns.py)."""
    ticket = job.ticket
    st = job.state
    totals = owners.get(job.name if hasattr(job, "name") else job.spec.name)
    it_j = totals.it_energy_j if totals else 0.0
    ratio = totals.facility_energy_j / it_j if totals and it_j > 0 else 1.0
    trace = job.cluster.traces.get(ticket.name, [])
    submitted = st.submitted_at_s
    nan = math.nan
    credit_avg = credit_marg = None
    if submitted is not None and trace:
        queued = ticket.queued_at_s
        credit_avg = shift_credit(trace, submitted, end_s, ratio, integrals["average"], queued)
        if "marginal" in integrals:
            credit_marg = shift_credit(trace, submitted, end_s, ratio, integrals["marginal"], queued)
    has_deadline = math.isfinite(ticket.deadline_at_s)
    finished = st.finished_at_s
    if hasattr(job, "mean_clock_ratio"):
        mean_clock = job.mean_clock_ratio(end_s)
    elif hasattr(st, "mean_clock_ratio"):
        mean_clock = st.mean_clock_ratio(end_s)
    else:
        mean_clock = 1.0 if st.started_at_s is not None else nan
    queued = ticket.queued_at_s
    return {
        "deadline_at": instant(ticket.deadline_at_s) if has_deadline else None,
        "slack_s": ticket.slack_s if has_deadline else 0.0,
        "interruptible": bool(ticket.interruptible),
        "deferred_s": ticket.deferred_s,
        "queued_s": (st.started_at_s - queued) if (st.started_at_s is not None and queued is not None) else nan,
        "suspended_s": ticket.suspended_s,
        "suspensions": ticket.suspensions,
        "reserved_start_at": instant(ticket.reserved_start_at_s) if ticket.reserved_start_at_s is not None else None,
        "mean_clock_ratio": mean_clock,
        "deadline_met": (finished is not None and finished <= ticket.deadline_at_s + 1e-6) if has_deadline else None,
        "carbon_as_run_kg": credit_avg.as_run_kg if credit_avg else 0.0,
        "carbon_run_now_kg": credit_avg.run_now_kg if credit_avg else 0.0,
        "carbon_saved_kg": credit_avg.saved_kg if credit_avg else 0.0,
        "carbon_deferral_saved_kg": credit_avg.deferral_saved_kg if credit_avg else 0.0,
        "carbon_marginal_run_now_kg": credit_marg.run_now_kg if credit_marg else nan,
        "carbon_marginal_saved_kg": credit_marg.saved_kg if credit_marg else nan,
        "carbon_marginal_deferral_saved_kg": credit_marg.deferral_saved_kg if credit_marg else nan,
    }


def queue_job_base_columns(job, owners: dict, end_s: float, instant) -> dict:
    """The walking-skeleton columns of a queued job's row (same meaning as a training job's)."""
    st, spec = job.state, job.spec
    totals = owners.get(spec.name)
    channel_kwh = [e / J_PER_KWH for e in totals.channel_energy_j] if totals else [0.0] * 4
    started = st.started_at_s
    duration_s = ((st.finished_at_s if st.finished_at_s is not None else end_s) - started) if started is not None else 0.0
    return {
        "job": spec.name,
        "kind": spec.kind,
        "status": st.status,
        "gpus": spec.gpus,
        "nodes": st.nodes,
        "submitted_at": instant(st.submitted_at_s),
        "started_at": instant(started),
        "finished_at": instant(st.finished_at_s),
        "wait_s": (started - st.submitted_at_s) if started is not None else math.nan,
        "duration_s": duration_s,
        "iterations": st.iterations_done(end_s),
        "iteration_s": st.iteration_s,
        "flop": math.nan,
        "gpu_hours": st.gpu_seconds(end_s) / 3600.0,
        "gpu_kwh": channel_kwh[0],
        "host_kwh": channel_kwh[1],
        "it_kwh": math.fsum(channel_kwh),
        "facility_kwh": (totals.facility_energy_j / J_PER_KWH) if totals else 0.0,
        "carbon_kg": (totals.carbon_g / 1000.0) if totals else 0.0,
    }


def queue_job_training_columns(job, owners: dict, end_s: float) -> dict:
    """The training-at-scale columns of a queued job's row: no network model, failures or checkpoints;
    its productive time is its time computing."""
    st = job.state
    totals = owners.get(job.spec.name)
    channel_kwh = [e / J_PER_KWH for e in totals.channel_energy_j] if totals else [0.0] * 4
    started = st.started_at_s
    duration_s = ((st.finished_at_s if st.finished_at_s is not None else end_s) - started) if started is not None else 0.0
    running_s = st.running_s + (end_s - st.segment_start_s if st.segment_start_s is not None else 0.0)
    return {
        "mode": "queue",
        "exposed_communication_s": 0.0,
        "network_kwh": channel_kwh[2],
        "storage_kwh": channel_kwh[3],
        "failures": 0,
        "lost_work_s": 0.0,
        "restart_s": 0.0,
        "lost_gpu_hours": 0.0,
        "checkpoints": 0,
        "checkpoint_s": 0.0,
        "checkpoint_interval_s": math.inf,
        "productive_s": running_s,
        "effective_training_time_ratio": running_s / duration_s if duration_s > 0 else math.nan,
    }


def queue_summary(rows: list[dict], policies: PolicySet) -> dict:
    """Scheduling outcomes of all jobs: waits, makespan, deadlines, carbon credited to shifting."""
    waits = np.array([r["wait_s"] for r in rows if r["wait_s"] == r["wait_s"]], dtype=float)
    submits = [r["submitted_at"] for r in rows if r["submitted_at"] is not None]
    finishes = [r["finished_at"] for r in rows if r["finished_at"] is not None]
    completed = sum(1 for r in rows if r["status"] == "completed")
    makespan = (max(finishes) - min(submits)).total_seconds() if finishes and submits else None
    with_deadline = [r for r in rows if r["deadline_met"] is not None]
    marginal = [r["carbon_marginal_saved_kg"] for r in rows if r["carbon_marginal_saved_kg"] == r["carbon_marginal_saved_kg"]]
    return {
        "policies": policies.describe(),
        "jobs": len(rows),
        "completed": completed,
        "mean_wait_s": float(waits.mean()) if waits.size else None,
        "p99_wait_s": float(np.percentile(waits, 99)) if waits.size else None,
        "makespan_s": makespan,
        "deferred_s": math.fsum(r["deferred_s"] for r in rows),
        "suspensions": sum(r["suspensions"] for r in rows),
        "deadlines": len(with_deadline),
        "deadlines_missed": sum(1 for r in with_deadline if not r["deadline_met"]),
        "carbon_run_now_kg": math.fsum(r["carbon_run_now_kg"] for r in rows),
        "carbon_as_run_kg": math.fsum(r["carbon_as_run_kg"] for r in rows),
        "carbon_saved_kg": math.fsum(r["carbon_saved_kg"] for r in rows),
        "carbon_deferral_saved_kg": math.fsum(r["carbon_deferral_saved_kg"] for r in rows),
        "carbon_marginal_saved_kg": math.fsum(marginal) if marginal else None,
        "carbon_marginal_deferral_saved_kg": (math.fsum(r["carbon_marginal_deferral_saved_kg"] for r in rows)
                                              if marginal else None),
    }
