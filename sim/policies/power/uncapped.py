"""uncapped: GPUs run at their full clock, drawing what their work asks for (up to TDP)."""

from __future__ import annotations

from typing import ClassVar

from sim.facility.tickets import Ticket
from sim.policies.power.base import PowerView


class Uncapped:
    name: ClassVar[str] = "uncapped"
    reads_view: ClassVar[bool] = False

    def cap_w(self, view: PowerView | None) -> float | None:
        return None

    def admits(self, ticket: Ticket, view: PowerView | None) -> bool:
        return True
