"""Temporal-shifting (carbon-aware) policies, keyed by their TOML name (`policies.shifting`). One file each."""

from __future__ import annotations

from sim.policies.shifting.base import ShiftingPolicy
from sim.policies.shifting.carbon_forecast import CarbonForecast
from sim.policies.shifting.carbon_threshold import CarbonThreshold
from sim.policies.shifting.run_now import RunNow

POLICIES: dict[str, type] = {cls.name: cls for cls in (RunNow, CarbonThreshold, CarbonForecast)}

__all__ = ["POLICIES", "ShiftingPolicy"]
