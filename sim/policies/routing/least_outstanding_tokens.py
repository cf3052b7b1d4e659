"""least_outstanding_tokens: the replica with the fewest prompt + output tokens still to serve.

Requests differ in size by orders of magnitude, so counting tokens rather than requests balances
work better (the rule behind token-aware LLM load balancers). A request counts with all its tokens
until it finishes: the router does not see how far each one has decoded. Ties: lowest index.
"""

from __future__ import annotations

from typing import ClassVar

from sim.policies.routing.base import ReplicaLoads


class LeastOutstandingTokens:
    name: ClassVar[str] = "least_outstanding_tokens"

    def __init__(self, n_replicas: int):
        self._indices = range(n_replicas)

    def choose(self, loads: ReplicaLoads, prompt_tokens: int, output_tokens: int) -> int:
        return min(self._indices, key=loads.outstanding_tokens.__getitem__)
