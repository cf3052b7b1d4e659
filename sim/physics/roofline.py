"""Roofline step times of LLM inference: prefill bound by FLOP/s, decode by memory bandwidth.

A replica serves one model on `g` GPUs with tensor parallelism (Megatron-LM style: every layer's
matrices split over the g GPUs, two all-reduces per layer in the forward pass; Shoeybi et al. 2019,
arXiv:1909.08053, Section 3). One engine iteration ("step") of the replica takes

    t_step = max(t_compute, t_memory) + t_communication

    t_compute = FLOP / (g x peak_flops_per_s x eff_compute)
    t_memory  = bytes moved / (g x hbm_bandwidth_bytes_per_s x eff_memory)
    t_comm    = 2 x layers x all_reduce(tokens x hidden x activation bytes, g)

which is the roofline model (Williams, Waterman & Patterson 2009, CACM 52(4)) applied per step, the
usual way LLM inference simulators bound step time (e.g. LLM-Viewer: Yuan et al. 2024,
arXiv:2402.16363). The FLOPs of a forward pass follow Kaplan et al. 2020 (arXiv:2001.08361,
Table 1) with the attention term of Chowdhery et al. 2022 (PaLM, arXiv:2204.02311, Appendix B):

    FLOP = 2 x N_matmul x new_tokens + 4 x layers x d_attn x attended_positions

where attended_positions sums, over the new tokens, the positions each one attends to (QK^T and
attention x V, 2 FLOP per multiply-add each). With a causal mask a prompt of P tokens attends to
P(P+1)/2 positions; a decode step of a sequence whose context (including the new token) is c
attends to c.

* Prefill of prompts P_i (one batched step): compute-bound for all but tiny prompts. Worked number:
  Llama-2-7B, one 2,048-token prompt on one H100 at eff 1: 2 x 6.61e9 x 2048 + attention 1.1e12
  = 2.82e13 FLOP -> 28 ms at 989 TFLOP/s, against 13.2 GB / 3.35 TB/s = 3.9 ms of weight reads.
* Decode of a batch of b sequences with total context C: reads every weight once (for a
  mixture-of-experts only the experts the batch touches) plus the KV cache of the batch:

      bytes = weights read + kv_bytes_per_token x C ,   FLOP = 2 x N_matmul x b + 4 x L x d_attn x C

  Worked number: Llama-2-70B in bf16 on ONE H100 (it would not fit, the formula does not care):
  1.38e11 B / 3.35e12 B/s = 41 ms per token, bandwidth-bound until b is about
  peak x bytes_per_param / (2 x bandwidth) = 989e12 x 2 / (2 x 3.35e12) = 295.

Efficiency factors (`ServingEfficiency`), stated and cited:
* memory_bandwidth = 0.70: gpt-fast (PyTorch team, github.com/pytorch-labs/gpt-fast, README
  benchmarks on one A100-80GB at batch 1) reaches 1,397 GB/s decoding Llama-2-7B in bf16 (104.9
  token/s; 0.69 of the 2,039 GB/s peak) and 1,323 GB/s for Llama-2-70B in int8 (0.65).
* compute = 0.50: assumed. Prefill runs the same dense matrix products as a training forward pass,
  where measured model FLOP utilisation is 44-52 % (Megatron-LM on A100, Narayanan et al. 2021,
  SC'21) and 38-43 % (Llama 3 405B on H100, arXiv:2407.21783); 0.5 sits at the top of that range
  because inference has no backward pass and no optimizer step.
* hbm_usable_fraction = 0.90: vLLM's default `gpu_memory_utilization` (weights, activations and KV
  cache share 90 % of HBM; the same 0.9 default is TensorRT-LLM's `free_gpu_memory_fraction`).

All-reduce (alpha-beta, ring; Thakur, Rabenseifner & Gropp 2005, IJHPCA 19(1)):

    t_allreduce(n bytes, g) = alpha + 2 (g - 1) / g x n / B_bus       (0 for g = 1)

with B_bus the bus bandwidth nccl-tests reports (its busbw is defined by exactly this factor) and
alpha the small-message latency: B_bus = the catalog's link bandwidth x NCCL's ring efficiency.

KV-cache capacity in tokens (per replica):

    kv_capacity = (g x HBM x hbm_usable_fraction - weight bytes) / (KV bytes per token)

(KV heads are replicated when g exceeds the number of KV heads, as vLLM does.)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache
from typing import NamedTuple, Sequence

from sim.catalog.hardware import GpuSpec
from sim.catalog.llm_models import LlmArchitecture, ServedModel
from sim.units import BYTES_PER_GB


# ------------------------------------------------------------------------------------------------
# Hardware: the facts come from the catalog (sim/catalog/gpus.toml, `GpuSpec`); what the software
# stack makes of them is stated here.
# ------------------------------------------------------------------------------------------------
# NCCL reaches about 80 % of the NVLink line rate on a ring ("450GB/s is the line rate. With the
# protocol overhead (~20%) NCCL can get an effective NVLink bandwidth of 370GB/s", S. Jeaugey,
# NVIDIA, github.com/NVIDIA/nccl-tests/issues/212, 2024-05-06). The same fraction is applied to
# every link type (assumed where no figure was found: on one 8 x A100-80GB HPE system nccl-tests#149
# reports ~200 GB/s, against 247 GB/s from this rule).
NCCL_RING_EFFICIENCY = 370.0 / 450.0
# Small-message all-reduce latency inside an H100 node: about 6 us (NCCL 2.20, 2 x H100, NVLS, CUDA
# graphs; github.com/NVIDIA/nccl/issues/1259). Used for every GPU type (assumed: no other figure found).
NVLINK_ALLREDUCE_LATENCY_S = 6e-6


def peak_flops_per_s(gpu: GpuSpec, math_format: str) -> float:
    """Dense tensor-core peak of one GPU [FLOP/s] for "bf16" or "fp8" products.

    fp8 products run at `peak_fp8_flop_per_s` where the GPU has fp8 tensor cores; elsewhere fp8
    weights run as weight-only quantisation at the bf16 rate.
    """
    if math_format == "fp8":
        return gpu.peak_fp8_flop_per_s or gpu.peak_flop_per_s
    if math_format == "bf16":
        return gpu.peak_flop_per_s
    raise ValueError(f"unknown math format {math_format!r}")


def allreduce_bus_bandwidth_bytes_per_s(gpu: GpuSpec) -> float:
    """Bus bandwidth an NCCL ring all-reduce reaches [B/s] = link bandwidth x NCCL_RING_EFFICIENCY.

    Worked number: H100 (450 GB/s each way) -> 370 GB/s, as nccl-tests reports.
    """
    if gpu.link_bandwidth_bytes_per_s is None:
        raise ValueError(f"{gpu.name}: no chip-to-chip link bandwidth in the catalog; tensor parallelism "
                         "needs `link_bandwidth_bytes_per_s`")
    return gpu.link_bandwidth_bytes_per_s * NCCL_RING_EFFICIENCY


@dataclass(frozen=True)
class ServingEfficiency:
    """Fractions of the datasheet peaks a serving engine reaches (see module docstring for sources)."""

    compute: float = 0.50
    memory_bandwidth: float = 0.70
    hbm_usable_fraction: float = 0.90

    def __post_init__(self) -> None:
        for name in ("compute", "memory_bandwidth", "hbm_usable_fraction"):
            value = getattr(self, name)
            if not 0.0 < value <= 1.0:
                raise ValueError(f"efficiency {name} must be in (0, 1], got {value}")


@dataclass(frozen=True)
class ReplicaSpec:
    """One model served on `tensor_parallel` GPUs of one catalog type (`GpuSpec`)."""

    model: ServedModel
    gpu: GpuSpec
    tensor_parallel: int = 1
    efficiency: ServingEfficiency = field(default_factory=ServingEfficiency)
    # Activations are exchanged in bf16 by the tensor-parallel all-reduces.
    activation_bytes_per_element: float = 2.0

    def __post_init__(self) -> None:
        if self.tensor_parallel < 1:
            raise ValueError(f"tensor_parallel must be >= 1, got {self.tensor_parallel}")
        if self.tensor_parallel > 1:
            allreduce_bus_bandwidth_bytes_per_s(self.gpu)  # refuses a GPU without links

    @property
    def n_gpus(self) -> int:
        return self.tensor_parallel

    @property
    def architecture(self) -> LlmArchitecture:
        return self.model.architecture

    @property
    def peak_flops_per_s(self) -> float:
        """Peak of ONE GPU for this model's math format [FLOP/s]."""
        return peak_flops_per_s(self.gpu, self.model.weights.math_format)

    @property
    def kv_replication(self) -> float:
        """How many copies of each KV head the replica stores (> 1 when g > KV heads)."""
        return max(1.0, self.tensor_parallel / self.architecture.n_kv_heads)

    @property
    def kv_bytes_per_token(self) -> float:
        """KV-cache bytes one token of context occupies on the whole replica [B]."""
        return self.model.kv_cache_bytes_per_token * self.kv_replication

    @property
    def usable_hbm_bytes(self) -> float:
        return self.tensor_parallel * self.gpu.hbm_bytes * self.efficiency.hbm_usable_fraction

    @property
    def kv_capacity_tokens(self) -> int:
        """Tokens of KV cache that fit next to the weights (<= 0 when the weights do not fit)."""
        free_bytes = self.usable_hbm_bytes - self.model.weight_bytes
        return math.floor(free_bytes / self.kv_bytes_per_token)

    @property
    def fits(self) -> bool:
        return self.kv_capacity_tokens >= self.architecture.max_context_tokens

    def require_fit(self) -> None:
        """Raise if the weights plus one full-length sequence do not fit in usable HBM."""
        if not self.fits:
            raise ValueError(
                f"{self.model.label} on {self.tensor_parallel} x {self.gpu.name}: "
                f"{self.model.weight_bytes / BYTES_PER_GB:.1f} GB of weights leave room for "
                f"{max(self.kv_capacity_tokens, 0)} KV tokens, fewer than one "
                f"{self.architecture.max_context_tokens}-token context")


