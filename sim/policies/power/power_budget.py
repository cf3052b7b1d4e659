"""power_budget: keep the cluster's IT power within a budget (a row's or a facility's feed) with one
uniform GPU cap, the highest that fits, re-set whenever a job starts, ends or is suspended; a job that
would break the budget even with every GPU at its lowest clock waits until power frees up.

The uniform cap is found by bisection on the cluster's IT power, which does not decrease with the cap.
Capping to live within a power budget is how oversubscribed LLM clusters are run (Patel et al. 2024,
"POLCA: Power Oversubscription in LLM Cloud Providers" / "Characterizing Power Management Opportunities
for LLMs in the Cloud", ASPLOS'24).
"""

from __future__ import annotations

from typing import ClassVar

from sim.facility.tickets import Ticket
from sim.policies.power.base import PowerView

# Bisection on [idle, TDP] to a hundredth of a watt per GPU: 700 W / 2^16 = 0.011 W.
_BISECTIONS = 16


class PowerBudget:
    name: ClassVar[str] = "power_budget"
    reads_view: ClassVar[bool] = True

    def __init__(self, budget_w: float):
        if budget_w <= 0:
            raise ValueError(f"a power budget must be positive, got {budget_w}")
        self.budget_w = budget_w

    def cap_w(self, view: PowerView) -> float | None:
        if view.it_power_w(None) <= self.budget_w:
            return None
        lo, hi = view.gpu_idle_w, view.gpu_tdp_w
        if view.it_power_w(lo) > self.budget_w:
            return lo  # not reachable: every GPU at its lowest clock (admission keeps this from happening)
        for _ in range(_BISECTIONS):
            mid = 0.5 * (lo + hi)
            if view.it_power_w(mid) <= self.budget_w:
                lo = mid
            else:
                hi = mid
        return lo

    def admits(self, ticket: Ticket, view: PowerView) -> bool:
        floor_w = view.it_power_w(view.gpu_idle_w)
        fn = ticket.it_power_at_cap_w
        added_w = (fn(view.gpu_idle_w) if fn is not None else 0.0) - ticket.nodes * view.node_idle_w
        return floor_w + added_w <= self.budget_w
