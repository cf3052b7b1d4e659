"""Collective-communication time from the alpha-beta (Hockney) model, and the communication of a
training job's data-, tensor- and pipeline-parallel groups.

The alpha-beta model charges every message step a latency ``alpha`` [s] and every byte a time
``beta = 1 / bandwidth`` [s/byte]: sending ``n`` bytes costs ``alpha + n / B``. Collective algorithms
differ in how many steps they take and how many bytes each rank moves; the closed forms below are the
standard ones:

- Thakur, Rabenseifner & Gropp (2005), "Optimization of collective communication operations in
  MPICH", Int. J. High Performance Computing Applications 19(1):49-66 (ring all-gather, ring
  reduce-scatter, binomial-tree reduce and broadcast; the computation term ``gamma`` is left out here:
  reductions on a GPU are far faster than the links).
- Patarasuk & Yuan (2009), "Bandwidth optimal all-reduce algorithms for clusters of workstations",
  J. Parallel Distrib. Comput. 69(2):117-124 (the ring all-reduce and its optimal bandwidth term
  ``2 (p-1)/p n/B``).
- NCCL: nccl-tests doc/PERFORMANCE.md (bus bandwidth: all-reduce ``t = 2 (n-1)/n * S/B``, all-gather
  and reduce-scatter ``(n-1)/n * S/B``, broadcast ``S/B``), and the NCCL tuning model
  (NVIDIA/nccl src/graph/tuning.cc: tree algorithm bandwidth is half the bus bandwidth, tree latency
  grows with log2 of the node count).

Conventions: ``ranks`` is the number of participants p; ``size_bytes`` is the size S of the full
buffer as NCCL counts it (for all-gather the gathered output, for reduce-scatter the input); a link's
``bandwidth_bytes_per_s`` is what one rank can send (and, at the same time, receive) in one direction.
An infinitely fast link (``latency_s = 0``, ``bandwidth_bytes_per_s = inf``) gives zero time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

AllReduceAlgorithm = Literal["ring", "tree", "binomial_tree"]
BroadcastAlgorithm = Literal["pipelined_ring", "binomial_tree"]


@dataclass(frozen=True)
class AlphaBeta:
    """One rank's link in the alpha-beta model.

    latency_s [s]: cost of one message step (alpha).
    bandwidth_bytes_per_s [byte/s]: one direction, per rank (1/beta); ``math.inf`` for an ideal link.
    """

    latency_s: float
    bandwidth_bytes_per_s: float

    def __post_init__(self) -> None:
        if not self.latency_s >= 0.0:
            raise ValueError(f"latency_s must be >= 0, got {self.latency_s!r}")
        if not self.bandwidth_bytes_per_s > 0.0:
            raise ValueError(f"bandwidth_bytes_per_s must be > 0, got {self.bandwidth_bytes_per_s!r}")

    def transfer_time_s(self, size_bytes: float) -> float:
        """Point-to-point time [s] of ``size_bytes`` [byte]: ``alpha + n / B``."""
        _check_size(size_bytes)
        return self.latency_s + size_bytes / self.bandwidth_bytes_per_s


IDEAL_LINK = AlphaBeta(latency_s=0.0, bandwidth_bytes_per_s=math.inf)
"""An infinitely fast network: every collective on it takes zero time."""


def _check_size(size_bytes: float) -> None:
    if not size_bytes >= 0.0:
        raise ValueError(f"size_bytes must be >= 0, got {size_bytes!r}")


def _check_ranks(ranks: int) -> None:
    if not (isinstance(ranks, int) and ranks >= 1):
        raise ValueError(f"ranks must be an integer >= 1, got {ranks!r}")


def _log2_ceil(ranks: int) -> int:
    return (ranks - 1).bit_length()  # ceil(log2 p) for p >= 1, exact for integers


def ring_allreduce_time_s(ranks: int, size_bytes: float, link: AlphaBeta) -> float:
    """Ring all-reduce time [s]: ``2 (p-1) alpha + 2 (p-1)/p * n / B``.

    A reduce-scatter then an all-gather around the ring, each of p-1 steps moving n/p bytes per rank
    (Patarasuk & Yuan 2009; nccl-tests PERFORMANCE.md, AllReduce). The bandwidth term is the
    lower bound for any all-reduce built from point-to-point messages.

    Worked number: 1 GB on 8 GPUs over NVLink 4 (450 GB/s per direction, 3.4 us per step):
    2*7/8 * 1e9/450e9 + 14 * 3.4e-6 = 3.889 ms + 0.048 ms = 3.94 ms.
    """
    _check_ranks(ranks)
    _check_size(size_bytes)
    if ranks == 1:
        return 0.0
    steps = 2 * (ranks - 1)
    return steps * link.latency_s + steps / ranks * size_bytes / link.bandwidth_bytes_per_s


def tree_allreduce_time_s(ranks: int, size_bytes: float, link: AlphaBeta) -> float:
    """Pipelined (double binary) tree all-reduce time [s]: ``2 ceil(log2 p) alpha + 2 n / B``.

    NCCL's tree: a reduce up and a broadcast down two complementary binary trees, pipelined in
    chunks. Its latency grows with the tree depth (NCCL tuning model: ``2 * log2(nNodes) * latency``)
    and its algorithm bandwidth is half the bus bandwidth (tuning.cc: ``ratio = .5`` for trees), i.e.
    ``2 n / B``. Chunk pipeline fill is neglected (large messages).
    """
    _check_ranks(ranks)
    _check_size(size_bytes)
    if ranks == 1:
        return 0.0
    return 2 * _log2_ceil(ranks) * link.latency_s + 2.0 * size_bytes / link.bandwidth_bytes_per_s


def binomial_tree_allreduce_time_s(ranks: int, size_bytes: float, link: AlphaBeta) -> float:
    """Binomial-tree reduce then binomial-tree broadcast, unpipelined [s]:
    ``2 ceil(log2 p) (alpha + n / B)`` (Thakur et al. 2005: binomial-tree reduce and broadcast).

    The whole buffer crosses every level of the tree: good for short messages, poor for long ones.
    """
    _check_ranks(ranks)
    _check_size(size_bytes)
    if ranks == 1:
        return 0.0
    return 2 * _log2_ceil(ranks) * link.transfer_time_s(size_bytes)


def allreduce_time_s(
    ranks: int, size_bytes: float, link: AlphaBeta, algorithm: AllReduceAlgorithm = "ring"
) -> float:
    """All-reduce time [s] by the named algorithm (``ring``, ``tree``, ``binomial_tree``)."""
    if algorithm == "ring":
        return ring_allreduce_time_s(ranks, size_bytes, link)
    if algorithm == "tree":
        return tree_allreduce_time_s(ranks, size_bytes, link)
    if algorithm == "binomial_tree":
        return binomial_tree_allreduce_time_s(ranks, size_bytes, link)
    raise ValueError(f"unknown all-reduce algorithm {algorithm!r}; expected ring, tree or binomial_tree")


def allgather_time_s(ranks: int, size_bytes: float, link: AlphaBeta) -> float:
    """Ring all-gather time [s]: ``(p-1) alpha + (p-1)/p * n / B``, n the gathered size
    (Thakur et al. 2005, ring algorithm; nccl-tests PERFORMANCE.md, AllGather)."""
    return _ring_pass_time_s(ranks, size_bytes, link)


def reduce_scatter_time_s(ranks: int, size_bytes: float, link: AlphaBeta) -> float:
    """Ring reduce-scatter time [s]: ``(p-1) alpha + (p-1)/p * n / B``, n the input size
    (Thakur et al. 2005; nccl-tests PERFORMANCE.md, ReduceScatter)."""
    return _ring_pass_time_s(ranks, size_bytes, link)


def _ring_pass_time_s(ranks: int, size_bytes: float, link: AlphaBeta) -> float:
    """One pass round a ring of p ranks, each moving n/p per step: all-gather and reduce-scatter alike."""
    _check_ranks(ranks)
    _check_size(size_bytes)
    if ranks == 1:
        return 0.0
    steps = ranks - 1
    return steps * link.latency_s + steps / ranks * size_bytes / link.bandwidth_bytes_per_s


def broadcast_time_s(
    ranks: int,
    size_bytes: float,
    link: AlphaBeta,
    algorithm: BroadcastAlgorithm = "pipelined_ring",
) -> float:
    """Broadcast time [s].

    ``pipelined_ring`` (NCCL): ``(p-1) alpha + n / B``, the root's link is the bottleneck and the chunks
    stream down the chain (nccl-tests PERFORMANCE.md, Broadcast: ``t = S/B``; many-chunk limit).
    ``binomial_tree``: ``ceil(log2 p) (alpha + n / B)`` (Thakur et al. 2005, binomial tree).
    """
    _check_ranks(ranks)
    _check_size(size_bytes)
    if ranks == 1:
        return 0.0
    if algorithm == "pipelined_ring":
        return (ranks - 1) * link.latency_s + size_bytes / link.bandwidth_bytes_per_s
    if algorithm == "binomial_tree":
        return _log2_ceil(ranks) * link.transfer_time_s(size_bytes)
    raise ValueError(f"unknown broadcast algorithm {algorithm!r}; expected pipelined_ring or binomial_tree")


def hierarchical_allreduce_time_s(
    size_bytes: float,
    ranks_per_node: int,
    nodes: int,
    intra_node: AlphaBeta,
    inter_node: AlphaBeta,
) -> float:
    """Two-level all-reduce [s]: reduce-scatter inside each node, all-reduce across nodes, all-gather
    inside each node.

    ``t = RS_ring(g, n, intra) + AR_ring(N, n/g, inter) + AG_ring(g, n, intra)`` with g ranks per node
    and N nodes. After the intra-node reduce-scatter each of the g ranks owns n/g bytes and all-reduces
    that shard with its peers of the same local rank on the other nodes, all g shards at once, each over
    its own NIC (rail-optimised: ``inter_node`` is one rank's share of the node's NIC bandwidth). This is
    the hierarchical all-reduce of Jia et al. (2018), "Highly scalable deep learning training system
    with mixed-precision", arXiv:1807.11205, built from the ring forms above.
    """
    _check_ranks(ranks_per_node)
    _check_ranks(nodes)
    _check_size(size_bytes)
    shard_bytes = size_bytes / ranks_per_node
    return (
        reduce_scatter_time_s(ranks_per_node, size_bytes, intra_node)
        + ring_allreduce_time_s(nodes, shard_bytes, inter_node)
        + allgather_time_s(ranks_per_node, size_bytes, intra_node)
    )


# --------------------------------------------------------------------------------------------------
# Pipeline parallelism


def pipeline_bubble_fraction(stages: int, microbatches: int) -> float:
    """Fraction of a pipeline iteration's time spent idle in the fill and drain bubble [-]:
    ``(p-1) / (m+p-1)`` for p stages and m micro-batches per iteration.

    GPipe and 1F1B schedules run ``m + p - 1`` micro-batch slots of which m are useful (Huang et al.
    2019, "GPipe", NeurIPS: bubble overhead O((K-1)/(M+K-1)); Narayanan et al. 2021,
    "Efficient large-scale language model training on GPU clusters using Megatron-LM", SC21:
    bubble time fraction ``(p-1)/m`` relative to the ideal time, the same quantity measured against the
    ideal instead of the total). Worked number: p = 16, m = 64 -> 15/79 = 19.0 %.
    """
    _check_ranks(stages)
    _check_ranks(microbatches)
    return (stages - 1) / (microbatches + stages - 1)


def pipeline_bubble_overhead(stages: int, microbatches: int) -> float:
    """Bubble time relative to the ideal (bubble-free) time [-]: ``(p-1)/m`` (Narayanan et al. 2021).
    ``overhead = fraction / (1 - fraction)``."""
    _check_ranks(stages)
    _check_ranks(microbatches)
    return (stages - 1) / microbatches


def pipeline_compute_time_s(stage_microbatch_s: float, stages: int, microbatches: int) -> float:
    """Compute time of one pipelined iteration [s]: ``(m + p - 1) * t_stage``, with ``t_stage`` the
    forward plus backward time of one micro-batch on one stage (bubble included; Huang et al. 2019)."""
    _check_ranks(stages)
    _check_ranks(microbatches)
    if not stage_microbatch_s >= 0.0:
        raise ValueError(f"stage_microbatch_s must be >= 0, got {stage_microbatch_s!r}")
    return (microbatches + stages - 1) * stage_microbatch_s


def iteration_time_s(compute_s: float, communication_s: float, overlap_fraction: float) -> float:
    """Time of one training iteration [s]: compute plus the communication not hidden under it,
    ``t = t_compute + (1 - f_overlap) * t_comm``, with ``f_overlap`` in [0, 1] the fraction of the
    communication overlapped with compute (a stated input, not a measured one)."""
    if not 0.0 <= overlap_fraction <= 1.0:
        raise ValueError(f"overlap_fraction must be in [0, 1], got {overlap_fraction!r}")
    if not (compute_s >= 0.0 and communication_s >= 0.0):
        raise ValueError(f"times must be >= 0, got compute {compute_s!r}, communication {communication_s!r}")
    return compute_s + (1.0 - overlap_fraction) * communication_s


# --------------------------------------------------------------------------------------------------
# A training job's parallel groups


@dataclass(frozen=True)
class ParallelLayout:
    """Degrees of tensor (tp), pipeline (pp) and data (dp) parallelism; gpus = tp * pp * dp.

    Ranks are numbered with tensor parallelism innermost, then pipeline, then data parallelism, the
    order Llama 3 used ([TP, CP, PP, DP], Dubey et al. 2024, Sec. 3.3.2), so the tensor-parallel group
    of consecutive ranks sits inside a node when tp <= GPUs per node.
    """

    tensor: int
    pipeline: int
    data: int

    def __post_init__(self) -> None:
        for name in ("tensor", "pipeline", "data"):
            value = getattr(self, name)
            if not (isinstance(value, int) and value >= 1):
                raise ValueError(f"{name} parallel degree must be an integer >= 1, got {value!r}")

    @property
    def gpus(self) -> int:
        return self.tensor * self.pipeline * self.data


@dataclass(frozen=True)
class TransformerShape:
    """What the communication volumes depend on: parameters [-], layers [-], hidden size [-],
    sequence length [tokens]."""

    parameters: float
    layers: int
    hidden_size: int
    sequence_length: int

    def __post_init__(self) -> None:
        if not self.parameters > 0:
            raise ValueError(f"parameters must be > 0, got {self.parameters!r}")
        for name in ("layers", "hidden_size", "sequence_length"):
            value = getattr(self, name)
            if not (isinstance(value, int) and value >= 1):
                raise ValueError(f"{name} must be an integer >= 1, got {value!r}")


@dataclass(frozen=True)
class BatchShape:
    """Micro-batch size [sequences] and micro-batches per iteration per pipeline [-]; the global batch
    is ``micro_batch_size * microbatches * dp`` sequences."""

    micro_batch_size: int
    microbatches: int

    def __post_init__(self) -> None:
        for name in ("micro_batch_size", "microbatches"):
            value = getattr(self, name)
            if not (isinstance(value, int) and value >= 1):
                raise ValueError(f"{name} must be an integer >= 1, got {value!r}")


@dataclass(frozen=True)
class ClusterLinks:
    """The two link levels a job's collectives run on.

    intra_node: GPU-to-GPU inside a node (NVLink through NVSwitch), per GPU and direction.
    inter_node: one GPU's share of its node's NIC bandwidth (NIC bandwidth * NICs per node /
    GPUs per node), per direction.
    """

    intra_node: AlphaBeta
    inter_node: AlphaBeta
    gpus_per_node: int

    def __post_init__(self) -> None:
        _check_ranks(self.gpus_per_node)


IDEAL_CLUSTER_LINKS_8 = ClusterLinks(IDEAL_LINK, IDEAL_LINK, gpus_per_node=8)
"""Eight GPUs per node on an infinitely fast network (compute-only reference)."""


@dataclass(frozen=True)
class GroupPlacement:
    """Where a communication group's members sit: size [-], members per node [-], nodes spanned [-]."""

    size: int
    members_per_node: int
    nodes: int


