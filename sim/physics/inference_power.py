"""GPU power by inference phase, and the energy per output token that follows from it.

Inference uses the project's one power model (sim/physics/power.py): a GPU draws

    power_w = idle_w + (tdp_w - idle_w) x a            (idle_w, tdp_w from the catalog, GpuSpec)

and each phase is an activity a in [0, 1]. The activity of an engine step depends on how much of it
keeps the tensor cores busy:

    a = a_mem + (1 - a_mem) x u ,      u = t_compute / t_step  in [0, 1]

Phases as activities (`PhaseActivity`; the host's utilisation tracks the accelerators' activity, the
same rule as training, since a whole-node measurement cannot tell them apart):
* prefill and decode steps: a(u) above (prefill u ~ 1, so a ~ 1: TDP);
* replica idle (model resident, CUDA context alive, no step running): a = 0.078, REPLICA_IDLE_ACTIVITY;
* standby (a node no service or job holds; nothing resident): a = 0, the cluster's IDLE phase.

Why a(u):
* A compute-bound step (prefill: u = 1 without communication) runs at TDP. Splitwise measured the
  prompt phase at the power limit: its simulator's constants are prompt 700 W = TDP on H100 and
  400 W = TDP on A100 (Patel et al., ISCA 2024, github.com/Mutinifni/splitwise-sim,
  configs/power_model/constant.yaml).
* A purely memory-bound step (u -> 0: decode at batch 1) streams HBM at full speed while the SMs
  wait: activity a_mem, well below TDP. Decode "draws only 137-300 W on a 700 W GPU" (H200, Ma,
  Afzal, Eitzinger & Wellein 2026, "The Illusion of Power Capping in LLM Decode", arXiv:2605.11999).
* In between, decode power rises with batch size because u rises (more FLOP per weight byte), as
  ML.ENERGY measured on H100 (post cited in (b) below, figure "llama-power").

Calibration of a_mem (`calibrate_memory_bound_activity`): the Splitwise token-phase constant (H100
380 W, A100 250 W; idle 75 W / 63 W, the catalog's idle figures) is taken as the decode power of the
replica Splitwise characterised, Llama-2-70B in bf16 on an 8-GPU DGX, at an operating point of batch 32 and a mean
context of 1,024 tokens. Splitwise does not state the batch behind its constant, so the batch is
ASSUMED: of 16, 32, 48 and 64 it is the one with which the model best reproduces the two ML.ENERGY
power measurements below (so those are not fully independent checks of this one choice). The
roofline (default efficiencies) gives u = 0.12 there on H100 and 0.25 on A100, hence a_mem = 0.417
from H100 and 0.409 from A100: the two GPUs agree within 2 %, so ONE activity serves every GPU type,
as power.py requires. MEMORY_BOUND_ACTIVITY is the H100 value (P_mem = 335 W on H100, 203 W on A100;
the A100 token phase then comes out at 252 W against Splitwise's 250 W). Checks
(tests/test_inference_power.py):
* A100, batch 1: ML.ENERGY measured 194 W for Llama-2-7B (below); the model gives 204 W (the
  catalog gives the 40 GB part the 80 GB part's Splitwise idle and TDP, both 400 W boards).
* H100: ML.ENERGY v3.0 measured per-GPU power for Llama-3.1-70B on 4 x H100 of 500, 546 and 589 W
  at batch 64, 128 and 256 (figure "llama-power" of the post cited in (b) below); the model gives
  470, 539 and 609 W for the chat workload below.
* Known miss: for Llama-3.1-8B on ONE H100 the same figure shows 513, 610 and 691 W at batch 16, 64
  and 256, and 0.26, 0.12 and 0.077 J per output token; the model gives 380, 452 and 534 W and
  0.18, 0.08 and 0.057 J, about 30 % low. A small model at small batch keeps the GPU busier than
  its weight traffic suggests (sampling, scheduling and other non-matmul work), which this
  two-parameter model does not capture.
* Splitwise's A100 constant at batch 64 instead of 32: model 291 W against 250 W.
* Decode on Hopper at batch 1: the model's 335 W (H100) / 341 W (H200) sits just above the
  137-300 W that Ma et al. measured on H200.

Replica idle: a GPU that holds a CUDA context draws 26-50 W above its bare idle on HBM GPUs
(H100, A100: Vadari 2026, "The Model Parking Tax", arXiv:2605.23918, 18 days of production
telemetry on 14 H100 plus controlled runs on A100). 0.078 is the one activity that puts both GPUs
inside that range (H100: +49 W, A100: +26 W).

Energy is linear in the two times the roofline returns, which keeps integration exact:

    E = g x [ P_mem x t_busy + (P_tdp - P_mem) x t_compute + P_ridle x t_idle ]
    P_mem = idle + (tdp - idle) x a_mem ,   P_ridle = idle + (tdp - idle) x 0.078

(t_compute <= t_busy always). A run of n decode steps costs O(1) in closed form.

Energy per output token (`energy_per_output_token_j`): b requests of P prompt and O output tokens
served together: one prefill step, then O - 1 decode steps with contexts growing; GPU energy (no
host, no cooling) divided by b x O. The chat workload is ML.ENERGY v3's "Text Conversation" means
(634 prompt, 717 output tokens); the 2023 A100 runs had 420-token responses (prompt length not
published; 634 assumed). Figures from this module next to published measurements:

===============================================================  =========  ==================
case                                                              model      published
===============================================================  =========  ==================
Llama-2-7B, 1 x A100-80GB, batch 1, default efficiencies          2.01 J     -
  (104.5 token/s; gpt-fast measured 104.9 token/s on this setup)
Llama-2-7B, 1 x A100-40GB, batch 1, at the 39 % of peak           4.64 J     4.35 J (a)
  bandwidth the measured Hugging Face stack reached (44.4 token/s)
Llama-2-7B, 1 x A100-80GB, batch 4 / 16 / 64                     0.59 / 0.24 / 0.15 J
Llama-2-70B, 4 x H100, batch 16                                   1.66 J     2.09 J (b)
Llama-2-70B, 4 x H100, batch 64                                   0.68 J     0.80 J (b)
Llama-2-70B, 4 x H100, batch 128                                  0.51 J     0.56 J (b)
Llama-2-70B, 4 x H100, batch 256 (KV cache nearly full)           0.43 J     0.48 J (b)
Llama-2-70B, 8 x H100, batch 256 / 512                            0.47 / 0.44 J
===============================================================  =========  ==================

(a) ML.ENERGY Leaderboard 2023 data (github.com/ml-energy/leaderboard, data/A100_chat_benchmark.csv):
    Llama-2-7b-chat on A100-SXM4-40GB with Hugging Face transformers at batch 1: 1,828.8 J for a
    420.1-token response in 9.44 s, i.e. 4.35 J per output token at 194 W and 44.5 token/s. Other
    7B Llama-architecture models in the same file: 4.3-10 J per output token.
(b) ML.ENERGY Leaderboard v3.0 (vLLM 0.11.1, LM Arena chat prompts), Llama-3.1-70B on 4 x H100:
    energy per output token read from the figure "llama-energy-per-token" of the post "LLM
    Inference Energy: A Longitudinal Analysis" (ml.energy blog, 2026-02-09; values taken from the
    SVG's vector coordinates): 2.09 J at batch 16, 0.80 J at 64, 0.56 J at 128, 0.48 J at 256,
    0.42 J at 512. Llama-3.1-70B has Llama-2-70B's shapes with a 4 x larger vocabulary (the model
    gives 0.7 % more for it).
Samsi et al. 2023 ("From Words to Watts", IEEE HPEC, arXiv:2310.03003) report about 3-4 J per
output token for LLaMA-65B on V100/A100 with an unoptimised stack (read in a summary of the paper,
not in the paper). Every row falls as the batch grows, as the measurements do. The rows marked
(a) and (b) and the headline figures are checked by tests/test_inference_power.py.
"""

