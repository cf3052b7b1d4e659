"""Request routers, keyed by their TOML name (`services.router`). One file each; add a class here."""

from __future__ import annotations

from sim.policies.routing.base import ReplicaLoads, Router
from sim.policies.routing.join_shortest_queue import JoinShortestQueue
from sim.policies.routing.least_outstanding_tokens import LeastOutstandingTokens
from sim.policies.routing.round_robin import RoundRobin

ROUTERS: dict[str, type] = {cls.name: cls for cls in (RoundRobin, JoinShortestQueue, LeastOutstandingTokens)}


def router_names() -> list[str]:
    return sorted(ROUTERS)


def make_router(name: str, n_replicas: int) -> Router:
    """A new router called `name` for `n_replicas` replicas; an unknown name lists the valid ones."""
    try:
        cls = ROUTERS[name]
    except KeyError:
        raise ValueError(f"unknown router {name!r}; expected one of: {', '.join(router_names())}") from None
    return cls(n_replicas)


__all__ = ["ROUTERS", "ReplicaLoads", "Router", "make_router", "router_names"]
