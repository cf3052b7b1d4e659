"""Idle-node policies, keyed by their TOML name (`policies.idle`). One file each."""

from __future__ import annotations

from sim.policies.idle.always_on import AlwaysOn
from sim.policies.idle.base import IdlePolicy
from sim.policies.idle.power_down import PowerDown

POLICIES: dict[str, type] = {cls.name: cls for cls in (AlwaysOn, PowerDown)}

__all__ = ["POLICIES", "IdlePolicy"]
