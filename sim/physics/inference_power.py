"""GPU power by inference phase, and the energy per output token that follows from it.

Power is placed in the dynamic range between idle and TDP by an activity factor a in [0, 1]:

    power_w = idle_w + (tdp_w - idle_w) x a

and the activity of an engine step depends on how much of it keeps the tensor cores busy:

    a = a_mem + (1 - a_mem) x u ,      u = t_compute / t_step  in [0, 1]

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
380 W, A100 250 W; idle 75 W / 63 W) is taken as the decode power of the replica Splitwise
characterised, Llama-2-70B in bf16 on an 8-GPU DGX, at an operating point of batch 32 and a mean
context of 1,024 tokens. Splitwise does not state the batch behind its constant, so the batch is
ASSUMED: of 16, 32, 48 and 64 it is the one with which the model best reproduces the two ML.ENERGY
power measurements below (so those are not fully independent checks of this one choice). The
roofline (default efficiencies) gives u = 0.12 there on H100 and 0.25 on A100, hence a_mem = 0.42
(H100, P_mem = 335 W) and 0.41 (A100, P_mem = 201 W). Checks (tests/test_inference_power.py):
* A100, batch 1: ML.ENERGY measured 194 W for Llama-2-7B (below); the model gives 203 W (the
  40 GB part is given the 80 GB part's Splitwise idle and TDP, both 400 W boards).
* H100: ML.ENERGY v3.0 measured per-GPU power for Llama-3.1-70B on 4 x H100 of 500, 546 and 589 W
  at batch 64, 128 and 256 (figure "llama-power" of the post cited in (b) below); the model gives
  470, 539 and 609 W for the chat workload below.
* Known miss: for Llama-3.1-8B on ONE H100 the same figure shows 513, 610 and 691 W at batch 16, 64
  and 256, and 0.26, 0.12 and 0.077 J per output token; the model gives 380, 452 and 534 W and
  0.18, 0.08 and 0.057 J, about 30 % low. A small model at small batch keeps the GPU busier than
  its weight traffic suggests (sampling, scheduling and other non-matmul work), which this
  two-parameter model does not capture.
* Splitwise's A100 constant at batch 64 instead of 32: model 290 W against 250 W.
* Decode on Hopper at batch 1: the model's 335 W (H100) / 338 W (H200) sits just above the
  137-300 W that Ma et al. measured on H200.

Energy is linear in the two times the roofline returns, which keeps integration exact:

    E = g x [ P_mem x t_busy + (P_tdp - P_mem) x t_compute + P_idle x t_idle ]
    P_mem = idle + (tdp - idle) x a_mem

(t_compute <= t_busy always). A run of n decode steps costs O(1) in closed form.

Energy per output token (`energy_per_output_token_j`): b requests of P prompt and O output tokens
served together: one prefill step, then O - 1 decode steps with contexts growing; GPU energy (no
host, no cooling) divided by b x O. The chat workload is ML.ENERGY v3's "Text Conversation" means
(634 prompt, 717 output tokens); the 2023 A100 runs had 420-token responses (prompt length not
published; 634 assumed). Figures from this module next to published measurements:

===============================================================  =========  ==================
case                                                              model      published
===============================================================  =========  ==================
Llama-2-7B, 1 x A100-80GB, batch 1, default efficiencies          1.99 J     -
  (103 token/s; gpt-fast measured 104.9 token/s on this setup)
Llama-2-7B, 1 x A100-40GB, batch 1, at the 39 % of peak           4.58 J     4.35 J (a)
  bandwidth the measured Hugging Face stack reached (44.3 token/s)
Llama-2-7B, 1 x A100-80GB, batch 4 / 16 / 64                     0.60 / 0.25 / 0.16 J
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

from sim.catalog.llm_models import ServedModel, llm_architecture
from sim.physics.roofline import (
    A100_SXM_80GB,
    H100_SXM,
    AcceleratorSpec,
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


@dataclass(frozen=True)
class GpuPhasePower:
    """Per-GPU power of one GPU type by phase [W].

    idle_w: powered, model resident, no step running. standby_w: the low-power state of a GPU with
    no work scheduled for a long time (a scaled-down replica). tdp_w: board power limit.
    memory_bound_activity: a_mem (see module docstring).
    """

    name: str
    idle_w: float
    tdp_w: float
    memory_bound_activity: float
    standby_w: float
    source: str

    def __post_init__(self) -> None:
        if not 0.0 <= self.standby_w <= self.idle_w < self.tdp_w:
            raise ValueError(f"{self.name}: need 0 <= standby <= idle < TDP, got "
                             f"{self.standby_w}, {self.idle_w}, {self.tdp_w} W")
        if not 0.0 <= self.memory_bound_activity <= 1.0:
            raise ValueError(f"{self.name}: memory-bound activity must be in [0, 1]")

    @property
    def memory_bound_power_w(self) -> float:
        """P_mem: power of a step that keeps HBM busy and the tensor cores idle."""
        return self.idle_w + (self.tdp_w - self.idle_w) * self.memory_bound_activity

    def power_w(self, compute_fraction: float) -> float:
        """Power of one GPU during a step with compute-busy fraction u [W]."""
        return self.idle_w + (self.tdp_w - self.idle_w) * activity(compute_fraction, self.memory_bound_activity)

    def step_power_w(self, step: StepTime) -> float:
        return self.power_w(step.compute_fraction)

    def busy_energy_j(self, busy_s: float, compute_s: float, n_gpus: int = 1) -> float:
        """Energy of `busy_s` of steps of which `compute_s` is tensor-core time [J].

        n x [P_mem x t_busy + (P_tdp - P_mem) x t_compute]; exact for any sum of steps because
        power is linear in the compute time of each step.
        """
        if compute_s > busy_s * (1.0 + 1e-9) + 1e-15:
            raise ValueError(f"compute time {compute_s} s exceeds busy time {busy_s} s")
        return n_gpus * (self.memory_bound_power_w * busy_s
                         + (self.tdp_w - self.memory_bound_power_w) * compute_s)

    def idle_energy_j(self, idle_s: float, n_gpus: int = 1) -> float:
        return n_gpus * self.idle_w * idle_s

    def standby_energy_j(self, standby_s: float, n_gpus: int = 1) -> float:
        return n_gpus * self.standby_w * standby_s


# ---- calibration ---------------------------------------------------------------------------------
# Splitwise simulator constants (Patel et al. ISCA 2024; splitwise-sim configs/power_model/constant.yaml):
SPLITWISE_H100 = {"idle_w": 75.0, "prompt_w": 700.0, "token_w": 380.0}
SPLITWISE_A100 = {"idle_w": 63.0, "prompt_w": 400.0, "token_w": 250.0}
# Assumed decode operating point behind the token-phase constant (see module docstring: batch 32
# is the assumption that best matches the ML.ENERGY measurements used as checks).
SPLITWISE_REFERENCE_MODEL = "llama-2-70b"
SPLITWISE_REFERENCE_TP = 8
SPLITWISE_REFERENCE_BATCH = 32
SPLITWISE_REFERENCE_CONTEXT_TOKENS = 1024


def splitwise_reference_step(accelerator: AcceleratorSpec) -> StepTime:
    """The decode step at which the Splitwise token-phase constant is matched."""
    replica = ReplicaSpec(ServedModel(llm_architecture(SPLITWISE_REFERENCE_MODEL)), accelerator,
                          SPLITWISE_REFERENCE_TP)
    return decode_step(replica, SPLITWISE_REFERENCE_BATCH,
                       SPLITWISE_REFERENCE_BATCH * SPLITWISE_REFERENCE_CONTEXT_TOKENS)


def _calibrated(name: str, accelerator: AcceleratorSpec, constants: dict, standby_w: float,
                source: str) -> GpuPhasePower:
    u = splitwise_reference_step(accelerator).compute_fraction
    a_mem = calibrate_memory_bound_activity(constants["token_w"], constants["idle_w"],
                                            constants["prompt_w"], u)
    return GpuPhasePower(name, constants["idle_w"], constants["prompt_w"], a_mem, standby_w, source)


H100_SXM_POWER = _calibrated(
    "H100 SXM5", H100_SXM, SPLITWISE_H100,
    # Standby: REFERENCE.md lists 60-75 W observed idle for H100 with low confidence; the low end is
    # taken for a GPU with nothing resident (assumed).
    standby_w=60.0,
    source="Splitwise constants (idle 75, prompt 700 = TDP, token 380 W) calibrated at batch 32",
)

A100_SXM_80GB_POWER = _calibrated(
    "A100 SXM4 80GB", A100_SXM_80GB, SPLITWISE_A100,
    # Standby: ~52-54 W observed idle for A100 40GB (REFERENCE.md, secondary source; assumed).
    standby_w=52.0,
    source="Splitwise constants (idle 63, prompt 400 = TDP, token 250 W) calibrated at batch 32",
)

H200_SXM_POWER = GpuPhasePower(
    "H200 SXM", idle_w=80.0, tdp_w=700.0,
    # Same GH100 die and TDP as H100 SXM: the H100 calibration is reused (assumed). Idle 80 W from
    # REFERENCE.md (low confidence); standby taken equal to idle for lack of a figure.
    memory_bound_activity=H100_SXM_POWER.memory_bound_activity, standby_w=80.0,
    source="H100 calibration; idle 80 W (REFERENCE.md, low confidence)",
)


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


def batch_energy(replica: ReplicaSpec, power: GpuPhasePower, batch_size: int, prompt_tokens: int,
                 output_tokens: int) -> BatchEnergy:
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
    energy = (power.busy_energy_j(prefill.time_s, prefill.compute_s, replica.n_gpus)
              + power.busy_energy_j(decode_time, decode_compute, replica.n_gpus))
    return BatchEnergy(prefill, decode_time, decode_compute, energy, batch_size * output_tokens)


def energy_per_output_token_j(replica: ReplicaSpec, power: GpuPhasePower, batch_size: int,
                              prompt_tokens: int, output_tokens: int) -> float:
    """GPU energy per output token [J/token] of `batch_energy`."""
    return batch_energy(replica, power, batch_size, prompt_tokens, output_tokens).energy_per_output_token_j


__all__ = [
    "A100_SXM_80GB_POWER",
    "H100_SXM_POWER",
    "H200_SXM_POWER",
    "BatchEnergy",
    "GpuPhasePower",
    "activity",
    "batch_energy",
    "calibrate_memory_bound_activity",
    "energy_per_output_token_j",
    "splitwise_reference_step",
]