def group_placement(size: int, stride: int, gpus_per_node: int) -> GroupPlacement:
    """Placement of a group of ``size`` ranks spaced ``stride`` apart on nodes of ``gpus_per_node``
    consecutive ranks.

    A stride of at least a node puts every member on its own node; a smaller stride packs
    ``gpus_per_node // stride`` members per node (stride must then divide the node size).
    """
    _check_ranks(size)
    _check_ranks(stride)
    _check_ranks(gpus_per_node)
    if stride >= gpus_per_node:
        members_per_node = 1
    else:
        if gpus_per_node % stride != 0:
            raise ValueError(f"a stride of {stride} ranks does not divide a node of {gpus_per_node} GPUs")
        members_per_node = min(size, gpus_per_node // stride)
    if size % members_per_node != 0:
        raise ValueError(f"a group of {size} ranks does not fill nodes of {members_per_node} members evenly")
    return GroupPlacement(size=size, members_per_node=members_per_node, nodes=size // members_per_node)


def placed_allreduce_time_s(
    size_bytes: float,
    placement: GroupPlacement,
    links: ClusterLinks,
    algorithm: AllReduceAlgorithm = "ring",
) -> float:
    """All-reduce time [s] of a placed group: on NVLink inside one node, on the NICs when each member
    has its own node, hierarchical (ring levels) when the group spans nodes with several members each."""
    if placement.size == 1:
        return 0.0
    if placement.nodes == 1:
        return allreduce_time_s(placement.size, size_bytes, links.intra_node, algorithm)
    if placement.members_per_node == 1:
        return allreduce_time_s(placement.size, size_bytes, links.inter_node, algorithm)
    return hierarchical_allreduce_time_s(
        size_bytes, placement.members_per_node, placement.nodes, links.intra_node, links.inter_node
    )


@dataclass(frozen=True)
class CommunicationTimes:
    """Communication time of one training iteration by parallel group [s]."""

    data_parallel_s: float
    tensor_parallel_s: float
    pipeline_parallel_s: float

    @property
    def total_s(self) -> float:
        return self.data_parallel_s + self.tensor_parallel_s + self.pipeline_parallel_s


def iteration_communication_times(
    model: TransformerShape,
    layout: ParallelLayout,
    batch: BatchShape,
    links: ClusterLinks,
    gradient_bytes_per_parameter: float = 2.0,
    activation_bytes_per_element: float = 2.0,
    data_parallel_algorithm: AllReduceAlgorithm = "ring",
) -> CommunicationTimes:
    """Per-iteration communication of each parallel group, serialised (no overlap) [s].

    Data parallel: one all-reduce of this rank's gradients, ``N / (tp pp) * bytes_per_grad`` bytes,
    over the dp group (ZeRO/FSDP's reduce-scatter plus all-gather move the same volume; Rajbhandari et
    al. 2020, communication analysis of ZeRO-DP). bf16 gradients are 2 bytes; Llama 3 reduce-scattered
    fp32 gradients (4 bytes).

    Tensor parallel: 4 all-reduces of the activations ``b s h * bytes`` per layer per micro-batch, 2 in
    the forward and 2 in the backward pass (Shoeybi et al. 2019, "Megatron-LM", Fig. 4;
    Narayanan et al. 2021), over the ``L / pp`` layers of a stage and the m micro-batches.
    Sequence parallelism replaces each by a reduce-scatter plus an all-gather of the same volume.

    Pipeline parallel: per micro-batch, one activation send forward and one gradient send backward of
    ``b s h * bytes`` across the stage boundary (Narayanan et al. 2021, without their
    scatter/gather optimisation), on NVLink when the pipeline sits in one node, else on the NICs.
    """
    if not (gradient_bytes_per_parameter > 0 and activation_bytes_per_element > 0):
        raise ValueError("bytes per gradient and per activation element must be > 0")
    tp, pp, dp = layout.tensor, layout.pipeline, layout.data
    g = links.gpus_per_node

    gradient_bytes = model.parameters / (tp * pp) * gradient_bytes_per_parameter
    dp_placement = group_placement(dp, stride=tp * pp, gpus_per_node=g)
    data_parallel_s = placed_allreduce_time_s(gradient_bytes, dp_placement, links, data_parallel_algorithm)

    activation_bytes = (
        batch.micro_batch_size * model.sequence_length * model.hidden_size * activation_bytes_per_element
    )
    tp_placement = group_placement(tp, stride=1, gpus_per_node=g)
    layers_per_stage = model.layers / pp
    tensor_parallel_s = (
        4 * layers_per_stage * batch.microbatches * placed_allreduce_time_s(activation_bytes, tp_placement, links)
    )

    if pp == 1:
        pipeline_parallel_s = 0.0
    else:
        pp_placement = group_placement(pp, stride=tp, gpus_per_node=g)
        pp_link = links.intra_node if pp_placement.nodes == 1 else links.inter_node
        pipeline_parallel_s = 2 * batch.microbatches * pp_link.transfer_time_s(activation_bytes)

    return CommunicationTimes(
        data_parallel_s=data_parallel_s,
        tensor_parallel_s=tensor_parallel_s,
        pipeline_parallel_s=pipeline_parallel_s,
    )


def _ring_allreduce_bytes_sent(ranks: int, size_bytes: float) -> float:
    """Bytes each rank sends in a ring all-reduce [byte]: ``2 (p-1)/p n`` (Patarasuk & Yuan 2009)."""
    return 0.0 if ranks <= 1 else 2.0 * (ranks - 1) / ranks * size_bytes


def _placed_allreduce_internode_bytes(size_bytes: float, placement: GroupPlacement) -> float:
    """Bytes one rank sends over its NIC share in a placed ring all-reduce [byte]: none inside one node;
    ``2 (p-1)/p n`` when every member has its own node; the inter-node ring on the ``n / g`` shard when the
    group is hierarchical (``hierarchical_allreduce_time_s``)."""
    if placement.size == 1 or placement.nodes == 1:
        return 0.0
    if placement.members_per_node == 1:
        return _ring_allreduce_bytes_sent(placement.size, size_bytes)
    return _ring_allreduce_bytes_sent(placement.nodes, size_bytes / placement.members_per_node)


def iteration_internode_bytes_per_gpu(
    model: TransformerShape,
    layout: ParallelLayout,
    batch: BatchShape,
    gpus_per_node: int,
    gradient_bytes_per_parameter: float = 2.0,
    activation_bytes_per_element: float = 2.0,
) -> float:
    """Bytes one GPU sends through the node's NICs in one iteration [byte]: the inter-node part of the
    volumes that ``iteration_communication_times`` moves (ring all-reduces), for the traffic-dependent
    energy of the network. Traffic on NVLink inside a node is not counted.

    Worked number: 405B parameters, tp 8, pp 16, dp 128 on 8-GPU nodes: the data-parallel ring over 128
    nodes sends 2 x 127/128 x 6.33 GB = 12.6 GB per GPU per iteration; tensor parallelism stays in the
    node; pipeline sends 2 m activations across stage boundaries.
    """
    tp, pp, dp = layout.tensor, layout.pipeline, layout.data
    gradient_bytes = model.parameters / (tp * pp) * gradient_bytes_per_parameter
    data = _placed_allreduce_internode_bytes(gradient_bytes, group_placement(dp, tp * pp, gpus_per_node))
    activation_bytes = (
        batch.micro_batch_size * model.sequence_length * model.hidden_size * activation_bytes_per_element
    )
    tensor = (
        4 * model.layers / pp * batch.microbatches
        * _placed_allreduce_internode_bytes(activation_bytes, group_placement(tp, 1, gpus_per_node))
    )
    pipeline = 0.0
    if pp > 1 and group_placement(pp, tp, gpus_per_node).nodes > 1:
        pipeline = 2 * batch.microbatches * activation_bytes
    return data + tensor + pipeline
