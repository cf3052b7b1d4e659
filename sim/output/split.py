"""Where a run's energy and carbon went, by kind of owner: E = E_training + E_inference + E_idle (+ unattributed).

The meter attributes every joule of facility energy (IT plus its share of cooling, power losses and misc) and the
carbon of that energy to the owner whose IT load drew it, stretch by stretch (sim/engine/meter.py): training jobs,
inference services, the idle pool (nodes nobody holds, at idle power) and, when no IT load draws power at all,
'unattributed' (e.g. the misc load of an empty hall). Summed by kind, the parts add up to the run's totals.
"""

from __future__ import annotations

import math

from sim.engine.meter import UNATTRIBUTED, OwnerTotals
from sim.facility.cluster import IDLE_OWNER
from sim.units import G_PER_KG, J_PER_KWH

KINDS = ("training", "inference", "idle", "unattributed")


def workload_split(owners: dict[str, OwnerTotals], jobs: list[str], services: list[str]) -> dict:
    """summary.json's `split`: facility and IT energy [kWh] and carbon [kg] per kind of owner, and their sum."""
    kind_of = {**{name: "training" for name in jobs}, **{name: "inference" for name in services},
               IDLE_OWNER: "idle", UNATTRIBUTED: "unattributed"}
    parts: dict[str, list[OwnerTotals]] = {kind: [] for kind in KINDS}
    for owner, totals in owners.items():
        parts[kind_of.get(owner, "unattributed")].append(totals)
    split = {
        kind: {
            "facility_energy_kwh": math.fsum(t.facility_energy_j for t in group) / J_PER_KWH,
            "it_energy_kwh": math.fsum(t.it_energy_j for t in group) / J_PER_KWH,
            "carbon_kg": math.fsum(t.carbon_g for t in group) / G_PER_KG,
        }
        for kind, group in parts.items()
    }
    split["total_facility_energy_kwh"] = math.fsum(split[k]["facility_energy_kwh"] for k in KINDS)
    split["total_carbon_kg"] = math.fsum(split[k]["carbon_kg"] for k in KINDS)
    split["rule"] = ("facility energy = training + inference + idle + unattributed; each owner's IT energy plus its "
                     "share of the overhead, and the carbon of that energy hour by hour (sim/output/split.py)")
    return split
