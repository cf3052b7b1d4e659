"""fifo: first come, first served, strictly: the head of the queue blocks everyone behind it.

The discipline of SimPy's Container that the cluster used before policies existed, and the baseline
of every backfilling study (Lifka 1995; Mu'alem and Feitelson 2001).
"""

from __future__ import annotations

from typing import Callable, ClassVar, Sequence

from sim.facility.tickets import Ticket
from sim.policies.scheduling.base import always


class Fifo:
    name: ClassVar[str] = "fifo"

    def select(self, now_s: float, waiting: Sequence[Ticket], free_nodes: int, running: Sequence[Ticket],
               admit: Callable[[Ticket], bool] = always) -> list[Ticket]:
        chosen = []
        for ticket in waiting:
            if ticket.nodes > free_nodes or not admit(ticket):
                break
            chosen.append(ticket)
            free_nodes -= ticket.nodes
        return chosen