from __future__ import annotations

from dataclasses import dataclass

from sim.catalog.hardware import GpuSpec
from sim.catalog.llm_models import ServedModel, llm_architecture
from sim.physics.power import IDLE, PhaseActivity, gpu_power_w
from sim.physics.roofline import (
    DecodeStepLaw,
    ReplicaSpec,
    StepTime,
    decode_step,
    decode_step_law,
    prefill_step,
)


def activity(compute_fraction: float, memory_bound_activity: float) -> float:
    """Activity of a step [-] = a_mem + (1 - a_mem) x u, u = compute-busy fraction in [0, 1]."""
    if not 0.0 <= memory_bound_activity <= 1.0:
        raise ValueError(f"memory-bound activity must be in [0, 1], got {memory_bound_activity}")
    u = min(max(compute_fraction, 0.0), 1.0)
    return memory_bound_activity + (1.0 - memory_bound_activity) * u


def calibrate_memory_bound_activity(measured_power_w: float, idle_w: float, tdp_w: float,
                                    compute_fraction: float) -> float:
    """The a_mem that makes `activity` reproduce `measured_power_w` at `compute_fraction`.

    a_measured = (P - idle) / (tdp - idle);  a_mem = (a_measured - u) / (1 - u).
    Worked number: Splitwise H100 token phase 380 W, idle 75 W, TDP 700 W, u = 0.1224 -> 0.4166.
    """
    if not idle_w < measured_power_w <= tdp_w:
        raise ValueError(f"measured power {measured_power_w} W must lie in ({idle_w}, {tdp_w}] W")
    if not 0.0 <= compute_fraction < 1.0:
        raise ValueError(f"compute fraction must be in [0, 1), got {compute_fraction}")
    measured_activity = (measured_power_w - idle_w) / (tdp_w - idle_w)
    value = (measured_activity - compute_fraction) / (1.0 - compute_fraction)
    if value < 0.0:
        raise ValueError("the measurement is below what the compute fraction alone implies")
    return value


