"""easy_backfill: first come, first served, with EASY backfilling (Lifka 1995, "The ANL/IBM SP
scheduling system"; analysed by Mu'alem and Feitelson 2001, IEEE TPDS 12(6)).

Jobs start in submission order while they fit. When the head of the queue does not fit, it gets a
reservation: the earliest instant at which enough nodes will be free, counting the running jobs'
expected ends (the "shadow time"), and the nodes left over then ("extra nodes"). A later job may jump
ahead (backfill) if it fits now and either ends by the shadow time or uses only extra nodes, so no
backfilled job can delay the head beyond its reservation, given correct run-time estimates. The first
reservation a ticket receives is recorded on it (`reserved_start_at_s`) so that tests can check this.
Without a known end for every running job there is no reservation, and no backfilling.
"""

from __future__ import annotations

import math
from typing import Callable, ClassVar, Sequence

from sim.facility.tickets import Ticket
from sim.policies.scheduling.base import always


def shadow_time(now_s: float, head_nodes: int, free_nodes: int, ends: Sequence[tuple[float, int]]) -> tuple[float, int]:
    """(shadow time [s], extra nodes) for a head job needing `head_nodes`, with `free_nodes` free now and
    running jobs giving back (end instant, nodes). (inf, 0) when it never fits."""
    available = free_nodes
    if available >= head_nodes:
        return now_s, available - head_nodes
    for end_s, nodes in sorted(ends):
        if math.isinf(end_s):
            break
        available += nodes
        if available >= head_nodes:
            return max(end_s, now_s), available - head_nodes
    return math.inf, 0


class EasyBackfill:
    name: ClassVar[str] = "easy_backfill"

    def select(self, now_s: float, waiting: Sequence[Ticket], free_nodes: int, running: Sequence[Ticket],
               admit: Callable[[Ticket], bool] = always) -> list[Ticket]:
        chosen: list[Ticket] = []
        queue = list(waiting)
        while queue and queue[0].nodes <= free_nodes and admit(queue[0]):
            head = queue.pop(0)
            chosen.append(head)
            free_nodes -= head.nodes
        if not queue:
            return chosen
        head = queue[0]
        ends = [(t.expected_end_s, t.held_nodes or t.nodes) for t in running]
        ends += [(now_s + t.remaining_s(), t.nodes) for t in chosen]
        shadow_s, extra = shadow_time(now_s, head.nodes, free_nodes, ends)
        if math.isinf(shadow_s):
            return chosen
        if head.reserved_start_at_s is None:
            head.reserved_start_at_s = shadow_s
        for ticket in queue[1:]:
            if ticket.nodes > free_nodes or not admit(ticket):
                continue
            if now_s + ticket.remaining_s() <= shadow_s:
                chosen.append(ticket)
                free_nodes -= ticket.nodes
            elif ticket.nodes <= extra:
                chosen.append(ticket)
                free_nodes -= ticket.nodes
                extra -= ticket.nodes
        return chosen
