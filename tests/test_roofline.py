"""Roofline step times: closed forms, bounds, tensor parallelism, KV capacity, published throughput."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.catalog.llm_models import BF16, FP8, INT4, ServedModel, llm_architecture
from sim.catalog.hardware import GpuSpec, gpu_catalog
from sim.physics.roofline import (
    NCCL_RING_EFFICIENCY,
    NVLINK_ALLREDUCE_LATENCY_S,
    DecodeStepLaw,
    ReplicaSpec,
    RooflineStepCost,
    ServingEfficiency,
    causal_prefill_positions,
    decode_step,
    decode_step_law,
    forward_flops,
    moe_expert_fraction_touched,
    prefill_step,
    ring_allreduce_time_s,
    weight_bytes_read,
)

H100_SXM = gpu_catalog()["h100-sxm5-80gb"]
A100_SXM_80GB = gpu_catalog()["a100-sxm4-80gb"]
A100_SXM_40GB = gpu_catalog()["a100-sxm4-40gb"]

PEAK = ServingEfficiency(compute=1.0, memory_bandwidth=1.0)


def replica(name: str, accelerator=H100_SXM, tp: int = 1, efficiency=PEAK, weights=BF16, kv=BF16):
    return ReplicaSpec(ServedModel(llm_architecture(name), weights, kv), accelerator, tp, efficiency)


def test_decode_of_70b_bf16_on_one_h100_is_bandwidth_bound():
    """Every weight is read once per token: ~138 GB / 3.35 TB/s = 41 ms at batch 1."""
    r = replica("llama-2-70b")
    step = decode_step(r, batch_size=1, context_tokens=1)
    assert step.bound == "memory" and step.communication_s == 0.0
    expected = (weight_bytes_read(r.model, 1) + r.kv_bytes_per_token) / H100_SXM.hbm_bandwidth_bytes_per_s
    assert step.time_s == pytest.approx(expected, rel=1e-12)
    assert step.time_s == pytest.approx(r.model.weight_bytes / 3.35e12, rel=0.005)  # embeddings not read
    assert 0.040 < step.time_s < 0.042
    assert step.compute_fraction < 0.01


def test_prefill_is_compute_bound_with_the_attention_term():
    """Llama-2-7B, 2,048-token prompt, one H100 at peak: FLOP = 2 N P + 4 L d P(P+1)/2."""
    r = replica("llama-2-7b")
    arch = r.architecture
    prompt = 2048
    flops = 2 * arch.matmul_params_per_token * prompt + 4 * arch.n_layers * arch.attention_dim * prompt * (prompt + 1) / 2
    assert forward_flops(arch, prompt, causal_prefill_positions(prompt)) == pytest.approx(flops, rel=1e-12)
    step = prefill_step(r, [prompt])
    assert step.bound == "compute"
    assert step.time_s == pytest.approx(flops / H100_SXM.peak_flop_per_s, rel=1e-12)
    assert step.time_s == pytest.approx(0.0285, rel=0.01)        # 28 ms
    assert step.memory_s < step.time_s / 5                       # weights: 13.5 GB / 3.35 TB/s = 4 ms
    # attention makes prefill superlinear in the prompt
    assert prefill_step(r, [2 * prompt]).time_s > 2 * step.time_s


def test_decode_turns_compute_bound_at_the_ridge_batch():
    """With no context, compute = memory at b* = peak x bytes_read / (2 N_matmul x bandwidth),
    about 295 for a bf16 model on H100."""
    r = replica("llama-2-70b")
    arch = r.architecture
    ridge = (H100_SXM.peak_flop_per_s * weight_bytes_read(r.model, 1)
             / (2 * arch.matmul_params_per_token * H100_SXM.hbm_bandwidth_bytes_per_s))
    assert 290 < ridge < 300
    below, above = math.floor(ridge), math.ceil(ridge)
    assert decode_step(r, below, 0).bound == "memory"
    assert decode_step(r, above, 0).bound == "compute"


def test_efficiency_factors_scale_the_bounds():
    half = ServingEfficiency(compute=0.5, memory_bandwidth=0.5)
    full, slow = replica("llama-2-7b"), replica("llama-2-7b", efficiency=half)
    assert decode_step(slow, 1, 100).time_s == pytest.approx(2 * decode_step(full, 1, 100).time_s)
    assert prefill_step(slow, [4096]).time_s == pytest.approx(2 * prefill_step(full, [4096]).time_s)


def test_default_bandwidth_efficiency_reproduces_gpt_fast():
    """gpt-fast (pytorch-labs/gpt-fast README, A100-80GB, batch 1): Llama-2-7B bf16 104.9 token/s."""
    r = replica("llama-2-7b", A100_SXM_80GB, efficiency=ServingEfficiency())
    tokens_per_s = 1.0 / decode_step(r, 1, 200).time_s
    assert tokens_per_s == pytest.approx(104.9, rel=0.03)


def test_fp8_doubles_usable_peak_on_hopper_but_not_on_ampere():
    bf16 = replica("llama-2-70b", tp=8)
    fp8 = replica("llama-2-70b", tp=8, weights=FP8, kv=FP8)
    fp8_speedup = H100_SXM.peak_fp8_flop_per_s / H100_SXM.peak_flop_per_s     # 1,979 / 989 TFLOP/s
    assert fp8_speedup == pytest.approx(2.0, rel=1e-3)
    assert prefill_step(fp8, [8192]).compute_s == pytest.approx(prefill_step(bf16, [8192]).compute_s / fp8_speedup)
    assert decode_step(fp8, 1, 1000).memory_s == pytest.approx(decode_step(bf16, 1, 1000).memory_s / 2)
    a100_bf16 = replica("llama-2-70b", A100_SXM_80GB, tp=8)
    a100_fp8 = replica("llama-2-70b", A100_SXM_80GB, tp=8, weights=FP8)
    assert prefill_step(a100_fp8, [8192]).compute_s == pytest.approx(prefill_step(a100_bf16, [8192]).compute_s)
    # int4 weights (W4A16): a quarter of the weight traffic, bf16 math
    int4 = replica("llama-2-70b", tp=8, weights=INT4)
    assert weight_bytes_read(int4.model, 1) == pytest.approx(weight_bytes_read(bf16.model, 1) / 4)
    assert prefill_step(int4, [8192]).compute_s == pytest.approx(prefill_step(bf16, [8192]).compute_s)


def test_ring_allreduce_alpha_beta():
    """t = alpha + 2 (g-1)/g x n / B_bus: 1 MB over 8 H100 at 370 GB/s and 6 us = 10.73 us."""
    assert ring_allreduce_time_s(1e6, 1, 370e9, 6e-6) == 0.0
    assert ring_allreduce_time_s(1e6, 8, 370e9, 6e-6) == pytest.approx(6e-6 + 1.75e6 / 370e9, rel=1e-12)
    assert ring_allreduce_time_s(1e6, 8, 370e9, 6e-6) == pytest.approx(10.73e-6, rel=1e-3)


def test_tensor_parallel_splits_work_and_adds_two_allreduces_per_layer():
    one, eight = replica("llama-2-70b"), replica("llama-2-70b", tp=8)
    batch, context = 32, 32 * 1000
    s1, s8 = decode_step(one, batch, context), decode_step(eight, batch, context)
    assert s8.memory_s == pytest.approx(s1.memory_s / 8)
    assert s8.compute_s == pytest.approx(s1.compute_s / 8)
    arch = eight.architecture
    message = batch * arch.hidden_size * 2.0
    # NCCL on NVLink 4: 450 GB/s line rate x 370/450 = 370 GB/s bus bandwidth (nccl-tests#212)
    bus = H100_SXM.link_bandwidth_bytes_per_s * NCCL_RING_EFFICIENCY
    assert bus == pytest.approx(370e9)
    per_allreduce = ring_allreduce_time_s(message, 8, bus, NVLINK_ALLREDUCE_LATENCY_S)
    assert s8.communication_s == pytest.approx(2 * arch.n_layers * per_allreduce)
    assert s8.time_s == pytest.approx(max(s8.compute_s, s8.memory_s) + s8.communication_s)
    # communication is why 8 GPUs are less than 8 x faster
    assert s1.time_s / s8.time_s < 8


def test_kv_capacity_closed_form_and_fit():
    """(g x HBM x 0.9 - weights) / KV bytes per token, with the catalog's 80 GB per H100."""
    r = replica("llama-2-70b", tp=4, efficiency=ServingEfficiency())
    expected = (4 * 80e9 * 0.9 - r.model.weight_bytes) / 327_680
    assert r.kv_capacity_tokens == math.floor(expected)
    assert 455_000 < r.kv_capacity_tokens < 460_000
    assert r.fits
    alone = replica("llama-2-70b", efficiency=ServingEfficiency())     # 138 GB on one 80 GB GPU
    assert alone.kv_capacity_tokens < 0 and not alone.fits
    with pytest.raises(ValueError, match="fewer than one"):
        alone.require_fit()
    replica("llama-2-7b", A100_SXM_40GB, efficiency=ServingEfficiency()).require_fit()


