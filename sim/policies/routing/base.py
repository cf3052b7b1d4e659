"""The one interface every request router implements.

A router sees the service's replicas through `ReplicaLoads` (counters the service keeps up to date
at every arrival and completion) and picks the replica of each arriving request. It decides at the
arrival instant and never looks ahead. Routers are small, stateless or nearly so, and O(replicas)
per request at most.
"""

from __future__ import annotations

from typing import ClassVar, Protocol


class ReplicaLoads(Protocol):
    """What a router may read about the replicas, index 0 .. n-1.

    outstanding_requests[r]: requests routed to r and not finished (queued or running).
    outstanding_tokens[r]: their prompt + output tokens, summed (whole requests, until they finish).
    """

    outstanding_requests: list[int]
    outstanding_tokens: list[int]


class Router(Protocol):
    """Chooses a replica for each request. `name` is the TOML name (services.router)."""

    name: ClassVar[str]

    def choose(self, loads: ReplicaLoads, prompt_tokens: int, output_tokens: int) -> int: ...