# ------------------------------------------------------------------------------------------------
# Pure formulas
# ------------------------------------------------------------------------------------------------
def ring_allreduce_time_s(message_bytes: float, n_gpus: int, bus_bandwidth_bytes_per_s: float,
                          latency_s: float) -> float:
    """All-reduce of `message_bytes` [B] over `n_gpus` [s] = alpha + 2(g-1)/g x n / B_bus (0 if g=1).

    Thakur, Rabenseifner & Gropp 2005; B_bus as nccl-tests' busbw. Worked number: 1 MB over 8 H100
    (370 GB/s, 6 us): 6e-6 + 1.75 x 1e6 / 3.7e11 = 10.7 us.
    """
    if n_gpus <= 1:
        return 0.0
    return latency_s + 2.0 * (n_gpus - 1) / n_gpus * message_bytes / bus_bandwidth_bytes_per_s


def forward_flops(architecture: LlmArchitecture, new_tokens: float, attended_positions: float) -> float:
    """Forward-pass FLOP = 2 x N_matmul x new_tokens + 4 x layers x d_attn x attended_positions.

    Kaplan et al. 2020 Table 1 (2N per token) and PaLM Appendix B (attention: QK^T and AV).
    """
    return (2.0 * architecture.matmul_params_per_token * new_tokens
            + 4.0 * architecture.n_layers * architecture.attention_dim * attended_positions)


