"""Job-scheduling policies, keyed by their TOML name (`policies.scheduling`). One file each."""

from __future__ import annotations

from sim.policies.scheduling.base import SchedulingPolicy
from sim.policies.scheduling.easy_backfill import EasyBackfill
from sim.policies.scheduling.fifo import Fifo
from sim.policies.scheduling.sjf import ShortestJobFirst

POLICIES: dict[str, type] = {cls.name: cls for cls in (Fifo, EasyBackfill, ShortestJobFirst)}

__all__ = ["POLICIES", "SchedulingPolicy"]
