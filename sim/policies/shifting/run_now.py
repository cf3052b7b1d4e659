"""run_now: every job runs as soon as the scheduler can start it; no deferral, no suspension.

The baseline against which carbon-aware policies are credited.
"""

from __future__ import annotations

import math
from typing import ClassVar

from sim.facility.tickets import Ticket


class RunNow:
    name: ClassVar[str] = "run_now"

    def on_submit(self, ticket: Ticket, now_s: float) -> None:
        return None

    def should_run(self, ticket: Ticket, now_s: float) -> bool:
        return True

    def next_review_s(self, ticket: Ticket, now_s: float) -> float:
        return math.inf
