"""The one interface every temporal-shifting (carbon-aware) policy implements.

A shifting policy decides, for a deferrable job (one with slack before its deadline), whether it may
run now, and when to look again. The cluster's shift controller (sim/facility/shifting.py) holds a
deferrable job out of the queue while `should_run` says no, suspends an interruptible running job when
it says no and resumes it when it says yes, and overrides the policy whenever waiting longer would miss
the deadline (the latest start = deadline - remaining run time at the current clock). Policies see the
grid only through a CarbonView (the intensity now and a forecast with a stated error).
"""

from __future__ import annotations

from typing import ClassVar, Protocol

from sim.facility.tickets import Ticket


class ShiftingPolicy(Protocol):
    """`name` is the TOML name (policies.shifting)."""

    name: ClassVar[str]

    def on_submit(self, ticket: Ticket, now_s: float) -> None:
        """A deferrable job was submitted: make any plan for it now (forecasts are read here)."""

    def should_run(self, ticket: Ticket, now_s: float) -> bool:
        """Whether the job may run at `now_s` (the deadline override is not the policy's business)."""

    def next_review_s(self, ticket: Ticket, now_s: float) -> float:
        """The next instant (> now) at which the answer of `should_run` may change; inf: never."""


# Instants within this of a plan boundary count as on it (float round-off of SimPy times).
EPS_S = 1e-6
