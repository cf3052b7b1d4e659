"""Power profiles of a load between two events: constant, or periodic piecewise-constant.

A training job repeats identical iterations; within one, the accelerators pass through phases
(compute, exposed communication, ...) at different powers. Rather than one event per phase of
every iteration, the job hands the meter a periodic profile whose integral over any interval has a
closed form, so K iterations cost O(1) and output bins cut through an iteration stay exact.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ConstantPower:
    power_w: float

    @property
    def mean_power_w(self) -> float:
        return self.power_w

    def energy_j(self, start_s: float, end_s: float) -> float:
        return self.power_w * (end_s - start_s)


ZERO = ConstantPower(0.0)


@dataclass(frozen=True)
class PeriodicPower:
    """Phases `(duration_s, power_w)` repeated forever from `origin_s`.

    E(a, b) = F(b) - F(a), with F(t) = n E_period + G(t - origin - n T), n = floor((t - origin)/T),
    and G the energy from the start of a period to an offset within it.
    """

    origin_s: float
    durations_s: tuple[float, ...]
    powers_w: tuple[float, ...]

    def __post_init__(self) -> None:
        if len(self.durations_s) != len(self.powers_w) or not self.durations_s:
            raise ValueError("a periodic profile needs one power per phase, at least one phase")
        if any(d < 0 for d in self.durations_s) or sum(self.durations_s) <= 0:
            raise ValueError("phase durations must be >= 0 with a positive period")
        # Plain tuples and bisect: a profile has a handful of phases, where numpy calls cost more than they save.
        edges = tuple(float(x) for x in np.concatenate(([0.0], np.cumsum(self.durations_s))))
        energies = tuple(float(x) for x in np.concatenate(([0.0], np.cumsum(np.multiply(self.durations_s, self.powers_w)))))
        object.__setattr__(self, "_edges_s", edges)
        object.__setattr__(self, "_cum_energy_j", energies)
        object.__setattr__(self, "_last", (math.nan, 0.0))

    @property
    def period_s(self) -> float:
        return self._edges_s[-1]

    @property
    def period_energy_j(self) -> float:
        return self._cum_energy_j[-1]

    @property
    def mean_power_w(self) -> float:
        return self.period_energy_j / self.period_s

    def _cumulative_j(self, t_s: float) -> float:
        elapsed = t_s - self.origin_s
        periods = math.floor(elapsed / self.period_s)
        offset = elapsed - periods * self.period_s
        i = min(max(bisect_right(self._edges_s, offset) - 1, 0), len(self.powers_w) - 1)
        within = self._cum_energy_j[i] + self.powers_w[i] * (offset - self._edges_s[i])
        return periods * self.period_energy_j + within

    def energy_j(self, start_s: float, end_s: float) -> float:
        # The meter integrates consecutive stretches, so F(start) is usually the F(end) of the last call.
        cached_t, cached_f = self._last
        start_f = cached_f if start_s == cached_t else self._cumulative_j(start_s)
        end_f = self._cumulative_j(end_s)
        object.__setattr__(self, "_last", (end_s, end_f))
        return end_f - start_f
