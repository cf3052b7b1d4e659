"""The `fixed_pue` facility: facility power = IT power x PUE, for reproducing papers that state a PUE.

The overhead IT x (PUE - 1) is booked as cooling and power loss in a stated split. The default split,
cooling 0.8 / power distribution 0.2 of the overhead, is an assumption in the spirit of the usual
breakdown of data-center overhead (cooling dominates; UPS/PDU/transformer losses of a few per cent of IT
load, shared/REFERENCE.md "Power chain"); a scenario can state its own.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.engine.meter import FacilityDraw
from sim.units import J_PER_KWH

DEFAULT_COOLING_SHARE_OF_OVERHEAD = 0.8


@dataclass(frozen=True)
class FixedPue:
    pue: float
    cooling_share: float = DEFAULT_COOLING_SHARE_OF_OVERHEAD
    part_names: tuple[str, ...] = ()
    # On-site water per kWh of IT energy [L/kWh]: WUE as defined by The Green Grid (White Paper #35, 2011,
    # "Water Usage Effectiveness"): annual site water / IT energy. 0 unless the scenario states one.
    wue_l_per_kwh: float = 0.0
    weather_dependent = False  # the draw does not depend on the weather (the meter keeps it across steps)

    def __post_init__(self) -> None:
        if self.wue_l_per_kwh < 0.0:
            raise ValueError(f"WUE must be >= 0, got {self.wue_l_per_kwh}")
        if self.pue < 1.0:
            raise ValueError(f"PUE must be >= 1, got {self.pue}")
        if not 0.0 <= self.cooling_share <= 1.0:
            raise ValueError(f"cooling_share must lie in [0, 1], got {self.cooling_share}")

    def draw(self, it_power_w: float, weather: object | None = None) -> FacilityDraw:
        overhead_w = it_power_w * (self.pue - 1.0)
        cooling_w = overhead_w * self.cooling_share
        water_l_per_s = it_power_w * self.wue_l_per_kwh / J_PER_KWH
        return FacilityDraw(cooling_w=cooling_w, power_loss_w=overhead_w - cooling_w, water_l_per_s=water_l_per_s)

    def draw_table(self, it_power_w: np.ndarray, weather: object | None = None) -> tuple[np.ndarray, ...]:
        """`draw` at many IT heat loads [W] at once, as arrays (cooling, power loss, misc [W], water [L/s], parts
        [W, one column per part: none]): the same operations elementwise, so equal to `draw` bit for bit. The
        meter's compiled replay of a log of load changes asks for them (sim/engine/meter_kernel.py)."""
        overhead_w = it_power_w * (self.pue - 1.0)
        cooling_w = overhead_w * self.cooling_share
        water_l_per_s = it_power_w * self.wue_l_per_kwh / J_PER_KWH
        return (cooling_w, overhead_w - cooling_w, np.zeros_like(it_power_w), water_l_per_s,
                np.zeros((it_power_w.size, 0)))
