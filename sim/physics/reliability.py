"""Failures of a large training job and the checkpoint interval that minimises the time they cost.

Failures are a Poisson process: with independent exponential lifetimes, a job on ``n_gpu`` GPUs and
``n_node`` nodes fails at the summed rate ``lambda = n_gpu / MTBF_gpu + n_node / MTBF_node`` and its
mean time between failures is ``M = 1 / lambda``.

Calibration (Dubey et al. 2024, "The Llama 3 Herd of Models", arXiv:2407.21783, Sec. 3.3.4, Table 5):
419 unexpected interruptions in a 54-day snapshot of Llama 3 405B pre-training on 16,384 H100 GPUs,
78 % of them attributed to confirmed or suspected hardware; effective training time above 90 %. Taking
all 419 per GPU gives ``MTBF_gpu = 16,384 * 54 d / 419 = 2,111 GPU-days`` (5.8 years), i.e. 7.76
interruptions a day, one every 3.1 hours, on 16,384 GPUs.

Checkpoint interval: Young (1974), "A first order approximation to the optimum checkpoint interval",
Commun. ACM 17(9):530-531, ``tau = sqrt(2 delta M)``; Daly (2006), "A higher order estimate of the
optimum checkpoint interval for restart dumps", Future Gener. Comput. Syst. 22(3):303-312, which also
gives the expected wall time of a job with checkpoints, failures and restarts used here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sim.units import S_PER_DAY


@dataclass(frozen=True)
class InterruptionRecord:
    """A published count of job interruptions: interruptions [-] over observed_s [s] on units [-]."""

    interruptions: int
    observed_s: float
    units: int
    source: str


LLAMA3_405B_UNEXPECTED = InterruptionRecord(
    # Dubey et al. 2024, Sec. 3.3.4 and Table 5: 466 job interruptions in a 54-day snapshot, 47 planned,
    # 419 unexpected; 16,384 H100 GPUs.
    interruptions=419,
    observed_s=54 * S_PER_DAY,
    units=16_384,
    source="Dubey et al. 2024, The Llama 3 Herd of Models, Sec. 3.3.4, Table 5",
)


def mtbf_per_unit_s(record: InterruptionRecord) -> float:
    """MTBF of one unit implied by an interruption count [s]: ``units * T_observed / interruptions``.
    Worked number (Llama 3): 16,384 * 54 d / 419 = 2,111.5 d = 1.824e8 s per GPU."""
    if record.interruptions <= 0 or record.units <= 0 or not record.observed_s > 0:
        raise ValueError("interruptions, units and observed_s must be > 0")
    return record.units * record.observed_s / record.interruptions


def job_failure_rate_per_s(
    gpus: int, gpu_mtbf_s: float, nodes: int = 0, node_mtbf_s: float = math.inf
) -> float:
    """Failure rate of a job that stops when any of its GPUs or nodes fails [1/s]:
    ``lambda = n_gpu / MTBF_gpu + n_node / MTBF_node`` (series system of exponential parts).
    Worked number: 16,384 GPUs at the Llama 3 MTBF -> 8.98e-5 /s = 7.76 /day."""
    if gpus < 0 or nodes < 0:
        raise ValueError("gpu and node counts must be >= 0")
    if not (gpu_mtbf_s > 0 and node_mtbf_s > 0):
        raise ValueError("MTBFs must be > 0")
    return gpus / gpu_mtbf_s + nodes / node_mtbf_s


def expected_failures(duration_s: float, failure_rate_per_s: float) -> float:
    """Expected failures in ``duration_s`` [-]: ``lambda T`` (Poisson mean)."""
    if not (duration_s >= 0 and failure_rate_per_s >= 0):
        raise ValueError("duration and rate must be >= 0")
    return failure_rate_per_s * duration_s


def sample_time_to_failure_s(rng: np.random.Generator, failure_rate_per_s: float) -> float:
    """One exponential time to the next failure [s], ``inf`` at zero rate. Memoryless, so it can be
    redrawn after every failure or repair."""
    if not failure_rate_per_s >= 0:
        raise ValueError("failure rate must be >= 0")
    if failure_rate_per_s == 0:
        return math.inf
    return float(rng.exponential(1.0 / failure_rate_per_s))


def sample_times_to_failure_s(rng: np.random.Generator, failure_rate_per_s: float, count: int) -> list[float]:
    """``count`` successive draws of `sample_time_to_failure_s`, the same numbers from the same stream
    (NumPy draws an array element by element), for about a tenth of the cost each (one NumPy call)."""
    if not failure_rate_per_s >= 0:
        raise ValueError("failure rate must be >= 0")
    if failure_rate_per_s == 0:
        return [math.inf] * count
    return rng.exponential(1.0 / failure_rate_per_s, size=count).tolist()


def sample_failure_times_s(rng: np.random.Generator, failure_rate_per_s: float, horizon_s: float) -> np.ndarray:
    """All failure instants of a homogeneous Poisson process on ``[0, horizon_s)`` [s], sorted: a Poisson
    count ``N ~ Poisson(lambda T)``, then N uniform instants (exact, no truncation)."""
    if not (failure_rate_per_s >= 0 and horizon_s >= 0):
        raise ValueError("rate and horizon must be >= 0")
    count = rng.poisson(failure_rate_per_s * horizon_s)
    return np.sort(rng.uniform(0.0, horizon_s, size=count))


# --------------------------------------------------------------------------------------------------
# Checkpoint interval


def _check_interval_inputs(checkpoint_s: float, mtbf_s: float) -> None:
    if not checkpoint_s >= 0:
        raise ValueError(f"checkpoint time must be >= 0, got {checkpoint_s!r}")
    if not mtbf_s > 0:
        raise ValueError(f"MTBF must be > 0, got {mtbf_s!r}")


def young_interval_s(checkpoint_s: float, mtbf_s: float) -> float:
    """Young's optimal compute time between checkpoints [s]: ``tau = sqrt(2 delta M)`` (Young 1974).
    Worked number: delta = 60 s, M = 3.09 h (Llama 3 job) -> 1,156 s."""
    _check_interval_inputs(checkpoint_s, mtbf_s)
    return math.sqrt(2.0 * checkpoint_s * mtbf_s)


def daly_interval_s(checkpoint_s: float, mtbf_s: float) -> float:
    """Daly's higher-order optimal compute time between checkpoints [s] (Daly 2006):

    ``tau = sqrt(2 delta M) [1 + 1/3 sqrt(delta/(2M)) + 1/9 delta/(2M)] - delta``  for delta < 2M,
    ``tau = M``  otherwise.
    """
    _check_interval_inputs(checkpoint_s, mtbf_s)
    if checkpoint_s >= 2.0 * mtbf_s:
        return mtbf_s
    x = checkpoint_s / (2.0 * mtbf_s)
    return math.sqrt(2.0 * checkpoint_s * mtbf_s) * (1.0 + math.sqrt(x) / 3.0 + x / 9.0) - checkpoint_s


def first_order_waste_fraction(interval_s: float, checkpoint_s: float, mtbf_s: float) -> float:
    """Fraction of time lost to checkpoints and rework, to first order [-]:
    ``W = delta / tau + tau / (2 M)``; its minimum is at Young's ``tau = sqrt(2 delta M)``."""
    _check_interval_inputs(checkpoint_s, mtbf_s)
    if not interval_s > 0:
        raise ValueError("interval must be > 0")
    return checkpoint_s / interval_s + interval_s / (2.0 * mtbf_s)


