"""Collective times: the alpha-beta closed forms, NCCL's bus-bandwidth relations, an ideal network."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sim.physics.collectives import (
    IDEAL_CLUSTER_LINKS_8,
    IDEAL_LINK,
    AlphaBeta,
    BatchShape,
    ClusterLinks,
    ParallelLayout,
    TransformerShape,
    allgather_time_s,
    allreduce_time_s,
    binomial_tree_allreduce_time_s,
    broadcast_time_s,
    group_placement,
    hierarchical_allreduce_time_s,
    iteration_communication_times,
    iteration_time_s,
    pipeline_bubble_fraction,
    pipeline_bubble_overhead,
    pipeline_compute_time_s,
    reduce_scatter_time_s,
    ring_allreduce_time_s,
    tree_allreduce_time_s,
)

NVLINK4 = AlphaBeta(latency_s=3.4e-6, bandwidth_bytes_per_s=450e9)
NDR = AlphaBeta(latency_s=9.6e-6, bandwidth_bytes_per_s=50e9)

ranks_st = st.integers(min_value=1, max_value=4096)
size_st = st.floats(min_value=0.0, max_value=1e12, allow_nan=False)
latency_st = st.floats(min_value=0.0, max_value=1e-3, allow_nan=False)
bandwidth_st = st.floats(min_value=1e6, max_value=1e13, allow_nan=False)


def test_ring_allreduce_worked_number():
    # 1 GB on 8 GPUs over NVLink 4: 2*7/8 * 1e9/450e9 = 3.8889 ms, plus 14 steps of 3.4 us.
    assert ring_allreduce_time_s(8, 1e9, NVLINK4) == pytest.approx(1.75e9 / 450e9 + 14 * 3.4e-6, rel=1e-12)
    assert ring_allreduce_time_s(8, 1e9, NVLINK4) == pytest.approx(3.9365e-3, rel=1e-4)


@given(ranks=st.integers(min_value=2, max_value=4096), size=size_st, latency=latency_st, bandwidth=bandwidth_st)
def test_ring_allreduce_closed_form(ranks, size, latency, bandwidth):
    link = AlphaBeta(latency, bandwidth)
    expected = 2 * (ranks - 1) * latency + 2 * (ranks - 1) / ranks * size / bandwidth
    assert ring_allreduce_time_s(ranks, size, link) == pytest.approx(expected, rel=1e-12, abs=1e-300)


@given(ranks=st.integers(2, 4096), size=st.floats(1.0, 1e12), bandwidth=bandwidth_st)
def test_bus_bandwidth_equals_link_bandwidth_without_latency(ranks, size, bandwidth):
    """nccl-tests PERFORMANCE.md: busbw = algbw * 2(n-1)/n for all-reduce, (n-1)/n for all-gather and
    reduce-scatter, 1 for broadcast; on a latency-free ring it is the link bandwidth."""
    link = AlphaBeta(0.0, bandwidth)
    algbw_allreduce = size / ring_allreduce_time_s(ranks, size, link)
    assert algbw_allreduce * 2 * (ranks - 1) / ranks == pytest.approx(bandwidth, rel=1e-9)
    for collective in (allgather_time_s, reduce_scatter_time_s):
        assert size / collective(ranks, size, link) * (ranks - 1) / ranks == pytest.approx(bandwidth, rel=1e-9)
    assert size / broadcast_time_s(ranks, size, link) == pytest.approx(bandwidth, rel=1e-9)


@given(ranks=ranks_st, size=size_st, latency=latency_st, bandwidth=bandwidth_st)
def test_allreduce_is_reduce_scatter_then_allgather(ranks, size, latency, bandwidth):
    link = AlphaBeta(latency, bandwidth)
    composed = reduce_scatter_time_s(ranks, size, link) + allgather_time_s(ranks, size, link)
    assert ring_allreduce_time_s(ranks, size, link) == pytest.approx(composed, rel=1e-12, abs=1e-300)


@given(ranks=st.integers(min_value=2, max_value=4096), size=st.floats(min_value=1.0, max_value=1e12))
def test_no_allreduce_beats_the_bandwidth_bound(ranks, size):
    """2 (p-1)/p n/B is the least any point-to-point all-reduce can take (Patarasuk & Yuan 2009)."""
    bound = 2 * (ranks - 1) / ranks * size / NDR.bandwidth_bytes_per_s
    for algorithm in ("ring", "tree", "binomial_tree"):
        assert allreduce_time_s(ranks, size, NDR, algorithm) >= bound * (1 - 1e-12)


def test_tree_allreduce_nccl_model():
    # Latency 2 log2(p) steps; algorithm bandwidth half the bus bandwidth (tuning.cc ratio .5).
    assert tree_allreduce_time_s(1024, 0.0, NDR) == pytest.approx(2 * 10 * 9.6e-6)
    assert tree_allreduce_time_s(1000, 0.0, NDR) == pytest.approx(2 * 10 * 9.6e-6)  # ceil(log2 1000) = 10
    no_latency = AlphaBeta(0.0, 50e9)
    assert tree_allreduce_time_s(1024, 1e9, no_latency) == pytest.approx(2 * 1e9 / 50e9)
    # Small messages on many ranks: the tree's log-depth latency beats the ring's 2(p-1) steps.
    assert tree_allreduce_time_s(4096, 1e3, NDR) < ring_allreduce_time_s(4096, 1e3, NDR)
    # Large messages: the ring's 2(p-1)/p n/B beats the tree's 2 n/B at small p.
    assert ring_allreduce_time_s(4, 1e9, NDR) < tree_allreduce_time_s(4, 1e9, NDR)


def test_binomial_tree_and_broadcast():
    assert binomial_tree_allreduce_time_s(2, 1e9, NDR) == pytest.approx(2 * (9.6e-6 + 1e9 / 50e9))
    assert binomial_tree_allreduce_time_s(8, 1e6, NDR) == pytest.approx(6 * (9.6e-6 + 1e6 / 50e9))
    assert broadcast_time_s(8, 1e9, NDR, "binomial_tree") == pytest.approx(3 * (9.6e-6 + 1e9 / 50e9))
    assert broadcast_time_s(8, 1e9, NDR) == pytest.approx(7 * 9.6e-6 + 1e9 / 50e9)
    with pytest.raises(ValueError, match="unknown broadcast algorithm"):
        broadcast_time_s(8, 1.0, NDR, "scatter")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown all-reduce algorithm"):
        allreduce_time_s(8, 1.0, NDR, "butterfly")  # type: ignore[arg-type]


@given(ranks=ranks_st, size=size_st)
def test_an_infinitely_fast_network_takes_no_time(ranks, size):
    assert ring_allreduce_time_s(ranks, size, IDEAL_LINK) == 0.0
    assert tree_allreduce_time_s(ranks, size, IDEAL_LINK) == 0.0
    assert binomial_tree_allreduce_time_s(ranks, size, IDEAL_LINK) == 0.0
    assert allgather_time_s(ranks, size, IDEAL_LINK) == 0.0
    assert reduce_scatter_time_s(ranks, size, IDEAL_LINK) == 0.0
    assert broadcast_time_s(ranks, size, IDEAL_LINK) == 0.0
    assert hierarchical_allreduce_time_s(size, 8, ranks, IDEAL_LINK, IDEAL_LINK) == 0.0


@given(size=size_st, latency=latency_st, bandwidth=bandwidth_st)
def test_one_rank_communicates_nothing(size, latency, bandwidth):
    link = AlphaBeta(latency, bandwidth)
    collectives = (ring_allreduce_time_s, tree_allreduce_time_s, allgather_time_s, reduce_scatter_time_s, broadcast_time_s)
    for collective in collectives:
        assert collective(1, size, link) == 0.0


def test_hierarchical_allreduce():
    size = 8e9
    # Inside one node it is the ring all-reduce on NVLink; one rank per node, the ring on the NICs.
    one_node = hierarchical_allreduce_time_s(size, 8, 1, NVLINK4, NDR)
    assert one_node == pytest.approx(ring_allreduce_time_s(8, size, NVLINK4))
    one_per_node = hierarchical_allreduce_time_s(size, 1, 16, NVLINK4, NDR)
    assert one_per_node == pytest.approx(ring_allreduce_time_s(16, size, NDR))
    # With free NVLink, 16 nodes x 8 GPUs all-reduce 1/8 of the buffer each over their own NIC.
    expected = 2 * 15 * 9.6e-6 + 2 * 15 / 16 * (size / 8) / 50e9
    assert hierarchical_allreduce_time_s(size, 8, 16, IDEAL_LINK, NDR) == pytest.approx(expected)
    # ... which beats a flat ring over the same 128 NICs, whose latency grows with 128 ranks.
    assert hierarchical_allreduce_time_s(size, 8, 16, NVLINK4, NDR) < ring_allreduce_time_s(128, size, NDR)


def test_pipeline_bubble():
    assert pipeline_bubble_fraction(1, 8) == 0.0
    assert pipeline_bubble_fraction(16, 64) == pytest.approx(15 / 79)
    assert pipeline_bubble_fraction(4, 1) == pytest.approx(3 / 4)
    assert pipeline_bubble_overhead(16, 64) == pytest.approx(15 / 64)


@given(stages=st.integers(1, 128), microbatches=st.integers(1, 4096), stage_s=st.floats(1e-6, 10.0))
def test_bubble_fraction_is_the_idle_share_of_the_pipelined_time(stages, microbatches, stage_s):
    total = pipeline_compute_time_s(stage_s, stages, microbatches)
    ideal = microbatches * stage_s
    fraction = pipeline_bubble_fraction(stages, microbatches)
    assert (total - ideal) / total == pytest.approx(fraction, rel=1e-9, abs=1e-12)
    assert fraction / (1 - fraction) == pytest.approx(pipeline_bubble_overhead(stages, microbatches), rel=1e-9)


def test_iteration_time_adds_only_the_exposed_communication():
    assert iteration_time_s(10.0, 4.0, 0.0) == 14.0
    assert iteration_time_s(10.0, 4.0, 0.75) == 11.0
    assert iteration_time_s(10.0, 4.0, 1.0) == 10.0
    with pytest.raises(ValueError, match="overlap_fraction"):
        iteration_time_s(10.0, 4.0, 1.5)


def test_group_placement():
    in_node = group_placement(8, stride=1, gpus_per_node=8)
    assert (in_node.members_per_node, in_node.nodes) == (8, 1)
    assert group_placement(128, stride=128, gpus_per_node=8).members_per_node == 1
    spanning = group_placement(16, stride=1, gpus_per_node=8)
    assert (spanning.members_per_node, spanning.nodes) == (8, 2)
    two_per_node = group_placement(8, stride=4, gpus_per_node=8)
    assert (two_per_node.members_per_node, two_per_node.nodes) == (2, 4)
    with pytest.raises(ValueError, match="does not divide"):
        group_placement(4, stride=3, gpus_per_node=8)


# A 405B-parameter dense transformer (Llama 3 405B: 126 layers, model dimension 16,384) trained with
# tp 8 x pp 16 x dp 128 = 16,384 GPUs at sequence length 8,192, as in Dubey et al. 2024.
LLAMA_405B = TransformerShape(parameters=405e9, layers=126, hidden_size=16_384, sequence_length=8_192)
LAYOUT = ParallelLayout(tensor=8, pipeline=16, data=128)
BATCH = BatchShape(micro_batch_size=1, microbatches=16)
H100_CLUSTER = ClusterLinks(intra_node=NVLINK4, inter_node=NDR, gpus_per_node=8)


def test_layout_communication_closed_forms():
    times = iteration_communication_times(LLAMA_405B, LAYOUT, BATCH, H100_CLUSTER)
    # DP: 405e9/(8*16) parameters x 2 bytes of gradient, ring over 128 nodes' NICs.
    grad = 405e9 / 128 * 2
    assert times.data_parallel_s == pytest.approx(2 * 127 * 9.6e-6 + 2 * 127 / 128 * grad / 50e9)
    # TP: 4 all-reduces of b*s*h*2 bytes per layer per micro-batch, 126/16 layers, 16 micro-batches, NVLink.
    act = 1 * 8192 * 16384 * 2
    per_allreduce = 2 * 7 * 3.4e-6 + 2 * 7 / 8 * act / 450e9
    assert times.tensor_parallel_s == pytest.approx(4 * 126 / 16 * 16 * per_allreduce)
    # PP: stages sit on different nodes (stride 8 = a node): a send forward and back per micro-batch.
    assert times.pipeline_parallel_s == pytest.approx(2 * 16 * (9.6e-6 + act / 50e9))
    assert times.total_s == pytest.approx(times.data_parallel_s + times.tensor_parallel_s + times.pipeline_parallel_s)


def test_an_infinitely_fast_network_leaves_compute_only():
    times = iteration_communication_times(LLAMA_405B, LAYOUT, BATCH, IDEAL_CLUSTER_LINKS_8)
    assert times.total_s == 0.0
    assert iteration_time_s(7.5, times.total_s, overlap_fraction=0.0) == 7.5


def test_a_slower_network_slows_the_iteration():
    slow = ClusterLinks(intra_node=NVLINK4, inter_node=AlphaBeta(9.6e-6, 25e9), gpus_per_node=8)
    fast_times = iteration_communication_times(LLAMA_405B, LAYOUT, BATCH, H100_CLUSTER)
    slow_times = iteration_communication_times(LLAMA_405B, LAYOUT, BATCH, slow)
    assert slow_times.data_parallel_s > fast_times.data_parallel_s
    assert slow_times.tensor_parallel_s == fast_times.tensor_parallel_s  # TP stays on NVLink
    assert iteration_time_s(10.0, slow_times.total_s, 0.5) > iteration_time_s(10.0, fast_times.total_s, 0.5)


def test_groups_of_one_do_not_communicate():
    times = iteration_communication_times(LLAMA_405B, ParallelLayout(1, 1, 1), BATCH, H100_CLUSTER)
    assert times.total_s == 0.0


def test_invalid_inputs_are_refused():
    with pytest.raises(ValueError, match="bandwidth"):
        AlphaBeta(0.0, 0.0)
    with pytest.raises(ValueError, match="latency"):
        AlphaBeta(-1.0, 1.0)
    with pytest.raises(ValueError, match="size_bytes"):
        ring_allreduce_time_s(4, -1.0, NDR)
    with pytest.raises(ValueError, match="ranks"):
        ring_allreduce_time_s(0, 1.0, NDR)
    with pytest.raises(ValueError, match="tensor"):
        ParallelLayout(0, 1, 1)
    assert math.isinf(IDEAL_LINK.bandwidth_bytes_per_s)
