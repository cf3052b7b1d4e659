"""always_on: idle nodes stay powered on, drawing their idle power (the default of most clusters)."""

from __future__ import annotations

from typing import ClassVar

from sim.catalog.hardware import NodeSpec
from sim.physics.node_sleep import SleepModel


class AlwaysOn:
    name: ClassVar[str] = "always_on"

    def sleep_after_s(self) -> float | None:
        return None

    def sleep_model(self, node: NodeSpec) -> SleepModel:
        idle_w = node.idle_power_w
        return SleepModel(sleep_w=idle_w, wake_s=0.0, wake_w=idle_w)
