"""GPU power capping through dynamic voltage and frequency scaling (DVFS): cap -> clock -> speed and power.

A power cap is enforced by the GPU's firmware as a clock limit: when the projected draw would exceed the
cap, the clock (and with it the voltage) is lowered until it does not. Three published relations make a
cap predictable:

1. POWER vs CLOCK. Dynamic CMOS power is P_dyn = a C V^2 f; across the DVFS range the voltage scales
   about linearly with the frequency, so P_dyn ~ f^3, while the static (idle) part stays:

       P(s) = P_idle + P_dyn,1 s^3                                                   [W]

   with s = f / f_max the clock ratio and P_dyn,1 = (P_tdp - P_idle) x activity the dynamic draw of the
   work at full clock (sim.physics.power). Source of the law: the CMOS switching-power relation as used
   for GPUs in Mei, Wang and Chu 2017, "A survey and measurement study of GPU DVFS on energy
   conservation", Digital Communications and Networks 3(2):89-100. The cube holds while the voltage
   still follows the clock; near the voltage floor power falls only linearly with f, which is why the
   clock is not lowered below `min_clock_ratio` (assumed 0.5: about the lower end of the boost range).

2. TIME vs CLOCK. Only the frequency-sensitive (compute-bound) share of the work slows down:

       T(s) / T(1) = beta / s + (1 - beta)                                            [1]

   the "beta model" of Hsu and Feng 2005 ("A Power-Aware Run-Time System for High-Performance
   Computing", SC'05), beta being the share of the run time that scales with the core clock. LLM work
   spans the range: training and prefill are compute-bound (beta near 1) and their throughput follows
   the clock, while decode is memory-bound (beta small): it saturates HBM bandwidth, draws far below
   TDP (137-300 W on a 700 W H200, Ma et al. 2026, arXiv:2605.11999) and barely slows when the SM clock
   is lowered (Patel et al. 2024, "Characterizing Power Management Opportunities for LLMs in the Cloud",
   ASPLOS'24; Splitwise, Patel et al. ISCA'24: prefill compute-bound, decode memory-bound).

3. ACTIVITY vs BOUNDEDNESS. A memory-bound job also draws less at full clock. Its activity is taken
   between the measured phase powers of Splitwise (H100: prefill 700 W, decode 380 W, idle 75 W):
   a(beta) = beta x a_compute + (1 - beta) x a_memory, with a_compute the training activity of
   sim.physics.power and a_memory = (380 - 75) / (700 - 75) = 0.488 (decode).

Check against a measurement (McDonald et al. 2022, "Great Power, Great Responsibility", arXiv:2205.09646):
capping V100s from 250 W to 150 W cut training energy by 13.7% on average for 6.8% more time. With
beta = 1 the model gives +6.8% time at s = 0.936, where P(s)/P(1) falls by 18% for a job whose
dynamic part is 100% of its draw; an energy cut of 13.7% at +6.8% time means 19.2% less average
power: the same order. (The paper gives averages over several models, not their full-clock draw, so
this is a plausibility check, not a fit.)
"""

from __future__ import annotations

from dataclasses import dataclass

# Splitwise simulator constants (Patel et al., ISCA 2024), H100: idle 75 W, prompt 700 W, token 380 W.
_SPLITWISE_H100_IDLE_W = 75.0
_SPLITWISE_H100_PROMPT_W = 700.0
_SPLITWISE_H100_TOKEN_W = 380.0
# Activity of memory-bound (decode-like) work: its dynamic draw over the prompt phase's (TDP): 0.488.
MEMORY_BOUND_ACTIVITY = (_SPLITWISE_H100_TOKEN_W - _SPLITWISE_H100_IDLE_W) / (
    _SPLITWISE_H100_PROMPT_W - _SPLITWISE_H100_IDLE_W
)

# P_dyn ~ C V^2 f with V ~ f across the DVFS range (Mei, Wang and Chu 2017).
DYNAMIC_POWER_CLOCK_EXPONENT = 3.0
# Assumed lowest clock ratio a cap may impose: below it the voltage sits at its floor and the cube law
# no longer holds; a cap that needs a lower clock is not reachable and the GPU draws P(min) instead.
DEFAULT_MIN_CLOCK_RATIO = 0.5


@dataclass(frozen=True)
class DvfsModel:
    """The DVFS relations of this module: exponent of dynamic power in the clock and the lowest clock."""

    exponent: float = DYNAMIC_POWER_CLOCK_EXPONENT
    min_clock_ratio: float = DEFAULT_MIN_CLOCK_RATIO

    def __post_init__(self) -> None:
        if self.exponent <= 0:
            raise ValueError(f"exponent must be positive, got {self.exponent}")
        if not 0 < self.min_clock_ratio <= 1:
            raise ValueError(f"min_clock_ratio must lie in (0, 1], got {self.min_clock_ratio}")