def test_kv_heads_are_replicated_beyond_their_count():
    r16 = replica("llama-2-70b", tp=16)      # 8 KV heads on 16 GPUs: each head stored twice
    r8 = replica("llama-2-70b", tp=8)
    assert r16.kv_bytes_per_token == 2 * r8.kv_bytes_per_token


def test_mixture_of_experts_reads_only_the_experts_it_touches():
    r = replica("mixtral-8x7b", tp=2)
    arch = r.architecture
    assert moe_expert_fraction_touched(arch, 1) == pytest.approx(2 / 8)
    assert moe_expert_fraction_touched(arch, 2) == pytest.approx(1 - (6 / 8) ** 2)
    assert moe_expert_fraction_touched(arch, 64) == pytest.approx(1.0, abs=1e-7)
    cold = arch.expert_params * (1 - 2 / 8) * 2.0
    assert weight_bytes_read(r.model, 1) == pytest.approx(weight_bytes_read(r.model, 10_000) - cold, rel=1e-6)
    # FLOPs follow active parameters: a Mixtral token costs about as much as a 13B dense token
    assert forward_flops(arch, 1, 0) == pytest.approx(2 * arch.matmul_params_per_token)
    assert arch.matmul_params_per_token < 0.3 * arch.total_params


@settings(max_examples=200, deadline=None)
@given(cf=st.floats(0, 1e-2), cs=st.floats(0, 1e-6), mf=st.floats(1e-4, 1e-2), ms=st.floats(0, 1e-6),
       comm=st.floats(0, 1e-3), c0=st.integers(1, 100_000), growth=st.integers(1, 512), n=st.integers(0, 400))
