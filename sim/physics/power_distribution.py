"""Electrical losses between the utility feed and the IT equipment: UPS, PDU (transformer), plus a constant misc load.

Loss model (Rasmussen, "Electrical Efficiency Modeling for Data Centers", APC / Schneider Electric White Paper
113): the loss of each device is the sum of a **no-load** loss (present whenever it is energised: control boards,
magnetising current), a **proportional** loss (switching losses, growing with the power processed) and a
**square-law** loss (I^2 R heating, growing with the square of the current):

    P_loss = P_rated (k0 + k1 x + k2 x^2),   x = P_out / P_rated

The same quadratic with k1 = 0 is the textbook transformer model (no-load + load loss proportional to the square
of the load; e.g. pvlib.transformer.simple_efficiency). Because k0 is paid at any load, a lightly loaded UPS
(2N redundancy keeps each side below 50 %) is markedly less efficient than its full-load rating.

Functions accept floats or numpy arrays.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class LossCurve:
    """No-load, proportional and square-law loss coefficients, each a fraction of the device's rated power [-]."""

    no_load_fraction: float
    proportional_fraction: float
    square_law_fraction: float
    source: str = ""

    def __post_init__(self) -> None:
        for name in ("no_load_fraction", "proportional_fraction", "square_law_fraction"):
            if not 0.0 <= getattr(self, name) < 1.0:
                raise ValueError(f"{name} must be in [0, 1), got {getattr(self, name)}")


def device_loss_w(curve: LossCurve, output_power_w, rated_power_w: float):
    """Loss [W] of a UPS, PDU or transformer delivering `output_power_w` [W] with rating `rated_power_w` [W].

    P_loss = P_rated (k0 + k1 x + k2 x^2), x = P_out / P_rated (Rasmussen, APC WP 113).
    Example: k = (0.03, 0.03, 0.01), rated 2 MW, output 800 kW -> x = 0.4, loss = 2e6 (0.03 + 0.012 + 0.0016)
    = 87.2 kW, an efficiency of 800 / 887.2 = 90.2 %.
    """
    if rated_power_w <= 0.0:
        raise ValueError(f"rated power must be > 0 W, got {rated_power_w}")
    out_w = np.asarray(output_power_w, dtype=float)
    if np.any(out_w < 0.0):
        raise ValueError("output power must be >= 0 W")
    x = out_w / rated_power_w
    loss = rated_power_w * (curve.no_load_fraction + curve.proportional_fraction * x + curve.square_law_fraction * x * x)
    return float(loss) if np.ndim(output_power_w) == 0 else loss


def device_efficiency(curve: LossCurve, output_power_w, rated_power_w: float):
    """Efficiency [-] = P_out / (P_out + P_loss) of a device on `LossCurve` (0 at zero output)."""
    out_w = np.asarray(output_power_w, dtype=float)
    loss = np.asarray(device_loss_w(curve, out_w, rated_power_w))
    eff = out_w / (out_w + loss)
    return float(eff) if np.ndim(output_power_w) == 0 else eff


@dataclass(frozen=True)
class PowerChainSpec:
    """The IT power path: utility -> UPS -> PDU (transformer + distribution) -> IT, and a constant misc load.

    `ups_rated_power_w` is the installed UPS capacity carrying the IT load (2N: twice the design IT power, so
    each side runs at most half loaded); `pdu_rated_power_w` likewise for the PDUs. `misc_power_w` is the
    constant building load outside the IT path and the cooling plant (lighting, offices, security) [W].
    """

    ups: LossCurve
    pdu: LossCurve
    ups_rated_power_w: float
    pdu_rated_power_w: float
    misc_power_w: float

    def __post_init__(self) -> None:
        if self.ups_rated_power_w <= 0.0 or self.pdu_rated_power_w <= 0.0:
            raise ValueError("UPS and PDU ratings must be > 0 W")
        if self.misc_power_w < 0.0:
            raise ValueError("misc power must be >= 0 W")


def power_chain_losses_w(chain: PowerChainSpec, it_power_w):
    """(UPS loss [W], PDU loss [W]) when the IT equipment draws `it_power_w` [W].

    The PDU delivers the IT power; the UPS delivers the IT power plus the PDU loss:
        P_pdu_loss = loss_pdu(P_it),  P_ups_loss = loss_ups(P_it + P_pdu_loss).
    """
    pdu_loss_w = device_loss_w(chain.pdu, it_power_w, chain.pdu_rated_power_w)
    ups_loss_w = device_loss_w(chain.ups, np.asarray(it_power_w, dtype=float) + pdu_loss_w, chain.ups_rated_power_w)
    if np.ndim(it_power_w) == 0:
        return float(ups_loss_w), float(pdu_loss_w)
    return ups_loss_w, pdu_loss_w
