"""round_robin: replicas in turn, whatever their load (nginx's default upstream policy)."""

from __future__ import annotations

from typing import ClassVar

from sim.policies.routing.base import ReplicaLoads


class RoundRobin:
    name: ClassVar[str] = "round_robin"

    def __init__(self, n_replicas: int):
        self.n_replicas = n_replicas
        self._next = 0

    def choose(self, loads: ReplicaLoads, prompt_tokens: int, output_tokens: int) -> int:
        chosen = self._next
        self._next = (chosen + 1) % self.n_replicas
        return chosen
