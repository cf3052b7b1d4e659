"""static_cap: every GPU capped at the same power (`gpu_cap_w`, or a share of TDP), as `nvidia-smi -pl`
sets it. A cap above what a job draws changes nothing for it; below, the job's clock drops until its draw
meets the cap, and it runs longer by the DVFS model (sim/physics/dvfs.py): compute-bound work slows about
in proportion to the clock, memory-bound work barely (Patel et al. 2024, ASPLOS'24)."""

from __future__ import annotations

from typing import ClassVar

from sim.facility.tickets import Ticket
from sim.policies.power.base import PowerView


class StaticCap:
    name: ClassVar[str] = "static_cap"
    reads_view: ClassVar[bool] = False

    def __init__(self, gpu_cap_w: float):
        if gpu_cap_w <= 0:
            raise ValueError(f"a GPU power cap must be positive, got {gpu_cap_w}")
        self.gpu_cap_w = gpu_cap_w

    def cap_w(self, view: PowerView | None) -> float | None:
        return self.gpu_cap_w

    def admits(self, ticket: Ticket, view: PowerView | None) -> bool:
        return True
