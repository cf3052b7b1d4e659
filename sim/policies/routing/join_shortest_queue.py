"""join_shortest_queue: the replica with the fewest outstanding requests (queued + running).

Join-the-shortest-queue (Winston 1977, "Optimality of the shortest line discipline", J. Appl. Prob.
14(1)) is optimal for identical exponential servers; ties go to the lowest replica index.
"""

from __future__ import annotations

from typing import ClassVar

from sim.policies.routing.base import ReplicaLoads


class JoinShortestQueue:
    name: ClassVar[str] = "join_shortest_queue"

    def __init__(self, n_replicas: int):
        self._indices = range(n_replicas)

    def choose(self, loads: ReplicaLoads, prompt_tokens: int, output_tokens: int) -> int:
        return min(self._indices, key=loads.outstanding_requests.__getitem__)
