"""Carbon credited to deferral: each job's carbon as run against its carbon had it run at submission.

THE BASELINE ("run now"): the same job, with the same energy profile, started at its submission and run
without a break. Its power trace as run (the IT power of its nodes at every change, from the cluster) is
cut into its running stretches; the baseline puts those stretches back to back from the submission
instant, in the same order and with the same powers, and evaluates them against the SAME grid signals
(average and, when given, marginal intensity) at the shifted instants. Facility overhead is the job's
own facility/IT ratio over the run (exact for a fixed PUE; for a weather-dependent plant it is the ratio
the job saw, applied to both sides). So the only difference between the two figures is WHEN the energy
was drawn:

    carbon_as_run   = sum_k  P_k x r x integral over [a_k, b_k)           of CI(t) dt
    carbon_run_now  = sum_k  P_k x r x integral over [c_k, c_k + b_k - a_k) of CI(t) dt,
                      c_1 = submission, c_(k+1) = c_k + (b_k - a_k)

    saved = run_now - as_run  (> 0: the decisions saved carbon)

The saving splits where the job's time went. The deferral decision alone is credited with
    deferral_saved = run_now - (the same back-to-back profile from the instant the job entered the queue)
and the rest (queue wait, suspensions) is saved - deferral_saved.

A job that ran at once, unbroken, is credited exactly zero. What the baseline does not do: it neither
re-runs the scheduler (the queue wait the job would have had under "run now" is not modelled: a job
delayed by the queue alone is credited with whatever that delay saved or cost) nor charges the nodes that
sat idle meanwhile; those show up in the cluster's totals, which `python -m sim compare` sets side by side.
A job's power during a stretch is its mean power (a training job's iterations of seconds are averaged).
"""

from __future__ import annotations

from dataclasses import dataclass

from sim.facility.grid_signals import SignalSource
from sim.units import G_PER_KG, J_PER_KWH


@dataclass(frozen=True)
class Stretch:
    """[start_s, end_s) at constant IT power [W], simulated seconds."""

    start_s: float
    end_s: float
    it_power_w: float


def running_stretches(trace: list[tuple[float, float]], end_s: float) -> list[Stretch]:
    """The stretches of non-zero power of a trace of (instant, power) changes; the last one runs to `end_s`."""
    stretches = []
    points = sorted(trace, key=lambda p: p[0])
    for i, (t_s, power_w) in enumerate(points):
        next_s = points[i + 1][0] if i + 1 < len(points) else end_s
        if power_w > 0 and next_s > t_s:
            stretches.append(Stretch(t_s, next_s, power_w))
    return stretches


def carbon_kg(stretches: list[Stretch], facility_ratio: float, source: SignalSource, start_epoch_s: float) -> float:
    """Carbon [kgCO2e] of the stretches' facility energy against the step signal `source` [gCO2e/kWh]."""
    total_g = 0.0
    for s in stretches:
        integral = source.energy_integral(start_epoch_s + s.start_s, start_epoch_s + s.end_s)  # gCO2e/kWh x s
        total_g += s.it_power_w * facility_ratio * integral / J_PER_KWH
    return total_g / G_PER_KG


def shifted_to(stretches: list[Stretch], start_s: float) -> list[Stretch]:
    """The stretches back to back from `start_s`, same order and powers."""
    shifted, cursor = [], start_s
    for s in stretches:
        length = s.end_s - s.start_s
        shifted.append(Stretch(cursor, cursor + length, s.it_power_w))
        cursor += length
    return shifted


@dataclass(frozen=True)
class ShiftCredit:
    as_run_kg: float
    run_now_kg: float
    at_queue_entry_kg: float

    @property
    def saved_kg(self) -> float:
        return self.run_now_kg - self.as_run_kg

    @property
    def deferral_saved_kg(self) -> float:
        return self.run_now_kg - self.at_queue_entry_kg


def shift_credit(trace: list[tuple[float, float]], submitted_at_s: float, end_s: float, facility_ratio: float,
                 source: SignalSource, start_epoch_s: float, queued_at_s: float | None = None) -> ShiftCredit:
    """As-run, run-now and at-queue-entry carbon of one job (see the module docstring)."""
    stretches = running_stretches(trace, end_s)
    run_now = carbon_kg(shifted_to(stretches, submitted_at_s), facility_ratio, source, start_epoch_s)
    at_queue = run_now if queued_at_s is None or queued_at_s == submitted_at_s else carbon_kg(
        shifted_to(stretches, queued_at_s), facility_ratio, source, start_epoch_s)
    return ShiftCredit(
        as_run_kg=carbon_kg(stretches, facility_ratio, source, start_epoch_s),
        run_now_kg=run_now,
        at_queue_entry_kg=at_queue,
    )