def causal_prefill_positions(prompt_tokens: int) -> int:
    """Positions attended by a causal prefill of P tokens: P (P + 1) / 2."""
    return prompt_tokens * (prompt_tokens + 1) // 2


def moe_expert_fraction_touched(architecture: LlmArchitecture, tokens: float) -> float:
    """Expected fraction of a layer's experts at least one of `tokens` is routed to.

    1 - (1 - k / E)^tokens, assuming each token picks its k experts uniformly and independently
    (assumed: real routers are skewed, which touches fewer experts). 1 for dense models.
    """
    if not architecture.is_mixture_of_experts:
        return 1.0
    if tokens <= 0:
        return 0.0
    miss = 1.0 - architecture.n_active_experts / architecture.n_experts
    return 1.0 - miss ** tokens


def weight_bytes_read(model: ServedModel, tokens: float) -> float:
    """Weight bytes one step streams from HBM when it processes `tokens` tokens [B].

    Every matrix that enters a product is read once per step: attention, router, norms, the output
    projection, and the experts the step's tokens touch. Embedding lookups read a few rows only and
    are left out (when tied, the matrix is read anyway as the output projection).
    """
    arch = model.architecture
    expert_fraction = moe_expert_fraction_touched(arch, tokens)
    per_layer_dense = arch.attention_params_per_layer + arch.router_params_per_layer + arch.norm_params_per_layer
    params = (arch.n_layers * per_layer_dense + arch.hidden_size + arch.output_projection_params
              + arch.expert_params * expert_fraction)
    return params * model.weights.bytes_per_element


