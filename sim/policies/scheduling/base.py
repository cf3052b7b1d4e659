"""The one interface every job-scheduling policy implements.

At every dispatch (a job submitted or released by the shifting policy, nodes given back, a budget
change) the cluster asks the policy which waiting tickets to start now. The policy sees the waiting
tickets in submission order, the free nodes, and the running tickets with the instant each is expected
to give its nodes back; `admit(ticket)` says whether a power policy allows the ticket to start. The
policy only chooses: the cluster deducts the nodes and starts the jobs, in the order returned.
"""

from __future__ import annotations

from typing import Callable, ClassVar, Protocol, Sequence

from sim.facility.tickets import Ticket


def always(ticket: Ticket) -> bool:
    return True


class SchedulingPolicy(Protocol):
    """Chooses which waiting jobs start now. `name` is the TOML name (policies.scheduling)."""

    name: ClassVar[str]

    def select(self, now_s: float, waiting: Sequence[Ticket], free_nodes: int, running: Sequence[Ticket],
               admit: Callable[[Ticket], bool] = always) -> list[Ticket]: ...
