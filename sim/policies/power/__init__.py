"""GPU power policies, keyed by their TOML name (`policies.power`). One file each."""

from __future__ import annotations

from sim.policies.power.base import PowerPolicy, PowerView
from sim.policies.power.power_budget import PowerBudget
from sim.policies.power.static_cap import StaticCap
from sim.policies.power.uncapped import Uncapped

POLICIES: dict[str, type] = {cls.name: cls for cls in (Uncapped, StaticCap, PowerBudget)}

__all__ = ["POLICIES", "PowerPolicy", "PowerView"]
