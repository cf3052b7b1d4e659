"""sjf: shortest job first, first fit: waiting jobs by estimated run time (shortest first, then by
submission), each started if it fits the free nodes now.

Shortest-job-first minimises the mean wait on one machine (Smith 1956, "Various optimizers for
single-stage production", Naval Research Logistics Quarterly 3); on a cluster it lets small short jobs
through at the risk of starving long ones, which is what a comparison with fifo and easy_backfill shows.
Jobs with an unknown run time go last.
"""

from __future__ import annotations

from typing import Callable, ClassVar, Sequence

from sim.facility.tickets import Ticket
from sim.policies.scheduling.base import always


class ShortestJobFirst:
    name: ClassVar[str] = "sjf"

    def select(self, now_s: float, waiting: Sequence[Ticket], free_nodes: int, running: Sequence[Ticket],
               admit: Callable[[Ticket], bool] = always) -> list[Ticket]:
        chosen = []
        for ticket in sorted(waiting, key=lambda t: (t.priority, t.remaining_s(), t.submitted_at_s, t.seq)):
            if ticket.nodes <= free_nodes and admit(ticket):
                chosen.append(ticket)
                free_nodes -= ticket.nodes
        return chosen
