"""fixed: a service keeps the replicas it was given ([[services]] replicas); no autoscaling."""

from __future__ import annotations

from typing import ClassVar

from sim.policies.autoscaling.base import ServiceLoad


class Fixed:
    name: ClassVar[str] = "fixed"

    def desired_replicas(self, now_s: float, load: ServiceLoad) -> int:
        return load.replicas