# ---- calibration ---------------------------------------------------------------------------------
# Splitwise simulator constants (Patel et al. ISCA 2024; splitwise-sim configs/power_model/constant.yaml):
SPLITWISE_H100 = {"gpu": "h100-sxm5-80gb", "idle_w": 75.0, "prompt_w": 700.0, "token_w": 380.0}
SPLITWISE_A100 = {"gpu": "a100-sxm4-80gb", "idle_w": 63.0, "prompt_w": 400.0, "token_w": 250.0}
# Assumed decode operating point behind the token-phase constant (see module docstring: batch 32
# is the assumption that best matches the ML.ENERGY measurements used as checks).
SPLITWISE_REFERENCE_MODEL = "llama-2-70b"
SPLITWISE_REFERENCE_TP = 8
SPLITWISE_REFERENCE_BATCH = 32
SPLITWISE_REFERENCE_CONTEXT_TOKENS = 1024


def splitwise_reference_step(gpu: GpuSpec) -> StepTime:
    """The decode step at which the Splitwise token-phase constant is matched."""
    replica = ReplicaSpec(ServedModel(llm_architecture(SPLITWISE_REFERENCE_MODEL)), gpu, SPLITWISE_REFERENCE_TP)
    return decode_step(replica, SPLITWISE_REFERENCE_BATCH,
                       SPLITWISE_REFERENCE_BATCH * SPLITWISE_REFERENCE_CONTEXT_TOKENS)


def splitwise_memory_bound_activity(constants: dict) -> float:
    """a_mem that reproduces a Splitwise token-phase constant on its GPU (catalog entry)."""
    from sim.catalog.hardware import gpu_catalog

    u = splitwise_reference_step(gpu_catalog()[constants["gpu"]]).compute_fraction
    return calibrate_memory_bound_activity(constants["token_w"], constants["idle_w"], constants["prompt_w"], u)


# a_mem, calibrated on H100 (0.4166); the A100 calibration gives 0.409 (module docstring).
MEMORY_BOUND_ACTIVITY = splitwise_memory_bound_activity(SPLITWISE_H100)

# Vadari 2026 (arXiv:2605.23918): +26-50 W over bare idle with a CUDA context on H100 and A100;
# 0.078 x 625 W = 49 W (H100), 0.078 x 337 W = 26 W (A100).
REPLICA_IDLE_ACTIVITY = 0.078

REPLICA_IDLE = PhaseActivity(REPLICA_IDLE_ACTIVITY, REPLICA_IDLE_ACTIVITY)
STANDBY = IDLE


def step_activity(compute_fraction: float) -> float:
    """Activity of an engine step with compute-busy fraction u: a_mem + (1 - a_mem) u."""
    return activity(compute_fraction, MEMORY_BOUND_ACTIVITY)