class StepTime(NamedTuple):
    """Duration of one engine step and its parts [s] (an immutable result record).

    `time_s = max(compute_s, memory_s) + communication_s`. `compute_s` is the time the tensor cores
    need at the stated efficiency: the power model uses compute_s / time_s as the compute-busy fraction.
    """

    time_s: float
    compute_s: float
    memory_s: float
    communication_s: float

    @property
    def compute_fraction(self) -> float:
        return self.compute_s / self.time_s if self.time_s > 0 else 0.0

    @property
    def bound(self) -> str:
        return "compute" if self.compute_s >= self.memory_s else "memory"


def _compute_s(replica: ReplicaSpec, flops: float) -> float:
    return flops / (replica.n_gpus * replica.peak_flops_per_s * replica.efficiency.compute)


def _memory_s(replica: ReplicaSpec, bytes_moved: float) -> float:
    bandwidth = replica.n_gpus * replica.gpu.hbm_bandwidth_bytes_per_s * replica.efficiency.memory_bandwidth
    return bytes_moved / bandwidth


def _communication_s(replica: ReplicaSpec, tokens: float) -> float:
    """Two all-reduces per layer of tokens x hidden activations (Megatron-LM TP)."""
    arch = replica.architecture
    message_bytes = tokens * arch.hidden_size * replica.activation_bytes_per_element
    if replica.n_gpus <= 1:
        return 0.0
    one = ring_allreduce_time_s(message_bytes, replica.n_gpus, allreduce_bus_bandwidth_bytes_per_s(replica.gpu),
                                NVLINK_ALLREDUCE_LATENCY_S)
    return 2.0 * arch.n_layers * one


def prefill_step(replica: ReplicaSpec, prompt_tokens: Sequence[int]) -> StepTime:
    """One batched prefill step over prompts of `prompt_tokens` tokens each.

    FLOP = 2 N sum(P) + 4 L d_attn sum(P(P+1)/2); bytes = weights read + KV written (sum(P) tokens).
    """
    total_tokens = float(sum(prompt_tokens))
    if total_tokens <= 0:
        raise ValueError("a prefill step needs at least one prompt token")
    attended = float(sum(causal_prefill_positions(int(p)) for p in prompt_tokens))
    arch = replica.architecture
    flops = forward_flops(arch, total_tokens, attended)
    bytes_moved = weight_bytes_read(replica.model, total_tokens) + replica.kv_bytes_per_token * total_tokens
    compute = _compute_s(replica, flops)
    memory = _memory_s(replica, bytes_moved)
    communication = _communication_s(replica, total_tokens)
    return StepTime(max(compute, memory) + communication, compute, memory, communication)


