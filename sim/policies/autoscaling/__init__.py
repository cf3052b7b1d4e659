"""Inference autoscaling policies, keyed by their TOML name (`policies.autoscaling`). One file each."""

from __future__ import annotations

from sim.policies.autoscaling.base import AutoscalingPolicy, ServiceLoad
from sim.policies.autoscaling.fixed import Fixed
from sim.policies.autoscaling.target_utilisation import TargetUtilisation

POLICIES: dict[str, type] = {cls.name: cls for cls in (Fixed, TargetUtilisation)}

__all__ = ["AutoscalingPolicy", "POLICIES", "ServiceLoad"]
