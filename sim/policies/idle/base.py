"""The one interface every idle-node policy implements: whether and when idle nodes go to sleep, and
what sleeping and waking cost (sim/physics/node_sleep.py). The cluster keeps the nodes' states (awake,
asleep, waking) and wakes sleeping nodes when the scheduler gives them to a job, which then waits for
the wake-up."""

from __future__ import annotations

from typing import ClassVar, Protocol

from sim.catalog.hardware import NodeSpec
from sim.physics.node_sleep import SleepModel


class IdlePolicy(Protocol):
    """`name` is the TOML name (policies.idle)."""

    name: ClassVar[str]

    def sleep_after_s(self) -> float | None:
        """Idle time after which a node is put to sleep [s]; None: never."""

    def sleep_model(self, node: NodeSpec) -> SleepModel:
        """Sleep power, wake-up time and wake power of one node of type `node`."""
