"""power_down: a node idle for `idle_before_sleep` goes to sleep (suspend to RAM); when the scheduler
gives sleeping nodes to a job, they wake first and the job waits for them.

Defaults: wake-up 60 s (resume from S3 takes "less than a minute", IP.com IPCOM000237207D, 2014), sleep
power 5% of the node's idle draw (ASSUMED: memory self-refresh and the management controller, PowerNap's
"near-zero" state; give the measured figure of your servers), wake power = idle power (ASSUMED). With
these, sleeping pays for any idle spell longer than the wake-up (break-even in sim/physics/node_sleep.py),
but every job that lands on sleeping nodes starts a wake-up later.
"""

from __future__ import annotations

from typing import ClassVar

from sim.catalog.hardware import NodeSpec
from sim.physics.node_sleep import ASSUMED_SLEEP_SHARE_OF_IDLE, SleepModel


class PowerDown:
    name: ClassVar[str] = "power_down"

    def __init__(self, idle_before_sleep_s: float, wake_s: float, sleep_power_w: float | None = None,
                 wake_power_w: float | None = None):
        if idle_before_sleep_s < 0 or wake_s < 0:
            raise ValueError("idle_before_sleep and wake must be >= 0")
        self.idle_before_sleep_s = idle_before_sleep_s
        self.wake_s = wake_s
        self.sleep_power_w = sleep_power_w
        self.wake_power_w = wake_power_w

    def sleep_after_s(self) -> float | None:
        return self.idle_before_sleep_s

    def sleep_model(self, node: NodeSpec) -> SleepModel:
        idle_w = node.idle_power_w
        sleep_w = self.sleep_power_w if self.sleep_power_w is not None else ASSUMED_SLEEP_SHARE_OF_IDLE * idle_w
        wake_w = self.wake_power_w if self.wake_power_w is not None else idle_w
        return SleepModel(sleep_w=sleep_w, wake_s=self.wake_s, wake_w=wake_w)
