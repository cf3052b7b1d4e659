"""The one interface every inference autoscaling policy implements: how many replicas a service should
have, from what it observed over the last interval. The service starts replicas (each serving only after
its warm-up) and retires idle ones; the policy only recommends a count."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Protocol


@dataclass(frozen=True)
class ServiceLoad:
    """What the autoscaler saw of one service over its last interval.

    `utilisation`: the policy's metric over the interval: busy time of the serving replicas over their
    time [1], or mean requests in flight per serving replica; `replicas`: replicas serving or warming up
    now; `serving`: replicas that served during the interval.
    """

    utilisation: float
    replicas: int
    serving: int


class AutoscalingPolicy(Protocol):
    """`name` is the TOML name (policies.autoscaling)."""

    name: ClassVar[str]

    def desired_replicas(self, now_s: float, load: ServiceLoad) -> int: ...
