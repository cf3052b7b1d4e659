"""Multi-server queues: Erlang's formulas and the Allen-Cunneen approximation for GI/G/c.

Pure functions; times in seconds, rates in 1/s, loads in Erlangs (a = lambda / mu, the mean number of busy
servers). The flow fidelity of inference services (sim/workloads/flow.py) uses them with a replica's "seats"
(sequences its running batch holds) as servers.

* M/M/c (Erlang 1917; Kleinrock 1975, Queueing Systems Vol. 1, Section 3.5): with c servers, offered load
  a = lambda / mu < c and rho = a / c,

      B(c, a) = (a^c / c!) / sum_{k=0..c} a^k / k!                      (Erlang B, by the stable recursion
                                                                          B_k = a B_{k-1} / (k + a B_{k-1}))
      C(c, a) = c B / (c - a (1 - B))                                    (Erlang C: probability of waiting)
      P(W > t) = C exp(-(c mu - lambda) t),   E[W] = C / (c mu - lambda)
      p_0 = 1 / (sum_{k<c} a^k / k! + a^c / (c! (1 - rho)))             (probability that the system is empty)

  Worked number: c = 2, a = 1 (rho = 0.5): B = 0.2, C = 1/3; with mu = 1, E[W] = 1/3 s.
* GI/G/c, Allen-Cunneen (A. O. Allen, Probability, Statistics, and Queueing Theory, 2nd ed., Academic Press
  1990, Section 6.4; W. Whitt, "Approximations for the GI/G/m queue", Production and Operations Management
  2(2):114-161, 1993, eq. 2.24): the M/M/c mean wait scaled by the squared coefficients of variation of the
  inter-arrival (ca^2) and service (cs^2) times,

      E[W] ~= C(c, a) / (c mu - lambda) x (ca^2 + cs^2) / 2 ,

  exact for M/M/c (ca^2 = cs^2 = 1) and, for c = 1 with Poisson arrivals, the Pollaczek-Khinchine mean.
  The wait of a delayed customer is taken exponential with that conditional mean (the M/M/c shape).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


# Above this many servers Erlang B is summed from the Poisson terms near c instead of by the O(c) recursion
# (a service of 1,000 replicas x 256 seats has 256,000 of them).
_RECURSION_MAX_SERVERS = 2000


def erlang_b(servers: int, offered_erlangs: float) -> float:
    """Blocking probability B(c, a) of M/M/c/c [-] = P(N = c) / P(N <= c), N ~ Poisson(a).

    Up to 2,000 servers by the stable recursion B_k = a B_{k-1} / (k + a B_{k-1}); above, from the Poisson
    terms from c down to where they no longer count, each the last times k / a = pmf(k - 1) / pmf(k) (B
    is 0 below e^-600: c far above a).
    """
    if servers < 1:
        raise ValueError(f"need at least one server, got {servers}")
    if offered_erlangs < 0:
        raise ValueError(f"offered load must be >= 0, got {offered_erlangs}")
    if offered_erlangs == 0.0:
        return 0.0
    if servers <= _RECURSION_MAX_SERVERS:
        b = 1.0
        for k in range(1, servers + 1):
            b = offered_erlangs * b / (k + offered_erlangs * b)
        return b
    a = offered_erlangs
    log_pmf_c = servers * math.log(a) - a - math.lgamma(servers + 1.0)
    if log_pmf_c < -600.0:
        return 0.0                   # B < P(N = c) < e^-600; and the terms below cannot overflow
    # sum_{k <= c} pmf(k) / pmf(c) = 1 + sum_j prod_{k = c - j + 1 .. c} k / a: the terms grow while k > a, then
    # fall; 40 standard deviations below the mean they no longer count (P(N < a - 40 sqrt(a)) < 1e-300)
    lowest = max(int(a - 40.0 * math.sqrt(a)) - 50, 0)
    ratios = np.arange(servers, lowest, -1, dtype=float) / a
    return 1.0 / (1.0 + float(np.sum(np.cumprod(ratios))))


def erlang_c(servers: int, offered_erlangs: float) -> float:
    """Probability that an arrival waits in M/M/c [-]; 1 at or beyond saturation (a >= c)."""
    if offered_erlangs >= servers:
        return 1.0
    b = erlang_b(servers, offered_erlangs)
    return servers * b / (servers - offered_erlangs * (1.0 - b))


def poisson_cdf(k: int, mean: float) -> float:
    """P(N <= k) for N ~ Poisson(mean), summed in log space (no overflow for large means)."""
    if k < 0:
        return 0.0
    if mean <= 0:
        return 1.0
    log_term = -mean          # log of P(N = 0)
    total = 0.0
    terms = []
    for j in range(k + 1):
        if j:
            log_term += math.log(mean) - math.log(j)
        terms.append(log_term)
    top = max(terms)
    total = math.fsum(math.exp(t - top) for t in terms)
    return min(math.exp(top) * total, 1.0)


def mmc_empty_probability(servers: int, offered_erlangs: float) -> float:
    """p_0 of M/M/c [-]: the probability that no server is busy (a < c).

    p_0 = e^{-a} / (P(Poisson(a) <= c) x (1 + B rho / (1 - rho))), from sum_{k<=c} a^k/k! = e^a P(N <= c).
    """
    if offered_erlangs <= 0:
        return 1.0
    if offered_erlangs >= servers:
        return 0.0
    rho = offered_erlangs / servers
    b = erlang_b(servers, offered_erlangs)
    return math.exp(-offered_erlangs) / (poisson_cdf(servers, offered_erlangs) * (1.0 + b * rho / (1.0 - rho)))


@dataclass(frozen=True)
class WaitingTime:
    """The wait for a server: 0 with probability 1 - p_wait, else exponential with mean `delayed_mean_s`."""

    p_wait: float
    delayed_mean_s: float

    @property
    def mean_s(self) -> float:
        return self.p_wait * self.delayed_mean_s

    def exceedance(self, t_s: float) -> float:
        """P(W > t) [-]."""
        if t_s < 0:
            return 1.0
        if self.p_wait <= 0.0 or self.delayed_mean_s <= 0.0:
            return 0.0
        return self.p_wait * math.exp(-t_s / self.delayed_mean_s)


NO_WAIT = WaitingTime(0.0, 0.0)


def allen_cunneen_wait(servers: int, arrival_rate_per_s: float, service_s: float,
                       arrival_scv: float = 1.0, service_scv: float = 1.0) -> WaitingTime:
    """Waiting time of GI/G/c by Allen-Cunneen: P(wait) = C(c, a), conditional mean 1/(c mu - lambda) x
    (ca^2 + cs^2)/2 [s]. Stable queues only (a = lambda x service_s < c); raises otherwise.

    Worked number: M/M/1 at rho = 0.5, service 1 s: C = 0.5, conditional mean 2 s, E[W] = 1 s = rho/(mu - lambda).
    """
    if service_s <= 0 or arrival_rate_per_s < 0:
        raise ValueError("need a positive service time and a non-negative arrival rate")
    offered = arrival_rate_per_s * service_s
    if offered >= servers:
        raise ValueError(f"unstable queue: offered load {offered:.4g} Erlangs on {servers} servers")
    if offered == 0.0:
        return NO_WAIT
    p_wait = erlang_c(servers, offered)
    drain_per_s = servers / service_s - arrival_rate_per_s
    return WaitingTime(p_wait, (arrival_scv + service_scv) / 2.0 / drain_per_s)
