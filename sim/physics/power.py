"""Accelerator and host power as pure functions of what the hardware is doing.

Model: a device's power is a static part (its idle draw) plus a dynamic part that scales with an
activity factor in [0, 1] across its dynamic range:

    P_gpu(a)  = P_idle + (P_tdp - P_idle) * a                                    [W]
    P_host(u) = P_host_idle + (P_host_max - P_host_idle) * u                    [W]

with P_host_max = node maximum - accelerators x TDP (the vendor's system rating). The activity of a
phase (training compute, prefill, decode, idle) is a property of the work, not of the scenario, so
the same factors serve every GPU type: the catalog holds hardware facts, this module the behaviour.
"""

from __future__ import annotations

from dataclasses import dataclass

from sim.catalog.hardware import GpuSpec, NodeSpec

# Newkirk, Fernandez, Koomey, Latif, Strubell, Shehabi, Samaras (2025), "Empirically-calibrated H100
# node power models for reducing uncertainty in AI training energy estimation", arXiv:2506.14551:
# "even computationally intensive workloads operate at only 76% of the 10.2 kW TDP rating" of an
# 8x H100 HGX node during training (measured at Brookhaven National Laboratory; Latif et al. 2024,
# arXiv:2412.08602, report a maximum of 8.4 kW on the same node).
TRAINING_NODE_POWER_FRACTION_OF_RATING = 0.76

# The node those measurements were taken on: 10.2 kW rating (NVIDIA DGX H100 datasheet), idle
# 2,800 W (Patel et al., Splitwise, ISCA 2024 simulator constants).
_H100_NODE_RATING_W = 10_200.0
_H100_NODE_IDLE_W = 2_800.0


def activity_from_node_power_fraction(fraction_of_rating: float, rating_w: float, idle_w: float) -> float:
    """Activity a that puts a node at `fraction_of_rating` of its rating, when GPUs and host share a.

    Node power is linear in a: P(a) = P_idle + (P_rating - P_idle) a, so
    a = (f P_rating - P_idle) / (P_rating - P_idle).
    Example: 0.76 of 10,200 W with 2,800 W idle -> a = (7,752 - 2,800) / 7,400 = 0.669.
    """
    return (fraction_of_rating * rating_w - idle_w) / (rating_w - idle_w)


# Activity of the accelerators (and utilisation of the host) while a training job computes, derived
# above from the H100 node measurement: 0.669. The host is taken to track the accelerators (one
# shared factor), which is what a whole-node measurement can resolve.
TRAINING_ACTIVITY = activity_from_node_power_fraction(
    TRAINING_NODE_POWER_FRACTION_OF_RATING, _H100_NODE_RATING_W, _H100_NODE_IDLE_W
)


@dataclass(frozen=True)
class PhaseActivity:
    """What a phase asks of the hardware: accelerator activity and host utilisation, each in [0, 1]."""

    gpu_activity: float
    host_utilisation: float

    def __post_init__(self) -> None:
        for name in ("gpu_activity", "host_utilisation"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must lie in [0, 1], got {value}")


IDLE = PhaseActivity(0.0, 0.0)
TRAINING_COMPUTE = PhaseActivity(TRAINING_ACTIVITY, TRAINING_ACTIVITY)


def gpu_static_power_w(gpu: GpuSpec) -> float:
    """Static draw [W] of one accelerator: what it takes powered on and doing nothing."""
    return gpu.idle_w


def gpu_dynamic_power_w(gpu: GpuSpec, activity: float) -> float:
    """Dynamic draw [W] above idle: (TDP - idle) x activity."""
    return gpu.dynamic_range_w * activity


def gpu_power_w(gpu: GpuSpec, activity: float) -> float:
    """Power [W] of one accelerator at `activity` in [0, 1]: static + dynamic.

    Example: H100 (idle 75 W, TDP 700 W) at a = 0.669 draws 75 + 625 x 0.669 = 493 W.
    """
    return gpu_static_power_w(gpu) + gpu_dynamic_power_w(gpu, activity)


def host_power_w(node: NodeSpec, utilisation: float) -> float:
    """Power [W] of one node's host (all but the accelerators) at `utilisation` in [0, 1]."""
    return node.host_idle_w + (node.host_max_w - node.host_idle_w) * utilisation


def node_power_w(node: NodeSpec, phase: PhaseActivity) -> tuple[float, float]:
    """(accelerators, host) power [W] of one node whose accelerators all work in `phase`."""
    return node.gpus_per_node * gpu_power_w(node.gpu, phase.gpu_activity), host_power_w(node, phase.host_utilisation)


def scale_to_measured_system_power(
    gpu_w: float, host_w: float, gpus: int, measured_system_power_w_per_gpu: float
) -> tuple[float, float]:
    """Replace the modelled (accelerators, host) draw by a measured system power per accelerator.

    A published measurement of average system power per chip (e.g. 330 W per V100 for GPT-3,
    Patterson et al. 2021 Table 4) covers accelerator and host together; it is split between the
    two channels in the proportion of the model, so only the total is taken from the measurement.
    """
    total_w = gpu_w + host_w
    measured_total_w = measured_system_power_w_per_gpu * gpus
    if total_w <= 0:
        return measured_total_w, 0.0
    return gpu_w / total_w * measured_total_w, host_w / total_w * measured_total_w


# Accelerators waiting on communication that compute does not hide: NCCL collectives occupy a few
# SMs and the copy engines while the rest of the chip waits. No published per-phase measurement was
# found; assumed at a quarter of the dynamic range, host at the training level (NICs and CPUs busy).
EXPOSED_COMMUNICATION = PhaseActivity(0.25, TRAINING_ACTIVITY)


def tdp_arithmetic_power_w(gpu: GpuSpec, gpus: int) -> tuple[float, float]:
    """(accelerators, host) power [W] that GPU-hours x TDP arithmetic assumes: gpus x TDP, host 0.

    Not a physical model: published estimates such as Touvron et al. 2023 (LLaMA, Table 15: "we take
    the thermal design power for NVLink systems, that is 400W") and Luccioni et al. 2022 (BLOOM,
    dynamic part: 1,082,990 GPU-hours x 400 W = 433,196 kWh) multiply accelerator-hours by the rated
    power and leave the host out. Reproducing them takes this; the general model gives the physics.
    Example: 2,048 A100 (TDP 400 W) -> (819,200 W, 0 W).
    """
    return gpus * gpu.tdp_w, 0.0