@dataclass(frozen=True)
class DecodeStepLaw:
    """Step time of a decode batch of fixed size as a function of its total context C [tokens].

        compute_s(C) = compute_fixed_s + compute_per_token_s x C
        memory_s(C)  = memory_fixed_s  + memory_per_token_s  x C
        step_s(C)    = max(compute_s(C), memory_s(C)) + communication_s

    C is the summed context of the batch including the tokens being decoded; it grows by the batch
    size each step. `run_time_s` and `run_compute_s` sum n consecutive steps in closed form (two
    arithmetic series split where the two lines cross), so a run of n steps costs O(1).
    """

    compute_fixed_s: float
    compute_per_token_s: float
    memory_fixed_s: float
    memory_per_token_s: float
    communication_s: float = 0.0

    def __post_init__(self) -> None:
        for name in ("compute_fixed_s", "compute_per_token_s", "memory_fixed_s", "memory_per_token_s",
                     "communication_s"):
            if getattr(self, name) < 0:
                raise ValueError(f"decode step law: {name} must be >= 0")
        if self.step(0.0).time_s <= 0:
            raise ValueError("decode step law: a step must take a positive time")

    def step(self, context_tokens: float) -> StepTime:
        compute = self.compute_fixed_s + self.compute_per_token_s * context_tokens
        memory = self.memory_fixed_s + self.memory_per_token_s * context_tokens
        return StepTime(max(compute, memory) + self.communication_s, compute, memory, self.communication_s)

    def _lines(self, context_tokens: float, growth_per_step: float):
        """Compute and memory time of step k as p + q k."""
        pc = self.compute_fixed_s + self.compute_per_token_s * context_tokens
        qc = self.compute_per_token_s * growth_per_step
        pm = self.memory_fixed_s + self.memory_per_token_s * context_tokens
        qm = self.memory_per_token_s * growth_per_step
        return pc, qc, pm, qm

    @staticmethod
    def _series(p: float, q: float, lo: int, hi: int) -> float:
        """sum_{k=lo}^{hi-1} (p + q k)."""
        n = hi - lo
        if n <= 0:
            return 0.0
        return n * p + q * n * (lo + hi - 1) / 2.0

    def _split(self, pc: float, qc: float, pm: float, qm: float, n_steps: int) -> tuple[int, bool]:
        """(s, compute_first): steps [0, s) are bound by one line, [s, n) by the other."""
        dp, dq = pc - pm, qc - qm
        if dq == 0.0:
            return n_steps, dp >= 0.0
        root = min(max(-dp / dq, -1.0), n_steps + 1.0)  # compute - memory changes sign at k = root
        if dq > 0:  # memory-bound first, compute-bound from ceil(root)
            return min(max(math.ceil(root), 0), n_steps), False
        return min(max(math.floor(root) + 1, 0), n_steps), True  # compute-bound first

    def run_time_s(self, context_tokens: float, growth_per_step: float, n_steps: int) -> float:
        """Duration of n consecutive steps starting at total context C, C growing each step [s]."""
        if n_steps <= 0:
            return 0.0
        pc = self.compute_fixed_s + self.compute_per_token_s * context_tokens
        qc = self.compute_per_token_s * growth_per_step
        pm = self.memory_fixed_s + self.memory_per_token_s * context_tokens
        qm = self.memory_per_token_s * growth_per_step
        last = n_steps - 1
        # One line bounds every step (lines cannot cross between two points where one is above):
        # the usual case, memory-bound decode.
        if pc <= pm and pc + qc * last <= pm + qm * last:
            return n_steps * pm + qm * n_steps * last / 2.0 + n_steps * self.communication_s
        if pc >= pm and pc + qc * last >= pm + qm * last:
            return n_steps * pc + qc * n_steps * last / 2.0 + n_steps * self.communication_s
        s, compute_first = self._split(pc, qc, pm, qm, n_steps)
        if compute_first:
            p1, q1, p2, q2 = pc, qc, pm, qm
        else:
            p1, q1, p2, q2 = pm, qm, pc, qc
        rest = n_steps - s
        # sum_{k<s} (p1 + q1 k) + sum_{s<=k<n} (p2 + q2 k) + n x comm
        return (s * p1 + q1 * s * (s - 1) / 2.0 + rest * p2 + q2 * rest * (s + n_steps - 1) / 2.0
                + n_steps * self.communication_s)

    def run_compute_s(self, context_tokens: float, growth_per_step: float, n_steps: int) -> float:
        """Tensor-core time of n consecutive steps [s] (the compute line summed)."""
        pc, qc, _, _ = self._lines(context_tokens, growth_per_step)
        return self._series(pc, qc, 0, max(n_steps, 0))

    def steps_within(self, context_tokens: float, growth_per_step: float, duration_s: float,
                     max_steps: int) -> int:
        """Largest n <= max_steps whose n steps end no later than `duration_s` after the start.

        Solves the quadratic of the bounding line in closed form, then corrects by one step either
        way against `run_time_s` so that float rounding cannot misplace a boundary.
        """
        if max_steps <= 0 or duration_s < self.run_time_s(context_tokens, growth_per_step, 1):
            return 0
        pc, qc, pm, qm = self._lines(context_tokens, growth_per_step)
        last = max_steps - 1
        if pc <= pm and pc + qc * last <= pm + qm * last:      # memory-bound throughout
            p, q, offset, remaining = pm, qm, 0, duration_s
        elif pc >= pm and pc + qc * last >= pm + qm * last:    # compute-bound throughout
            p, q, offset, remaining = pc, qc, 0, duration_s
        else:
            s, compute_first = self._split(pc, qc, pm, qm, max_steps)
            first, second = ((pc, qc), (pm, qm)) if compute_first else ((pm, qm), (pc, qc))
            time_at_split = self.run_time_s(context_tokens, growth_per_step, s)
            if duration_s < time_at_split:
                p, q, offset, remaining = first[0], first[1], 0, duration_s
            else:
                p, q, offset, remaining = second[0] + second[1] * s, second[1], s, duration_s - time_at_split
        # n steps of (p + comm) + q k, k = 0..n-1:  q/2 n^2 + (p + comm - q/2) n - remaining = 0
        a, b = q / 2.0, p + self.communication_s - q / 2.0
        denominator = b + math.sqrt(max(b * b + 4.0 * a * remaining, 0.0))  # stable root of a n^2 + b n = r
        guess = 2.0 * remaining / denominator if denominator > 0 else float(max_steps)
        n = min(max(offset + int(min(guess, float(max_steps))), 0), max_steps)
        while n < max_steps and self.run_time_s(context_tokens, growth_per_step, n + 1) <= duration_s:
            n += 1
        while n > 0 and self.run_time_s(context_tokens, growth_per_step, n) > duration_s:
            n -= 1
        return n

    def boundary_at_or_after(self, context_tokens: float, growth_per_step: float, elapsed_s: float,
                             max_steps: int) -> tuple[int, float]:
        """(k, t_k): the first step boundary at or after `elapsed_s` from the start of a run of at most
        `max_steps` steps, k steps in, t_k = run_time_s(k) (k = max_steps if none is earlier)."""
        done = self.steps_within(context_tokens, growth_per_step, elapsed_s, max_steps)
        at = self.run_time_s(context_tokens, growth_per_step, done)
        if at >= elapsed_s or done >= max_steps:
            return done, at
        return done + 1, self.run_time_s(context_tokens, growth_per_step, done + 1)

    def compute_by_s(self, context_tokens: float, growth_per_step: float, elapsed_s: float,
                     max_steps: int) -> float:
        """Tensor-core time accumulated `elapsed_s` after the start of a run [s]; the step in
        progress contributes pro rata to its elapsed part."""
        done = self.steps_within(context_tokens, growth_per_step, elapsed_s, max_steps)
        compute = self.run_compute_s(context_tokens, growth_per_step, done)
        if done < max_steps:
            started_s = self.run_time_s(context_tokens, growth_per_step, done)
            current = self.step(context_tokens + growth_per_step * done)
            fraction = min(max((elapsed_s - started_s) / current.time_s, 0.0), 1.0)
            compute += fraction * current.compute_s
        return compute