DVFS = DvfsModel()


def activity_for_boundedness(compute_bound_fraction: float, compute_activity: float) -> float:
    """GPU activity [1] of work whose run time is `compute_bound_fraction` compute-bound:
    a = beta a_compute + (1 - beta) a_memory, a_memory = 0.488 (Splitwise H100 decode vs prefill).

    Example: beta = 1 with the training activity 0.669 -> 0.669; beta = 0 -> 0.488.
    """
    _check_fraction(compute_bound_fraction)
    return compute_bound_fraction * compute_activity + (1.0 - compute_bound_fraction) * MEMORY_BOUND_ACTIVITY


def gpu_power_at_clock_w(idle_w: float, dynamic_w: float, clock_ratio: float, model: DvfsModel = DVFS) -> float:
    """Power [W] of one GPU at clock ratio s: P = P_idle + P_dyn,1 s^3.

    `dynamic_w` is the dynamic draw of the work at full clock [W]. Example: H100 training (idle 75 W,
    dynamic 418.2 W) at s = 0.9: 75 + 418.2 x 0.729 = 379.9 W.
    """
    _check_clock(clock_ratio)
    return idle_w + dynamic_w * clock_ratio**model.exponent


def clock_ratio_for_cap(cap_w: float, idle_w: float, dynamic_w: float, model: DvfsModel = DVFS) -> float:
    """Highest clock ratio s in [min, 1] at which P(s) <= cap [1]: s = ((cap - P_idle) / P_dyn,1)^(1/3).

    1 when the work draws no more than the cap at full clock; `model.min_clock_ratio` when even that
    clock draws more than the cap (the cap is not reachable: see `cap_reachable`).
    Example: H100 training (75 W idle, 418.2 W dynamic) under a 400 W cap: (325 / 418.2)^(1/3) = 0.919.
    """
    if cap_w >= idle_w + dynamic_w or dynamic_w <= 0:
        return 1.0
    if cap_w <= idle_w:
        return model.min_clock_ratio
    ratio = ((cap_w - idle_w) / dynamic_w) ** (1.0 / model.exponent)
    return min(1.0, max(model.min_clock_ratio, ratio))


def cap_reachable(cap_w: float, idle_w: float, dynamic_w: float, model: DvfsModel = DVFS) -> bool:
    """Whether the GPU can stay within `cap_w` [W] at a clock no lower than the model's minimum."""
    return gpu_power_at_clock_w(idle_w, dynamic_w, model.min_clock_ratio, model) <= cap_w + 1e-9


def time_stretch(clock_ratio: float, compute_bound_fraction: float) -> float:
    """Run time at clock ratio s over run time at full clock [1]: beta / s + (1 - beta) (Hsu & Feng 2005).

    Example: compute-bound (beta = 0.95) at s = 0.8 -> 1.2375; memory-bound (beta = 0.2) -> 1.05.
    """
    _check_clock(clock_ratio)
    _check_fraction(compute_bound_fraction)
    return compute_bound_fraction / clock_ratio + (1.0 - compute_bound_fraction)


def energy_ratio(clock_ratio: float, compute_bound_fraction: float, idle_w: float, dynamic_w: float,
                 other_w: float = 0.0, model: DvfsModel = DVFS) -> float:
    """Energy of a job at clock ratio s over its energy at full clock [1]:

        E(s) / E(1) = (P(s) + P_other) T(s) / ((P(1) + P_other) T(1))

    where P_other [W] is what runs alongside the GPU and does not follow its clock (its share of the
    host). Example: memory-bound (beta = 0.2) H100 work, idle 75 W, dynamic 327.6 W, at s = 0.882:
    P = 300 W, T x 1.027 -> E ratio 0.765 with no host share.
    """
    full = gpu_power_at_clock_w(idle_w, dynamic_w, 1.0, model) + other_w
    capped = gpu_power_at_clock_w(idle_w, dynamic_w, clock_ratio, model) + other_w
    return capped * time_stretch(clock_ratio, compute_bound_fraction) / full


def _check_clock(clock_ratio: float) -> None:
    if not 0 < clock_ratio <= 1:
        raise ValueError(f"clock ratio must lie in (0, 1], got {clock_ratio}")


def _check_fraction(fraction: float) -> None:
    if not 0 <= fraction <= 1:
        raise ValueError(f"compute-bound fraction must lie in [0, 1], got {fraction}")
