"""Exact means of what a request asks of a replica, from the length distributions (flow fidelity)."""

import numpy as np
import pytest

from sim.workloads.arrivals import FixedLength, GeometricLength, LognormalLength, UniformLength
from sim.workloads.request_mix import length_pmf, request_mix


@pytest.mark.parametrize("dist", [FixedLength(7), UniformLength(3, 9), GeometricLength(40.0),
                                  LognormalLength(30.0, 0.8, 200), LognormalLength(30.0, 1.5)])
def test_the_pmf_sums_to_one_and_has_the_sampled_mean(dist):
    limit = 100
    pmf = length_pmf(dist, limit)
    assert pmf.sum() == pytest.approx(1.0, rel=1e-12)
    draws = np.minimum(dist.sample(400_000, np.random.default_rng(1)), limit)
    assert float(np.dot(np.arange(limit + 1), pmf)) == pytest.approx(draws.mean(), rel=0.01)


def test_fixed_lengths_by_hand():
    """P = 10, O = 5: n = 4 decode steps at contexts 11..14, so K = 50; KV reserves 15 tokens."""
    mix = request_mix(FixedLength(10), FixedLength(5), 4096, np.random.default_rng(0), sample_size=16)
    assert (mix.prompt_tokens, mix.output_tokens, mix.decode_steps, mix.context_steps, mix.kv_tokens) == \
        pytest.approx((10, 5, 4, 11 + 12 + 13 + 14, 15))
    assert mix.accepted_fraction == 1.0
    assert set(mix.sample_decode_steps.tolist()) == {4}


def test_refusals_and_the_context_cut_as_the_request_level_service_applies_them():
    """Context 100: prompts of 100+ are refused; an output is cut at 100 - P."""
    prompts, outputs = UniformLength(60, 139), FixedLength(50)       # 40 % of prompts refused
    mix = request_mix(prompts, outputs, 100, np.random.default_rng(0))
    assert mix.accepted_fraction == pytest.approx(0.5)
    p = np.arange(60, 100)
    o = np.minimum(50, 100 - p)
    assert mix.output_tokens == pytest.approx(o.mean())
    n = np.maximum(o - 1, 0)
    assert mix.context_steps == pytest.approx((n * p + n * (n + 1) / 2).mean())
    assert mix.sample_prompt_tokens.max() < 100
    assert np.all(mix.sample_decode_steps <= np.maximum(100 - mix.sample_prompt_tokens - 1, 0))


def test_exact_means_match_a_large_sample():
    prompts, outputs = LognormalLength(500, 0.8, 3000), GeometricLength(300.0)
    mix = request_mix(prompts, outputs, 2048, np.random.default_rng(0))
    rng = np.random.default_rng(5)
    p, o = prompts.sample(1_000_000, rng), outputs.sample(1_000_000, rng)
    keep = p < 2048
    p, o = p[keep], np.minimum(o[keep], 2048 - p[keep])
    n = np.maximum(o - 1, 0)
    assert mix.accepted_fraction == pytest.approx(keep.mean(), abs=2e-3)
    assert mix.decode_steps == pytest.approx(n.mean(), rel=5e-3)
    assert mix.context_steps == pytest.approx((n * p + n * (n + 1) / 2).mean(), rel=1e-2)