def decode_step(replica: ReplicaSpec, batch_size: int, context_tokens: float) -> StepTime:
    """One decode step of `batch_size` sequences whose contexts (new token included) sum to
    `context_tokens`. FLOP = 2 N b + 4 L d_attn C; bytes = weights read + KV bytes x C."""
    return decode_step_law(replica, batch_size).step(context_tokens)


@lru_cache(maxsize=4096)
def decode_step_law(replica: ReplicaSpec, batch_size: int) -> DecodeStepLaw:
    """The `DecodeStepLaw` of `replica` at a batch of `batch_size` sequences."""
    if batch_size < 1:
        raise ValueError(f"a decode step needs at least one sequence, got {batch_size}")
    arch = replica.architecture
    compute_fixed = _compute_s(replica, forward_flops(arch, batch_size, 0.0))
    compute_per_token = _compute_s(replica, forward_flops(arch, 0.0, 1.0))
    memory_fixed = _memory_s(replica, weight_bytes_read(replica.model, batch_size))
    memory_per_token = _memory_s(replica, replica.kv_bytes_per_token)
    communication = _communication_s(replica, batch_size)
    return DecodeStepLaw(compute_fixed, compute_per_token, memory_fixed, memory_per_token, communication)


class RooflineStepCost:
    """Step costs of a replica from the roofline: what `sim.workloads.batching` consumes.

    Same numbers as `prefill_step` and `decode_step_law`, with the replica's constants computed once
    and the decode law of each batch size kept (the replica asks for them at every event).
    """

    def __init__(self, replica: ReplicaSpec):
        self.replica = replica
        arch = replica.architecture
        self._per_token_s = _compute_s(replica, forward_flops(arch, 1.0, 0.0))
        self._per_position_s = _compute_s(replica, forward_flops(arch, 0.0, 1.0))
        self._kv_write_s = _memory_s(replica, replica.kv_bytes_per_token)
        self._dense_weights_s = (None if arch.is_mixture_of_experts
                                 else _memory_s(replica, weight_bytes_read(replica.model, 1.0)))
        self._laws: dict[int, DecodeStepLaw] = {}

    def prefill_cost(self, prompt_tokens: Sequence[int]) -> StepTime:
        tokens = 0
        positions = 0
        for p in prompt_tokens:
            tokens += p
            positions += p * (p + 1) // 2
        if tokens <= 0:
            raise ValueError("a prefill step needs at least one prompt token")
        compute = self._per_token_s * tokens + self._per_position_s * positions
        weights = (self._dense_weights_s if self._dense_weights_s is not None
                   else _memory_s(self.replica, weight_bytes_read(self.replica.model, tokens)))
        memory = weights + self._kv_write_s * tokens
        communication = _communication_s(self.replica, tokens)
        return StepTime(max(compute, memory) + communication, compute, memory, communication)

    def decode_step_law(self, batch_size: int) -> DecodeStepLaw:
        law = self._laws.get(batch_size)
        if law is None:
            law = self._laws[batch_size] = decode_step_law(self.replica, batch_size)
        return law