def step_phase(step: StepTime) -> PhaseActivity:
    """The PhaseActivity of a prefill or decode step (the host tracks the accelerators)."""
    a = step_activity(step.compute_fraction)
    return PhaseActivity(a, a)


def step_power_w(gpu: GpuSpec, step: StepTime) -> float:
    """Power of one GPU during `step` [W]."""
    return gpu_power_w(gpu, step_activity(step.compute_fraction))


def memory_bound_power_w(gpu: GpuSpec) -> float:
    """P_mem: one GPU during a step that keeps HBM busy and the tensor cores idle [W]."""
    return gpu_power_w(gpu, MEMORY_BOUND_ACTIVITY)


def replica_idle_power_w(gpu: GpuSpec) -> float:
    """One GPU of a replica with its model resident and no step running [W]."""
    return gpu_power_w(gpu, REPLICA_IDLE_ACTIVITY)


def busy_energy_j(gpu: GpuSpec, busy_s: float, compute_s: float, n_gpus: int = 1) -> float:
    """Energy of `busy_s` of steps of which `compute_s` is tensor-core time [J].

    n x [P_mem x t_busy + (P_tdp - P_mem) x t_compute]; exact for any sum of steps because
    power is linear in the compute time of each step.
    """
    if compute_s > busy_s * (1.0 + 1e-9) + 1e-15:
        raise ValueError(f"compute time {compute_s} s exceeds busy time {busy_s} s")
    p_mem = memory_bound_power_w(gpu)
    return n_gpus * (p_mem * busy_s + (gpu.tdp_w - p_mem) * compute_s)


def replica_idle_energy_j(gpu: GpuSpec, idle_s: float, n_gpus: int = 1) -> float:
    return n_gpus * replica_idle_power_w(gpu) * idle_s


# ---- energy per output token ---------------------------------------------------------------------
@dataclass(frozen=True)
class BatchEnergy:
    """GPU energy of serving one batch end to end."""

    prefill: StepTime
    decode_time_s: float
    decode_compute_s: float
    energy_j: float
    output_tokens: int

    @property
    def energy_per_output_token_j(self) -> float:
        return self.energy_j / self.output_tokens

    @property
    def time_s(self) -> float:
        return self.prefill.time_s + self.decode_time_s


def batch_energy(replica: ReplicaSpec, batch_size: int, prompt_tokens: int, output_tokens: int) -> BatchEnergy:
    """GPU energy of `batch_size` requests of `prompt_tokens` + `output_tokens` served together.

    One prefill step of all prompts (it yields the first output token of each), then
    output_tokens - 1 decode steps; sequence contexts (new token included) start at P + 1.
    """
    if batch_size < 1 or prompt_tokens < 1 or output_tokens < 1:
        raise ValueError("batch size, prompt and output tokens must be >= 1")
    needed_tokens = batch_size * (prompt_tokens + output_tokens)
    if needed_tokens > replica.kv_capacity_tokens:
        raise ValueError(f"{batch_size} sequences of {prompt_tokens + output_tokens} tokens need "
                         f"{needed_tokens} KV tokens; the replica holds {replica.kv_capacity_tokens}")
    prefill = prefill_step(replica, [prompt_tokens] * batch_size)
    law: DecodeStepLaw = decode_step_law(replica, batch_size)
    steps = output_tokens - 1
    context = batch_size * (prompt_tokens + 1)
    decode_time = law.run_time_s(context, batch_size, steps)
    decode_compute = law.run_compute_s(context, batch_size, steps)
    gpu, n = replica.gpu, replica.n_gpus
    energy = (busy_energy_j(gpu, prefill.time_s, prefill.compute_s, n)
              + busy_energy_j(gpu, decode_time, decode_compute, n))
    return BatchEnergy(prefill, decode_time, decode_compute, energy, batch_size * output_tokens)


def energy_per_output_token_j(replica: ReplicaSpec, batch_size: int, prompt_tokens: int,
                              output_tokens: int) -> float:
    """GPU energy per output token [J/token] of `batch_energy`."""
    return batch_energy(replica, batch_size, prompt_tokens, output_tokens).energy_per_output_token_j