def expected_wall_time_s(
    solve_s: float, interval_s: float, checkpoint_s: float, restart_s: float, mtbf_s: float
) -> float:
    """Expected wall time of ``solve_s`` of useful work [s] with a checkpoint of ``checkpoint_s`` after
    every ``interval_s`` of work, exponential failures of mean ``mtbf_s`` (also during checkpoints and
    restarts) and ``restart_s`` to come back after each (Daly 2006):

        ``T_w = M exp(R/M) (exp((tau + delta)/M) - 1) T_s / tau``

    Worked number: T_s = 1 d, tau = 1,156 s, delta = 60 s, R = 600 s, M = 11,135 s -> 1.173 d.
    """
    _check_interval_inputs(checkpoint_s, mtbf_s)
    if not (solve_s >= 0 and interval_s > 0 and restart_s >= 0):
        raise ValueError("need solve_s >= 0, interval_s > 0, restart_s >= 0")
    try:
        growth = math.exp(restart_s / mtbf_s) * math.expm1((interval_s + checkpoint_s) / mtbf_s)
    except OverflowError:  # segments hundreds of MTBFs long never finish
        return math.inf if solve_s > 0 else 0.0
    return mtbf_s * growth * solve_s / interval_s


def effective_training_time_ratio(interval_s: float, checkpoint_s: float, restart_s: float, mtbf_s: float) -> float:
    """Useful training time over elapsed time [-], ``T_s / T_w`` of ``expected_wall_time_s``; the
    quantity Llama 3 reports as "effective training time" (above 90 %)."""
    return interval_s / expected_wall_time_s(interval_s, interval_s, checkpoint_s, restart_s, mtbf_s)


def expected_lost_work_s(interval_s: float, checkpoint_s: float, mtbf_s: float) -> float:
    """Expected time since the last completed checkpoint when a failure strikes [s]: the mean of an
    exponential lifetime truncated to a segment ``T = tau + delta``,

        ``E[t | t < T] = M - T / (exp(T/M) - 1)``  (-> T/2 when T << M).
    """
    _check_interval_inputs(checkpoint_s, mtbf_s)
    if not interval_s > 0:
        raise ValueError("interval must be > 0")
    segment_s = interval_s + checkpoint_s
    x = segment_s / mtbf_s
    if x < 1e-3:  # M - T/(e^x - 1) = T (1/2 - x/12 + x^3/720 - ...), free of cancellation
        return segment_s * (0.5 - x / 12.0 + x**3 / 720.0)
    # T / (e^x - 1) written as T e^-x / (1 - e^-x): no overflow for segments much longer than M.
    return mtbf_s - segment_s * math.exp(-x) / -math.expm1(-x)
