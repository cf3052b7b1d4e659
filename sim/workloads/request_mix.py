"""What an average request asks of a replica, from the length distributions: the inputs of the flow fidelity.

A service's requests draw prompt lengths P and output lengths O independently; the replica refuses a prompt as
long as the context window `ctx` or longer, and cuts an output where P + O reaches it (O' = min(O, ctx - P)),
exactly as the request-level service does (sim/workloads/service.py). After its prefill step a request needs
n = max(O' - 1, 0) decode steps, at contexts P + 1, ..., P + n (the new token included), so it adds

    K = sum_{s=1..n} (P + s) = n P + n (n + 1) / 2

tokens to the summed context of the decode steps it is in. Every expectation here is EXACT over the probability
mass functions of the two distributions (a lognormal length is ceil(X), X lognormal, so
P(ceil X = k) = Phi((ln k - mu)/sigma) - Phi((ln(k - 1) - mu)/sigma), renormalised below `max_tokens`), summed
in closed form over O' with prefix sums. The per-request latency distribution, which has no closed form, comes
from a fixed sample of (P, O') pairs drawn from the service's own named stream.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sim.workloads.arrivals import (
    EmpiricalLength,
    FixedLength,
    GeometricLength,
    LengthDistribution,
    LognormalLength,
    UniformLength,
)

# Requests in the fixed sample behind latency percentiles: the 99th percentile of a sample of 8,192 has a
# standard error of about sqrt(0.99 x 0.01 / 8192) = 0.11 percentage points of probability.
LATENCY_SAMPLE_SIZE = 8192


def _normal_cdf(x: np.ndarray) -> np.ndarray:
    erf = np.vectorize(math.erf, otypes=[float])
    return 0.5 * (1.0 + erf(np.asarray(x, dtype=float) / math.sqrt(2.0)))


def length_pmf(dist: LengthDistribution, limit: int) -> np.ndarray:
    """P(X = k) for k = 0 .. limit - 1, and P(X >= limit) at index `limit` (length limit + 1; sums to 1).

    `limit` is where the caller stops telling lengths apart (the context window: a longer prompt is refused and
    a longer output cut, whatever its exact length).
    """
    if limit < 1:
        raise ValueError(f"limit must be >= 1, got {limit}")
    pmf = np.zeros(limit + 1)
    if isinstance(dist, FixedLength):
        pmf[min(dist.tokens, limit)] = 1.0
    elif isinstance(dist, UniformLength):
        k = np.arange(dist.low, dist.high + 1)
        np.add.at(pmf, np.minimum(k, limit), 1.0 / k.size)
    elif isinstance(dist, GeometricLength):
        p = 1.0 / dist.mean_tokens
        k = np.arange(1, limit)
        pmf[1:limit] = (1.0 - p) ** (k - 1) * p
        pmf[limit] = (1.0 - p) ** (limit - 1)          # P(X >= limit)
    elif isinstance(dist, LognormalLength):
        mu, sigma = math.log(dist.median_tokens), dist.sigma
        top = dist.max_tokens
        k = np.arange(1, limit + 1, dtype=float)       # values 1 .. limit (limit collects the rest)
        if sigma == 0.0:
            pmf[min(math.ceil(dist.median_tokens), limit)] = 1.0
            return pmf
        upper = _normal_cdf((np.log(k) - mu) / sigma)
        lower = np.concatenate(([0.0], upper[:-1]))
        mass = upper - lower
        total = _normal_cdf((math.log(top) - mu) / sigma) if top is not None else 1.0
        if top is not None:
            mass[k > top] = 0.0
        mass[-1] += (total - upper[-1]) if top is None or top > limit else 0.0
        pmf[1:] = mass / total
    elif isinstance(dist, EmpiricalLength):
        values = np.asarray(dist.values, dtype=np.int64)
        weights = np.ones(values.size) if dist.weights is None else np.asarray(dist.weights, dtype=float)
        np.add.at(pmf, np.minimum(values, limit), weights / weights.sum())
    else:
        raise TypeError(f"no probability mass function for {type(dist).__name__}")
    return pmf / pmf.sum()


@dataclass(frozen=True)
class RequestMix:
    """Expectations per ACCEPTED request (prompt shorter than the context window), and the latency sample.

    accepted_fraction: P(P < ctx). prompt_tokens, output_tokens, decode_steps (n), decode_steps_sq (n^2),
    context_steps (K): means. kv_tokens: mean of P + O' (the KV reservation). prompt_positions: mean of
    P (P + 1) / 2 (causal attention of a prefill). The sample arrays hold `LATENCY_SAMPLE_SIZE` accepted requests.
    """

    accepted_fraction: float
    prompt_tokens: float
    output_tokens: float
    decode_steps: float
    decode_steps_sq: float
    context_steps: float
    kv_tokens: float
    prompt_pmf: np.ndarray            # over 0 .. ctx (accepted prompts only, renormalised)
    sample_prompt_tokens: np.ndarray
    sample_decode_steps: np.ndarray

    @property
    def context_per_decode_step(self) -> float:
        """Mean context of a sequence in a decode step [tokens]: E[K] / E[n] (0 without decode steps)."""
        return self.context_steps / self.decode_steps if self.decode_steps > 0 else 0.0


def request_mix(prompts: LengthDistribution, outputs: LengthDistribution, context_tokens: int,
                rng: np.random.Generator, sample_size: int = LATENCY_SAMPLE_SIZE) -> RequestMix:
    """The exact means of `RequestMix` for prompts and outputs drawn independently, and its latency sample."""
    ctx = int(context_tokens)
    p_pmf = length_pmf(prompts, ctx)          # index ctx: refused
    o_pmf = length_pmf(outputs, ctx)          # index ctx: >= ctx, cut anyway (O' <= ctx - P <= ctx - 1)
    accepted = float(p_pmf[:ctx].sum())
    if accepted <= 0.0:
        raise ValueError("every prompt is as long as the context window or longer: nothing would be served")
    o = np.arange(ctx + 1, dtype=float)
    n = np.maximum(o - 1.0, 0.0)
    # prefix sums over o < m of pmf(o) x (1, o, n, n^2): E[f(min(O, m))] = prefix(m) + f(m) P(O >= m)
    cum = [np.concatenate(([0.0], np.cumsum(o_pmf * f))) for f in (np.ones_like(o), o, n, n * n)]
    tail = 1.0 - cum[0]                                   # tail[m] = P(O >= m)
    p = np.arange(1, ctx, dtype=float)                    # accepted prompt lengths
    weight = p_pmf[1:ctx] / accepted
    m = (ctx - p).astype(np.int64)                        # output cap for each prompt length
    nm = np.maximum(m - 1.0, 0.0)
    e_o = cum[1][m] + m * tail[m]
    e_n = cum[2][m] + nm * tail[m]
    e_n2 = cum[3][m] + nm * nm * tail[m]
    e_k = p * e_n + (e_n2 + e_n) / 2.0
    prompt_tokens = float(np.dot(weight, p))
    sample_p, sample_n = _sample(prompts, outputs, ctx, rng, sample_size)
    prompt_pmf = np.zeros(ctx + 1)
    prompt_pmf[1:ctx] = weight
    return RequestMix(
        accepted_fraction=accepted,
        prompt_tokens=prompt_tokens,
        output_tokens=float(np.dot(weight, e_o)),
        decode_steps=float(np.dot(weight, e_n)),
        decode_steps_sq=float(np.dot(weight, e_n2)),
        context_steps=float(np.dot(weight, e_k)),
        kv_tokens=prompt_tokens + float(np.dot(weight, e_o)),
        prompt_pmf=prompt_pmf,
        sample_prompt_tokens=sample_p,
        sample_decode_steps=sample_n,
    )


def _sample(prompts: LengthDistribution, outputs: LengthDistribution, ctx: int, rng: np.random.Generator,
            size: int) -> tuple[np.ndarray, np.ndarray]:
    """`size` accepted requests (prompt tokens, decode steps), drawn as the request-level service draws them."""
    got_p, got_n, have = [], [], 0
    while have < size:
        p = prompts.sample(size, rng)
        o = outputs.sample(size, rng)
        keep = (p >= 1) & (p < ctx)
        p, o = p[keep], np.minimum(o[keep], ctx - p[keep])
        got_p.append(p)
        got_n.append(np.maximum(o - 1, 0))
        have += p.size
    return np.concatenate(got_p)[:size], np.concatenate(got_n)[:size]
