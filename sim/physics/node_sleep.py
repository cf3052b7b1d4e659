"""Idle-node power-down: what sleeping saves, and when it pays.

An idle server still draws a large share of its peak (about 60% for the enterprise servers studied by
Meisner, Gold and Wenisch 2009, "PowerNap: Eliminating Server Idle Power", ASPLOS'09; 2,800 W of 10,200 W
for an idle DGX H100 per the Splitwise constants). Putting it into a low-power state (suspend to RAM,
"S3") cuts that to the draw of its memory in self-refresh and its management controller, at the price
of a wake-up delay during which it draws power and does no work. Suspending an HPC node to S3 takes
about 30 s and resuming it less than a minute (IBM, "Efficient power management in idle nodes",
IP.com IPCOM000237207D, 2014).

Energy of a node idle for T seconds [J]:
    staying idle:              E_idle  = P_idle T
    sleeping, woken at the end: E_sleep = P_sleep (T - t_wake) + P_wake t_wake        (T >= t_wake)

so sleeping saves energy when T exceeds the break-even idle time
    T* = (P_wake - P_sleep) t_wake / (P_idle - P_sleep).
With P_wake = P_idle (a node booting draws about its idle power: assumed), T* = t_wake.
"""

from __future__ import annotations

from dataclasses import dataclass

# IP.com IPCOM000237207D (2014): "resuming from S3 to a normal state takes less than a minute".
S3_RESUME_S = 60.0
# Draw of a suspended node as a share of its idle draw: ASSUMED 5% (DRAM self-refresh, BMC, fans at
# minimum); PowerNap calls the suspended state "near-zero-power". Give the scenario's own figure if known.
ASSUMED_SLEEP_SHARE_OF_IDLE = 0.05


@dataclass(frozen=True)
class SleepModel:
    """Power of a sleeping node [W], wake-up delay [s] and power while waking [W], per node."""

    sleep_w: float
    wake_s: float
    wake_w: float

    def __post_init__(self) -> None:
        if self.sleep_w < 0 or self.wake_s < 0 or self.wake_w < 0:
            raise ValueError("sleep power, wake-up time and wake power must be >= 0")

    @property
    def wake_energy_j(self) -> float:
        """Energy of one wake-up of one node [J]: P_wake x t_wake."""
        return self.wake_w * self.wake_s


def sleep_energy_j(model: SleepModel, idle_s: float) -> float:
    """Energy [J] of one node that sleeps through an idle spell of `idle_s` and is awake again at its end.

    Example: 2,800 W idle DGX H100, sleeping at 140 W, woken in 60 s at 2,800 W, idle 1 h:
    140 x 3,540 + 2,800 x 60 = 663,600 J, against 2,800 x 3,600 = 10,080,000 J staying idle.
    """
    if idle_s < model.wake_s:
        raise ValueError(f"an idle spell of {idle_s} s is shorter than the wake-up time {model.wake_s} s")
    return model.sleep_w * (idle_s - model.wake_s) + model.wake_energy_j


def break_even_idle_s(idle_w: float, model: SleepModel) -> float:
    """Idle time [s] above which sleeping saves energy: T* = (P_wake - P_sleep) t_wake / (P_idle - P_sleep).

    Example: P_wake = P_idle -> T* = t_wake (60 s for S3).
    """
    if idle_w <= model.sleep_w:
        return float("inf")
    return (model.wake_w - model.sleep_w) * model.wake_s / (idle_w - model.sleep_w)
