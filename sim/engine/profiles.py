"""Power profiles of a load between two events: constant, or periodic piecewise-constant.

A training job repeats identical iterations; within one, the accelerators pass through phases
(compute, exposed communication, ...) at different powers. Rather than one event per phase of
every iteration, the job hands the meter a periodic profile whose integral over any interval has a
closed form, so K iterations cost O(1) and output bins cut through an iteration stay exact.
"""

from __future__ import annotations

import math
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
        edges = np.concatenate(([0.0], np.cumsum(self.durations_s)))
        energies = np.concatenate(([0.0], np.cumsum(np.multiply(self.durations_s, self.powers_w))))
        object.__setattr__(self, "_edges_s", edges)
        object.__setattr__(self, "_cum_energy_j", energies)

    @property
    def period_s(self) -> float:
        return float(self._edges_s[-1])

    @property
    def period_energy_j(self) -> float:
        return float(self._cum_energy_j[-1])

    @property
    def mean_power_w(self) -> float:
        return self.period_energy_j / self.period_s

    def _cumulative_j(self, t_s: float) -> float:
        elapsed = t_s - self.origin_s
        periods = math.floor(elapsed / self.period_s)
        offset = elapsed - periods * self.period_s
        i = int(np.searchsorted(self._edges_s, offset, side="right")) - 1
        i = min(max(i, 0), len(self.powers_w) - 1)
        within = self._cum_energy_j[i] + self.powers_w[i] * (offset - self._edges_s[i])
        return periods * self.period_energy_j + float(within)

    def energy_j(self, start_s: float, end_s: float) -> float:
        return self._cumulative_j(end_s) - self._cumulative_j(start_s)


@dataclass(frozen=True)
class PiecewisePower:
    """A planned schedule: `powers_w[i]` on `[edges_s[i], edges_s[i+1])`, the last power from the last edge on.

    For a component whose next phases are known when it changes state (an inference replica that will
    prefill, then decode until its next completion): one call sets the whole plan, and a later change
    simply replaces it from that instant on. Before `edges_s[0]` the first power holds.
    """

    edges_s: tuple[float, ...]
    powers_w: tuple[float, ...]

    def __post_init__(self) -> None:
        if len(self.edges_s) != len(self.powers_w) or not self.edges_s:
            raise ValueError("a piecewise profile needs one power per edge, at least one")
        if any(b < a for a, b in zip(self.edges_s, self.edges_s[1:])):
            raise ValueError("piecewise profile edges must be non-decreasing")
        energies = [0.0]
        for i in range(len(self.edges_s) - 1):
            energies.append(energies[-1] + self.powers_w[i] * (self.edges_s[i + 1] - self.edges_s[i]))
        object.__setattr__(self, "_cum_energy_j", tuple(energies))

    @property
    def mean_power_w(self) -> float:
        """Heat load seen by the facility: the power planned right now (the first segment)."""
        return self.powers_w[0]

    def _cumulative_j(self, t_s: float) -> float:
        edges = self.edges_s
        if t_s <= edges[0]:
            return self.powers_w[0] * (t_s - edges[0])
        i = int(np.searchsorted(edges, t_s, side="right")) - 1
        return self._cum_energy_j[i] + self.powers_w[i] * (t_s - edges[i])

    def energy_j(self, start_s: float, end_s: float) -> float:
        return self._cumulative_j(end_s) - self._cumulative_j(start_s)
