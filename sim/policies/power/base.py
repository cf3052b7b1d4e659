"""The one interface every GPU power policy implements.

A power policy sets one GPU power cap for the cluster (None: no cap) from what it sees of the cluster's
power, and may refuse to start a job that would break a power budget. The cluster asks it again whenever
a job starts, ends or is suspended, and hands the cap to the running jobs, whose clock, power and speed
then follow the DVFS model of sim/physics/dvfs.py (cap -> clock -> speed).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, ClassVar, Protocol, Sequence

from sim.facility.tickets import Ticket


@dataclass(frozen=True)
class PowerView:
    """The cluster as a power policy sees it.

    `other_it_w`: IT power of what no capped job holds (idle, sleeping and waking nodes, services) [W];
    `running`: tickets of the jobs holding nodes, each able to tell its IT power under a cap;
    `gpu_tdp_w`, `gpu_idle_w`: of the cluster's accelerator; `node_idle_w`: one idle node (GPUs + host).
    """

    other_it_w: float
    running: Sequence[Ticket]
    gpu_tdp_w: float
    gpu_idle_w: float
    node_idle_w: float

    def it_power_w(self, cap_w: float | None) -> float:
        """IT power of the cluster [W] if every running job were under `cap_w`."""
        return self.other_it_w + sum(_power(t, cap_w) for t in self.running)


def _power(ticket: Ticket, cap_w: float | None) -> float:
    fn: Callable[[float | None], float] | None = ticket.it_power_at_cap_w
    return fn(cap_w) if fn is not None else 0.0


class PowerPolicy(Protocol):
    """`name` is the TOML name (policies.power)."""

    name: ClassVar[str]
    # Whether cap_w and admits look at the view. False: the cluster hands them None instead of building one at
    # every start and end of a job (a view lists every running job: with hundreds running and a job ending every
    # few seconds, building it was most of a batch trace's run time). A policy without the attribute gets a view.
    reads_view: ClassVar[bool]

    def cap_w(self, view: PowerView) -> float | None:
        """The GPU power cap to apply now [W], or None for none."""

    def admits(self, ticket: Ticket, view: PowerView) -> bool:
        """Whether `ticket` may start now (its nodes leave the idle pool)."""