def test_decode_run_sums_equal_step_by_step_sums(cf, cs, mf, ms, comm, c0, growth, n):
    """The closed-form run (two arithmetic series split where compute and memory cross) equals the
    step-by-step sum, and steps_within inverts it."""
    law = DecodeStepLaw(cf, cs, mf, ms, comm)
    steps = [law.step(c0 + growth * k) for k in range(n)]
    assert law.run_time_s(c0, growth, n) == pytest.approx(sum(s.time_s for s in steps), rel=1e-9, abs=1e-15)
    assert law.run_compute_s(c0, growth, n) == pytest.approx(sum(s.compute_s for s in steps), rel=1e-9, abs=1e-15)
    duration = law.run_time_s(c0, growth, n) * 0.731
    k = law.steps_within(c0, growth, duration, n)
    assert law.run_time_s(c0, growth, k) <= duration
    assert k == n or law.run_time_s(c0, growth, k + 1) > duration


def test_decode_step_law_matches_decode_step():
    r = replica("llama-3-70b", tp=4, efficiency=ServingEfficiency())
    law = decode_step_law(r, 64)
    for context in (64, 64 * 512, 64 * 4096):
        assert law.step(context) == decode_step(r, 64, context)
    with pytest.raises(ValueError):
        decode_step_law(r, 0)


@pytest.mark.parametrize("name, tp", [("llama-2-70b", 4), ("mixtral-8x7b", 2), ("gpt-3-175b", 8)])
def test_step_cost_for_the_batching_model_is_the_roofline(name, tp):
    r = replica(name, tp=tp, efficiency=ServingEfficiency())
    cost = RooflineStepCost(r)
    for prompts in ([17], [512, 2048, 3], [1] * 40):
        assert cost.prefill_cost(prompts) == pytest.approx(prefill_step(r, prompts), rel=1e-12)
    assert cost.decode_step_law(32) is cost.decode_step_law(32)
    assert cost.decode_step_law(32) == decode_step_law(r, 32)
    with pytest.raises(ValueError):
        cost.prefill_cost([])


def test_hardware_comes_from_the_catalog_and_tensor_parallelism_needs_links():
    """The roofline reads the catalog's GpuSpec; a GPU without a chip-to-chip link serves on one GPU only."""
    tpu = gpu_catalog()["tpu-v4"]
    assert tpu.link_bandwidth_bytes_per_s is None
    ReplicaSpec(ServedModel(llm_architecture("llama-2-7b")), tpu, 1)
    with pytest.raises(ValueError, match="link bandwidth"):
        ReplicaSpec(ServedModel(llm_architecture("llama-2-7b")), tpu, 2)
    inline = GpuSpec(key="x", name="x", tdp_w=500, idle_w=50, peak_flop_per_s=500e12, hbm_bytes=96e9,
                     hbm_bandwidth_bytes_per_s=4e12, link_bandwidth_bytes_per_s=400e9)
    step = decode_step(ReplicaSpec(ServedModel(llm_architecture("llama-2-70b")), inline, 2, PEAK), 1, 1)
    assert step.memory_s == pytest.approx((weight_bytes_read(ServedModel(llm_architecture("llama-2-70b")), 1)
                                           + 327_680) / 8e12, rel=1e-12)
