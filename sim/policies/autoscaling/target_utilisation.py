"""target_utilisation: replicas follow load so that a per-replica load metric stays near a target, as the
Kubernetes Horizontal Pod Autoscaler does (kubernetes.io, "Horizontal Pod Autoscaling", algorithm details):

    desired = ceil(serving x observed / target)

The metric is the replicas' busy share (`metric = "busy"`, target in (0, 1]: HPA on GPU utilisation) or
the mean number of requests in flight per replica (`metric = "concurrency"`, target in requests: the
Knative Pod Autoscaler's concurrency target, knative.dev "Configuring concurrency"). With continuous
batching a replica is busy whenever one request is in flight, so the busy share stays high at light load
and barely shrinks a service; concurrency follows the load.

left unchanged while observed / target is within the tolerance (HPA default 0.1), bounded by
[min_replicas, max_replicas]; a scale-down only goes as low as the highest recommendation of the last
`scale_down_delay` seconds (HPA's downscale stabilisation window, default 5 min), so a dip does not
retire replicas that the next burst needs. New replicas serve only after their warm-up.
"""

from __future__ import annotations

import math
from collections import deque
from typing import ClassVar

from sim.policies.autoscaling.base import ServiceLoad

# Kubernetes HPA: --horizontal-pod-autoscaler-tolerance default 0.1.
HPA_TOLERANCE = 0.1


class TargetUtilisation:
    name: ClassVar[str] = "target_utilisation"

    def __init__(self, target_utilisation: float, min_replicas: int = 1, max_replicas: int | None = None,
                 scale_down_delay_s: float = 300.0, metric: str = "busy"):
        if metric not in ("busy", "concurrency"):
            raise ValueError(f"metric must be 'busy' or 'concurrency', got {metric!r}")
        if not target_utilisation > 0 or (metric == "busy" and target_utilisation > 1):
            raise ValueError(f"target must be positive (and at most 1 for the busy share), got {target_utilisation}")
        self.metric = metric
        self.target = target_utilisation
        self.min_replicas = min_replicas
        self.max_replicas = max_replicas
        self.scale_down_delay_s = scale_down_delay_s
        self._history: deque[tuple[float, int]] = deque()

    def raw_recommendation(self, load: ServiceLoad) -> int:
        """ceil(serving x utilisation / target), or the current count within the tolerance."""
        ratio = load.utilisation / self.target
        if abs(ratio - 1.0) <= HPA_TOLERANCE:
            return load.replicas
        return math.ceil(load.serving * ratio - 1e-9)

    def desired_replicas(self, now_s: float, load: ServiceLoad) -> int:
        wanted = self.raw_recommendation(load)
        wanted = max(wanted, self.min_replicas)
        if self.max_replicas is not None:
            wanted = min(wanted, self.max_replicas)
        self._history.append((now_s, wanted))
        while self._history and self._history[0][0] < now_s - self.scale_down_delay_s:
            self._history.popleft()
        if wanted < load.replicas:
            wanted = min(load.replicas, max(w for _, w in self._history))
        return wanted
