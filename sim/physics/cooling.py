"""Cooling plant physics: facility power and on-site water as a function of IT power and the outdoor weather.

Pure functions and frozen parameter sets; `facility_power(spec, it_power_w, dry_bulb_c, wet_bulb_c)` evaluates one
plant at one operating point (floats) or many (numpy arrays, elementwise), and `annual_summary` integrates a year
of weather. PUE is an output, hour by hour.

Heat path modelled (all heat ends outdoors, so the breakdown closes an energy balance):

1. The power chain (`sim.physics.power_distribution`) turns utility power into IT power; its UPS and PDU losses
   are heat inside the building.
2. Cold plates (direct-to-chip liquid cooling) take `liquid_heat_fraction` of the IT heat into a warm-water loop;
   the rest, plus the electrical losses, is carried by room air.
3. Room air moves through CRAH fans (or fan walls): airflow proportional to the heat at a fixed air temperature
   rise, fan power by the fan affinity (cube) law. The fan work is heat in the air stream.
4. An **airside economiser** (outdoor air, keyed on the dry bulb) removes all of the air heat while the outdoor air
   is at or below the supply-air temperature, a share while it is between supply and return temperature, none
   above; it is locked out above a wet-bulb (humidity) limit. The rest goes to chilled-water coils.
5. A **waterside economiser** (plate heat exchanger from the heat-rejection loop, keyed on the wet bulb for cooling
   towers and on the dry bulb for dry coolers) pre-cools the returning water; the remainder is lifted by
   **electric chillers** (EnergyPlus Chiller:Electric model), whose COP falls as the condenser gets hotter.
6. Heat rejection: **open cooling towers** (condenser water = wet bulb + approach; evaporation, drift, blow-down)
   or **dry coolers** with air-cooled chillers (no water).

Constants that come from the world cite their source next to them; parameters marked "assumed" say why.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Callable, Literal, Mapping
from types import MappingProxyType

import numpy as np

from sim.physics.power_distribution import LossCurve, PowerChainSpec, power_chain_losses_w
from sim.physics.psychrometrics import PERCENT_PER_FRACTION, STANDARD_SEA_LEVEL_PRESSURE_PA, wet_bulb_from_dew_point_c
from sim.units import J_PER_KWH

# ---------------------------------------------------------------------------------------------------------
# Properties of water and air
# ---------------------------------------------------------------------------------------------------------

# Liquid water at 25 C, 0.1 MPa (NIST Chemistry WebBook, fluid properties of water, IAPWS-95 formulation).
WATER_DENSITY_KG_PER_M3 = 997.05
WATER_DENSITY_KG_PER_L = 0.99705
WATER_SPECIFIC_HEAT_J_PER_KG_K = 4181.3
# Enthalpy of vaporisation of water at 30 C, a typical cooling-tower water temperature: 2429.8 kJ/kg
# (IAPWS-IF97 steam tables, e.g. Cengel & Boles, Thermodynamics, Table A-4).
LATENT_HEAT_OF_VAPORISATION_J_PER_KG = 2.4298e6
# Dry air: c_p = 1.006 kJ/(kg K) (ASHRAE Handbook - Fundamentals 2017, ch. 1, eq. 32); density of standard air
# 1.204 kg/m^3 at 20 C and 101.325 kPa (ASHRAE Fundamentals, ch. 1 Table 2 / "standard air").
AIR_SPECIFIC_HEAT_J_PER_KG_K = 1006.0
AIR_DENSITY_KG_PER_M3 = 1.204


def airflow_m3_per_s(heat_w, air_temperature_rise_k: float):
    """Volume flow of air [m^3/s] that carries `heat_w` [W] with a temperature rise [K]: V = Q / (rho c_p dT).

    Example: 100 kW at 12 K -> 100e3 / (1.204 * 1006 * 12) = 6.88 m^3/s.
    """
    return np.asarray(heat_w, dtype=float) / (AIR_DENSITY_KG_PER_M3 * AIR_SPECIFIC_HEAT_J_PER_KG_K * air_temperature_rise_k)


def water_flow_m3_per_s(heat_w, water_temperature_difference_k: float):
    """Volume flow of water [m^3/s] carrying `heat_w` [W] across a temperature difference [K]: Q / (rho c_p dT)."""
    return np.asarray(heat_w, dtype=float) / (
        WATER_DENSITY_KG_PER_M3 * WATER_SPECIFIC_HEAT_J_PER_KG_K * water_temperature_difference_k)


# ---------------------------------------------------------------------------------------------------------
# Fans and pumps
# ---------------------------------------------------------------------------------------------------------


def fan_power_w(airflow_m3_per_s_, design_airflow_m3_per_s: float, design_pressure_pa: float, fan_efficiency: float):
    """Fan electric power [W] by the fan affinity laws.

    At design: P_d = dp_d V_d / eta (air power over total fan + motor efficiency). On a fixed system curve the
    pressure scales with the square of the flow, so P = P_d (V / V_d)^3 (fan laws, ASHRAE Handbook - HVAC
    Systems and Equipment, ch. 21 "Fans"). Example: V_d = 10 m^3/s, 250 Pa, eta 0.65 -> P_d = 3846 W; at half
    flow P = 481 W.
    """
    design_w = design_pressure_pa * design_airflow_m3_per_s / fan_efficiency
    ratio = np.asarray(airflow_m3_per_s_, dtype=float) / design_airflow_m3_per_s
    return design_w * ratio**3


def pump_power_w(heat_w, water_temperature_difference_k: float, head_pa: float, pump_efficiency: float):
    """Pump electric power [W] moving the water that carries `heat_w` [W] across dT [K] against `head_pa` [Pa].

    P = dp V / eta with V = Q / (rho c_p dT): variable-speed pumps on a loop held at a constant differential
    pressure (the EnergyPlus Pump:VariableSpeed example plants use a 300 kPa head and 0.87 motor efficiency,
    testfiles/AirCooledElectricChiller.idf). Example: 1 MW at 10 K, 300 kPa, eta 0.87 -> V = 0.02399 m^3/s,
    P = 8.27 kW.
    """
    return head_pa * water_flow_m3_per_s(heat_w, water_temperature_difference_k) / pump_efficiency


# ---------------------------------------------------------------------------------------------------------
# Chillers: EnergyPlus Chiller:Electric (the BLAST-derived model)
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ElectricChillerCurves:
    """Performance curves of the EnergyPlus `Chiller:Electric` object.

    EnergyPlus src/EnergyPlus/PlantChillers.cc, ElectricChillerSpecs::calculate:
        dT   = (T_cond_in - T_cond_in_design) / temperature_rise_coefficient - (T_chw_out - T_chw_out_design)
        r    = a0 + a1 dT + a2 dT^2                     available capacity / nominal capacity
        PR   = b0 + b1 r + b2 r^2                       full-load power at available capacity / nominal
        PLR  = max(min_plr, load / (r Q_nom))
        FFLP = c0 + c1 PLR + c2 PLR^2                   fraction of full-load power at this part load
        P    = FFLP PR (r Q_nom) / COP_ref  x  min(1, (load / r Q_nom) / min_plr)   (cycling below min PLR)
    The condenser inlet is the outdoor dry bulb for an air-cooled condenser and the condenser water (tower
    outlet) for a water-cooled one. SustainDC (HewlettPackard/dc-rl, envs/datacenter.py, calculate_chiller_power)
    cites the same model but transcribes it differently, and is not followed here: its dT subtracts
    (6.67 - 35) instead of (T_chw_out - T_chw_out_design), its capacity quadratic has +0.00185 where EnergyPlus
    has -0.00185486, and it pairs the water-cooled capacity curve with the air-cooled power curve; with those,
    capacity grows with the outdoor temperature above about -3 C.
    """

    name: str
    reference_cop: float
    design_condenser_inlet_c: float
    temperature_rise_coefficient: float
    design_chilled_water_outlet_c: float
    capacity_ratio_coefficients: tuple[float, float, float]
    power_ratio_coefficients: tuple[float, float, float]
    full_load_ratio_coefficients: tuple[float, float, float]
    min_part_load_ratio: float
    source: str


# Air-cooled Chiller:Electric of EnergyPlus testfiles/AirCooledElectricChiller.idf (reference COP 2.58, design
# condenser inlet 35 C, temperature-rise coefficient 2.778, design chilled-water outlet 6.67 C, curves below).
# Minimum PLR 0.15 as in the air-cooled chillers of EnergyPlus tst/EnergyPlus/unit/PlantChillers.unit.cc (the idf
# uses 0.05); 0.15 keeps the modelled power monotonic in condenser temperature at light load.
AIR_COOLED_CHILLER_LEGACY = ElectricChillerCurves(
    name="air-cooled, EnergyPlus AirCooledElectricChiller.idf",
    reference_cop=2.58,
    design_condenser_inlet_c=35.0,
    temperature_rise_coefficient=2.778,
    design_chilled_water_outlet_c=6.67,
    capacity_ratio_coefficients=(0.9949, -0.045954, -0.0013543),
    power_ratio_coefficients=(2.333, -1.975, 0.6121),
    full_load_ratio_coefficients=(0.03303, 0.6852, 0.2818),
    min_part_load_ratio=0.15,
    source="EnergyPlus testfiles/AirCooledElectricChiller.idf (Chiller:Electric 'Big Chiller')",
)
# The same air-cooled curves with the 3.5 reference COP of the air-cooled heat-recovery chiller in EnergyPlus
# tst/EnergyPlus/unit/PlantChillers.unit.cc: a current air-cooled machine.
AIR_COOLED_CHILLER = replace(
    AIR_COOLED_CHILLER_LEGACY,
    name="air-cooled, EnergyPlus PlantChillers unit test",
    reference_cop=3.5,
    source="EnergyPlus tst/EnergyPlus/unit/PlantChillers.unit.cc (air-cooled Chiller:Electric, COP 3.5)",
)
# Water-cooled Chiller:Electric of EnergyPlus tst/EnergyPlus/unit/ChillerElectric.unit.cc ("Big Chiller":
# reference COP 4.75, design condenser inlet 29.44 C, temperature-rise coefficient 2.682759, design chilled-water
# outlet 6.667 C, minimum PLR 0.15).
WATER_COOLED_CHILLER = ElectricChillerCurves(
    name="water-cooled, EnergyPlus ChillerElectric unit test",
    reference_cop=4.75,
    design_condenser_inlet_c=29.44,
    temperature_rise_coefficient=2.682759,
    design_chilled_water_outlet_c=6.667,
    capacity_ratio_coefficients=(0.94483600, -0.05700880, -0.00185486),
    power_ratio_coefficients=(1.907846, -1.20498700, 0.26346230),
    full_load_ratio_coefficients=(0.03303, 0.6852, 0.2818),
    min_part_load_ratio=0.15,
    source="EnergyPlus tst/EnergyPlus/unit/ChillerElectric.unit.cc (water-cooled Chiller:Electric)",
)

# Capacity ratio below which the curves are not used (a guard far outside any condition met here; assumed).
_MIN_CAPACITY_RATIO = 0.1


def chiller_capacity_ratio(curves: ElectricChillerCurves, condenser_inlet_c, chilled_water_outlet_c):
    """Available / nominal capacity [-] of the EnergyPlus electric chiller (see `ElectricChillerCurves`).

    The capacity quadratic is used on its monotonic branch only: below its vertex (very cold condenser or very warm
    chilled water, where the fitted parabola would turn down) the capacity is held at the vertex value. EnergyPlus
    does not bound it ("model should have bounds on DeltaTemp", PlantChillers.cc); holding it is assumed, so that
    a colder condenser never costs power.
    """
    a0, a1, a2 = curves.capacity_ratio_coefficients
    delta_k = (np.asarray(condenser_inlet_c, dtype=float) - curves.design_condenser_inlet_c) / curves.temperature_rise_coefficient \
        - (np.asarray(chilled_water_outlet_c, dtype=float) - curves.design_chilled_water_outlet_c)
    if a2 < 0.0:
        delta_k = np.maximum(delta_k, -a1 / (2.0 * a2))
    return np.maximum(a0 + a1 * delta_k + a2 * delta_k * delta_k, _MIN_CAPACITY_RATIO)


def chiller_power_w(curves: ElectricChillerCurves, nominal_capacity_w: float, load_w, condenser_inlet_c,
                    chilled_water_outlet_c):
    """Electric power [W] of a chiller removing `load_w` [W] (EnergyPlus Chiller:Electric, see the class).

    A load above the available capacity is served at the full-load-fraction curve extrapolated past PLR 1 (the
    plant's standby units take it at the same efficiency; assumed, so that no heat goes unremoved).
    Example (air-cooled legacy curves, 1 MW nominal, 500 kW load, 35 C condenser, 6.67 C water): r = 0.9949,
    PR = 0.9737, PLR = 0.5026, FFLP = 0.4486, P = 0.4486 * 0.9737 * 994.9 kW / 2.58 = 168.4 kW (COP 2.97).
    """
    load = np.asarray(load_w, dtype=float)
    if np.any(load < 0.0):
        raise ValueError("chiller load must be >= 0 W")
    ratio = chiller_capacity_ratio(curves, condenser_inlet_c, chilled_water_outlet_c)
    b0, b1, b2 = curves.power_ratio_coefficients
    c0, c1, c2 = curves.full_load_ratio_coefficients
    available_w = nominal_capacity_w * ratio
    full_power_ratio = b0 + b1 * ratio + b2 * ratio * ratio
    plr = load / available_w
    plr_curve = np.maximum(plr, curves.min_part_load_ratio)
    fraction_full_load_power = c0 + c1 * plr_curve + c2 * plr_curve * plr_curve
    cycling = np.minimum(1.0, plr / curves.min_part_load_ratio)
    return fraction_full_load_power * full_power_ratio * available_w / curves.reference_cop * cycling


# ---------------------------------------------------------------------------------------------------------
# Economisers
# ---------------------------------------------------------------------------------------------------------


def economiser_fraction(source_c, full_below_c: float, none_above_c: float):
    """Share [0..1] of a load removed without compressors, linear between two changeover temperatures.

    1 when the free source (outdoor air, or water from the towers / dry coolers after the heat exchanger) is at
    or below the supply temperature `full_below_c`; 0 at or above the return temperature `none_above_c`; in
    between it pre-cools the return stream from `none_above_c` down to the source temperature, i.e. the share
    (none_above - source) / (none_above - full_below) of the load (integrated economiser, ASHRAE 90.1-2016
    section 6.5.1.3 "integrated economizer control": economiser and mechanical cooling run together).
    """
    if not none_above_c > full_below_c:
        raise ValueError("economiser: the no-free-cooling temperature must exceed the full-free-cooling one")
    share = (none_above_c - np.asarray(source_c, dtype=float)) / (none_above_c - full_below_c)
    return np.clip(share, 0.0, 1.0)


def airside_economiser_fraction(dry_bulb_c, wet_bulb_c, supply_air_c: float, return_air_c: float,
                                max_wet_bulb_c: float):
    """Share [0..1] of the air-side heat removed by outdoor air, keyed on the outdoor **dry bulb**.

    `economiser_fraction(dry_bulb, supply_air, return_air)`, and 0 when the outdoor wet bulb exceeds
    `max_wet_bulb_c`: the humidity high limit, expressed on the wet bulb (nearly the air's enthalpy, as in the
    fixed-enthalpy high-limit controls of ASHRAE 90.1 Table 6.5.1.1.3). A wet-bulb limit also bounds the dew point
    (dew point <= wet bulb). Outdoor-air humidification and dehumidification are not modelled.
    """
    share = economiser_fraction(dry_bulb_c, supply_air_c, return_air_c)
    return np.where(np.asarray(wet_bulb_c, dtype=float) > max_wet_bulb_c, 0.0, share)


# ---------------------------------------------------------------------------------------------------------
# Heat rejection and water
# ---------------------------------------------------------------------------------------------------------

# ASHRAE 90.1 Appendix G (G3.1.3.11): the baseline heat-rejection device is an axial-fan open cooling tower of
# 38.2 gpm/hp at the Table 6.8.1-7 rating conditions (95 F water in, 85 F out, 75 F wet bulb; range 10 F).
# 1 gpm over 10 F carries 500 Btu/h/F x 10 F = 5000 Btu/h = 1465.4 W; 1 hp = 745.7 W; so the fan draws
# 745.7 / (38.2 x 1465.4) = 0.01332 W per W of heat rejected at design.
TOWER_FAN_W_PER_W_DESIGN = 0.01332
# Rating approach of that tower: 85 F leaving water at 75 F wet bulb = 10 F = 5.56 K.
TOWER_DESIGN_APPROACH_K = 5.56
# Rating range of the condenser water: 95 F - 85 F = 10 F = 5.56 K.
CONDENSER_WATER_RANGE_K = 5.56
# Minimum entering condenser-water temperature of EnergyPlus electric chillers: 55 F = 12.78 C (TConEntMin of
# the EnergyPlus Chillers.idf chiller records, as tabulated in the Modelica Buildings library
# Buildings.Fluid.Chillers.Data.ElectricEIR).
MIN_CONDENSER_WATER_C = 12.78


def tower_fan_power_w(heat_rejected_w, design_heat_rejected_w: float, fan_w_per_w_design: float = TOWER_FAN_W_PER_W_DESIGN):
    """Cooling-tower fan power [W]: variable-speed fans, airflow in proportion to the heat rejected, cube law.

    P = f_d Q_d min(Q / Q_d, 1)^3 (fan laws; the form SustainDC uses for its tower fan), with f_d = 0.01332 W/W
    from ASHRAE 90.1 Appendix G's 38.2 gpm/hp baseline tower. Example: Q_d = 10 MW, Q = 5 MW -> 16.7 kW.
    """
    ratio = np.minimum(np.asarray(heat_rejected_w, dtype=float) / design_heat_rejected_w, 1.0)
    return fan_w_per_w_design * design_heat_rejected_w * ratio**3


def evaporated_fraction_of_heat(dry_bulb_c):
    """Share [-] of the heat a wet cooling tower rejects by evaporation (the rest leaves as sensible heat).

    f = 1 - (-0.000279 T^3 + 0.00109 T^2 - 0.345 T + 26.7) / 100, T the air dry bulb [C]: the sensible share of
    Diehl et al. (2013), "Methods for estimating water consumption for thermoelectric power plants in the United
    States", USGS Scientific Investigations Report 2013-5188 (as implemented in UKAEA PROCESS, water_use.py).
    Examples: 0 C -> 0.733, 20 C -> 0.820, 30 C -> 0.902. Above ~38 C hot air heats the water and f exceeds 1.
    """
    t = np.asarray(dry_bulb_c, dtype=float)
    sensible_pct = -0.000279 * t**3 + 0.00109 * t**2 - 0.345 * t + 26.7
    return np.maximum(1.0 - sensible_pct / PERCENT_PER_FRACTION, 0.0)


def cooling_tower_water_l_per_s(heat_rejected_w, dry_bulb_c, cycles_of_concentration: float,
                                drift_fraction: float, condenser_water_range_k: float = CONDENSER_WATER_RANGE_K):
    """Make-up water [L/s] of an open cooling tower rejecting `heat_rejected_w` [W].

    evaporation E = f_evap(T_db) Q / h_fg                       (latent share, Diehl et al. 2013; h_fg at 30 C)
    drift D = drift_fraction x circulating water, circulating = Q / (c_p range)
    blow-down B = E / (C - 1) - D  (>= 0)                       (cycles of concentration C: dissolved solids
                                                                 balance, make-up = E C / (C - 1))
    make-up M = E + D + B
    (SPX Cooling Technologies, "Cooling Tower Fundamentals", 2nd ed., ch. on water treatment; the same balance
    as SustainDC's cycles_of_concentration and drift_rate.) Example: 1 MW at 20 C, C = 5, no drift ->
    E = 0.82 x 1e6 / 2.4298e6 = 0.3375 kg/s, M = E C / (C - 1) = 0.4218 kg/s = 0.4231 L/s.
    """
    if cycles_of_concentration <= 1.0:
        raise ValueError("cycles of concentration must be > 1")
    q = np.asarray(heat_rejected_w, dtype=float)
    evaporation_kg_s = evaporated_fraction_of_heat(dry_bulb_c) * q / LATENT_HEAT_OF_VAPORISATION_J_PER_KG
    circulating_kg_s = q / (WATER_SPECIFIC_HEAT_J_PER_KG_K * condenser_water_range_k)
    drift_kg_s = drift_fraction * circulating_kg_s
    blowdown_kg_s = np.maximum(evaporation_kg_s / (cycles_of_concentration - 1.0) - drift_kg_s, 0.0)
    return (evaporation_kg_s + drift_kg_s + blowdown_kg_s) / WATER_DENSITY_KG_PER_L


# ---------------------------------------------------------------------------------------------------------
# Plant specification
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AirPath:
    """Room-air cooling: CRAH units or fan walls between the hot and cold aisles."""

    supply_air_c: float                 # [C] air delivered to the IT inlets
    return_air_c: float                 # [C] hot-aisle air back to the coils
    fan_pressure_pa: float              # [Pa] total pressure rise of the fans at design airflow
    fan_efficiency: float               # [-] fan + motor + drive, air power / electric power
    variable_speed: bool                # False: fans run at design airflow whatever the load
    airside_economiser: bool            # outdoor-air economiser (keyed on dry bulb)
    economiser_max_wet_bulb_c: float    # [C] outdoor wet bulb above which the economiser is locked out

    @property
    def air_temperature_rise_k(self) -> float:
        return self.return_air_c - self.supply_air_c


@dataclass(frozen=True)
class WaterLoop:
    """A water loop with its supply/return temperatures, pump, and optional waterside economiser."""

    supply_c: float                     # [C] water to the coils / cold plates (chiller leaving temperature)
    return_c: float                     # [C] water back from them
    pump_head_pa: float                 # [Pa] loop differential pressure
    pump_efficiency: float              # [-]
    waterside_economiser: bool          # plate heat exchanger from the heat-rejection loop
    hx_approach_k: float                # [K] heat-exchanger (or CDU) approach

    @property
    def delta_t_k(self) -> float:
        return self.return_c - self.supply_c


@dataclass(frozen=True)
class HeatRejection:
    """Cooling towers (wet; water-cooled chillers) or dry coolers (no water; air-cooled chillers)."""

    kind: Literal["cooling_tower", "dry_cooler"]
    approach_k: float                   # [K] tower: leaving water - wet bulb; dry cooler: leaving water - dry bulb
    condenser_pump_head_pa: float       # [Pa] condenser-water (or dry-cooler glycol) loop
    condenser_pump_efficiency: float    # [-]
    condenser_delta_t_k: float          # [K] range of that loop
    min_condenser_water_c: float        # [C] lowest condenser water the chillers accept (towers)
    tower_fan_w_per_w_design: float     # [W/W] tower fan power per W rejected at design
    dry_cooler_fan_pressure_pa: float   # [Pa] dry-cooler fan pressure at design airflow
    dry_cooler_fan_efficiency: float    # [-]
    dry_cooler_air_rise_k: float        # [K] air temperature rise through the dry cooler coil
    cycles_of_concentration: float      # [-] tower water chemistry
    drift_fraction: float               # [-] drift as a share of the circulating water

    @property
    def uses_water(self) -> bool:
        return self.kind == "cooling_tower"


@dataclass(frozen=True)
class CoolingPlantSpec:
    """A data-center cooling plant and power chain, sized for `design_it_power_w` [W]."""

    name: str
    design_it_power_w: float
    liquid_heat_fraction: float         # [-] share of the IT heat taken by cold plates (0: all air)
    air: AirPath
    chilled_water: WaterLoop            # serves the air coils
    liquid: WaterLoop | None            # the cold-plate loop (facility side of the CDUs), if any
    rejection: HeatRejection
    chiller: ElectricChillerCurves
    chiller_sizing_factor: float        # [-] installed chiller capacity / design load
    power: PowerChainSpec
    notes: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        if self.design_it_power_w <= 0.0:
            raise ValueError("design IT power must be > 0 W")
        if not 0.0 <= self.liquid_heat_fraction <= 1.0:
            raise ValueError("liquid heat fraction must be in [0, 1]")
        if self.liquid_heat_fraction > 0.0 and self.liquid is None:
            raise ValueError("a liquid heat fraction needs a liquid loop")
        if self.air.air_temperature_rise_k <= 0.0 or self.chilled_water.delta_t_k <= 0.0:
            raise ValueError("return temperatures must exceed supply temperatures")
        if self.liquid is not None and self.liquid.delta_t_k <= 0.0:
            raise ValueError("liquid loop return must exceed its supply")


@dataclass(frozen=True)
class _DesignPoint:
    air_heat_w: float
    airflow_m3_per_s: float
    air_load_w: float
    liquid_heat_w: float
    chilled_water_chiller_w: float      # nominal capacity of the chillers on the chilled-water loop
    liquid_chiller_w: float             # nominal capacity of the trim chillers on the liquid loop
    heat_rejected_w: float              # towers: design heat incl. compressor power; dry coolers: free heat


def design_point(spec: CoolingPlantSpec) -> _DesignPoint:
    """Sizing at design IT power: airflow, chiller capacities and heat-rejection capacity."""
    it_w = spec.design_it_power_w
    ups_w, pdu_w = power_chain_losses_w(spec.power, it_w)
    air_heat_w = (1.0 - spec.liquid_heat_fraction) * it_w + ups_w + pdu_w
    airflow = float(airflow_m3_per_s(air_heat_w, spec.air.air_temperature_rise_k))
    fan_w = spec.air.fan_pressure_pa * airflow / spec.air.fan_efficiency
    air_load_w = air_heat_w + fan_w
    liquid_heat_w = spec.liquid_heat_fraction * it_w
    total_w = air_load_w + liquid_heat_w
    if spec.rejection.uses_water:
        rejected_w = total_w * (1.0 + 1.0 / spec.chiller.reference_cop)
    else:
        rejected_w = total_w
    return _DesignPoint(air_heat_w, airflow, air_load_w, liquid_heat_w,
                        spec.chiller_sizing_factor * air_load_w, spec.chiller_sizing_factor * liquid_heat_w,
                        rejected_w)


# ---------------------------------------------------------------------------------------------------------
# Evaluation
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FacilityPowerBreakdown:
    """Power [W] of every non-IT consumer, on-site water [L/s] and the heat flows out of the site [W].

    Fields are floats for scalar inputs, arrays for array inputs. Energy balance: everything drawn from the grid
    ends outdoors, facility_w = heat_exhausted_w + heat_rejected_w + misc_w.
    """

    it_power_w: object
    chiller_w: object                   # compressors (and, for air-cooled chillers, their condenser fans)
    crah_fan_w: object                  # room-air fans
    cdu_pump_w: object                  # cold-plate loop pumps (liquid cooling)
    pump_w: object                      # chilled-water and condenser-water (or dry-cooler loop) pumps
    tower_fan_w: object
    dry_cooler_fan_w: object
    ups_loss_w: object
    pdu_loss_w: object
    misc_w: object
    water_l_per_s: object               # cooling-tower make-up water
    economiser_fraction: object         # share of the heat removed without compressors [-]
    heat_exhausted_w: object            # heat leaving with economiser exhaust air
    heat_rejected_w: object             # heat leaving through towers, dry coolers and chiller condensers

    @property
    def cooling_w(self):
        return (self.chiller_w + self.crah_fan_w + self.cdu_pump_w + self.pump_w + self.tower_fan_w
                + self.dry_cooler_fan_w)

    @property
    def power_loss_w(self):
        return self.ups_loss_w + self.pdu_loss_w

    @property
    def facility_w(self):
        return self.it_power_w + self.cooling_w + self.power_loss_w + self.misc_w

    def pue(self, it_power_w=None):
        """Power usage effectiveness [-] = facility power / IT power (IT power must be > 0)."""
        it = np.asarray(self.it_power_w if it_power_w is None else it_power_w, dtype=float)
        if np.any(it <= 0.0):
            raise ValueError("PUE needs an IT power > 0 W")
        facility = it + np.asarray(self.cooling_w) + np.asarray(self.power_loss_w) + np.asarray(self.misc_w)
        out = facility / it
        return float(out) if out.ndim == 0 else out


def facility_power(spec: CoolingPlantSpec, it_power_w, dry_bulb_c, wet_bulb_c) -> FacilityPowerBreakdown:
    """Facility power breakdown [W] and on-site water [L/s] at IT power [W] and outdoor dry / wet bulb [C].

    Inputs broadcast (floats or numpy arrays). The heat path and its sources are in the module docstring; in
    short, with q the heat of each stream:
      air heat     = (1 - f_liq) P_it + P_ups_loss + P_pdu_loss;  fans: cube law on airflow = heat / (rho c_p dT)
      outdoor air  : economiser_fraction(T_db, supply, return) of (air heat + fan heat), 0 above the wet-bulb limit
      chilled water: the rest (+ pump work); waterside economiser on T_cold = T_wb + approach (towers) or
                     T_db + approach (dry coolers), through the heat exchanger; chillers lift the remainder
      liquid loop  : f_liq P_it (+ CDU pump work); the same economiser at the warm loop temperatures
      chillers     : EnergyPlus Chiller:Electric at condenser T_wb + approach (>= 12.78 C) or T_db (air-cooled)
      rejection    : towers take all water-side heat + compressor + pump work (fans: cube law; make-up water);
                     dry coolers take the free-cooled heat (fans: cube law), air-cooled chillers the rest
    """
    it_w = np.asarray(it_power_w, dtype=float)
    db_c = np.asarray(dry_bulb_c, dtype=float)
    wb_c = np.asarray(wet_bulb_c, dtype=float)
    if np.any(it_w < 0.0):
        raise ValueError("IT power must be >= 0 W")
    if np.any(wb_c > db_c + 1e-9):
        raise ValueError("wet bulb above dry bulb")
    scalar = it_w.ndim == 0 and db_c.ndim == 0 and wb_c.ndim == 0
    it_w, db_c, wb_c = np.broadcast_arrays(it_w, db_c, wb_c)
    design = design_point(spec)
    air, chw, rej = spec.air, spec.chilled_water, spec.rejection

    ups_w, pdu_w = power_chain_losses_w(spec.power, it_w)
    ups_w, pdu_w = np.asarray(ups_w), np.asarray(pdu_w)

    # Room air.
    air_heat_w = (1.0 - spec.liquid_heat_fraction) * it_w + ups_w + pdu_w
    if air.variable_speed:
        airflow = airflow_m3_per_s(air_heat_w, air.air_temperature_rise_k)
    else:
        airflow = np.full(it_w.shape, design.airflow_m3_per_s)
    crah_fan_w = fan_power_w(airflow, design.airflow_m3_per_s, air.fan_pressure_pa, air.fan_efficiency)
    air_load_w = air_heat_w + crah_fan_w
    if air.airside_economiser:
        outdoor_air_share = airside_economiser_fraction(db_c, wb_c, air.supply_air_c, air.return_air_c,
                                                        air.economiser_max_wet_bulb_c)
    else:
        outdoor_air_share = np.zeros(it_w.shape)
    heat_exhausted_w = outdoor_air_share * air_load_w
    coil_load_w = air_load_w - heat_exhausted_w

    # Water temperature the heat rejection can make, and the chillers' condenser inlet.
    if rej.kind == "cooling_tower":
        cold_water_c = wb_c + rej.approach_k
        condenser_inlet_c = np.maximum(cold_water_c, rej.min_condenser_water_c)
    else:
        cold_water_c = db_c + rej.approach_k
        condenser_inlet_c = db_c

    def water_side(loop: WaterLoop, heat_w, nominal_chiller_w, pump_w):
        load_w = heat_w + pump_w
        if loop.waterside_economiser:
            free_share = economiser_fraction(cold_water_c + loop.hx_approach_k, loop.supply_c, loop.return_c)
        else:
            free_share = np.zeros(it_w.shape)
        free_w = free_share * load_w
        mech_w = load_w - free_w
        if nominal_chiller_w > 0.0:
            compressor_w = chiller_power_w(spec.chiller, nominal_chiller_w, mech_w, condenser_inlet_c, loop.supply_c)
        else:
            compressor_w = np.zeros(it_w.shape)
        return free_w, mech_w, compressor_w

    chw_pump_w = pump_power_w(coil_load_w, chw.delta_t_k, chw.pump_head_pa, chw.pump_efficiency)
    chw_free_w, chw_mech_w, chw_chiller_w = water_side(chw, coil_load_w, design.chilled_water_chiller_w, chw_pump_w)

    liquid_heat_w = spec.liquid_heat_fraction * it_w
    if spec.liquid is not None and spec.liquid_heat_fraction > 0.0:
        cdu_pump_w = pump_power_w(liquid_heat_w, spec.liquid.delta_t_k, spec.liquid.pump_head_pa,
                                  spec.liquid.pump_efficiency)
        liq_free_w, liq_mech_w, liq_chiller_w = water_side(spec.liquid, liquid_heat_w, design.liquid_chiller_w,
                                                           cdu_pump_w)
    else:
        cdu_pump_w = liq_free_w = liq_mech_w = liq_chiller_w = np.zeros(it_w.shape)

    chiller_w = chw_chiller_w + liq_chiller_w
    free_w = chw_free_w + liq_free_w
    mech_w = chw_mech_w + liq_mech_w
    zeros = np.zeros(it_w.shape)
    if rej.kind == "cooling_tower":
        condenser_heat_w = free_w + mech_w + chiller_w
        condenser_pump_w = pump_power_w(condenser_heat_w, rej.condenser_delta_t_k, rej.condenser_pump_head_pa,
                                        rej.condenser_pump_efficiency)
        tower_heat_w = condenser_heat_w + condenser_pump_w
        tower_fan_w = tower_fan_power_w(tower_heat_w, design.heat_rejected_w, rej.tower_fan_w_per_w_design)
        dry_cooler_fan_w = zeros
        water_l_per_s = cooling_tower_water_l_per_s(tower_heat_w, db_c, rej.cycles_of_concentration,
                                                    rej.drift_fraction, rej.condenser_delta_t_k)
        heat_rejected_w = tower_heat_w + tower_fan_w
    else:
        condenser_pump_w = pump_power_w(free_w, rej.condenser_delta_t_k, rej.condenser_pump_head_pa,
                                        rej.condenser_pump_efficiency)
        dry_cooler_heat_w = free_w + condenser_pump_w
        design_flow = float(airflow_m3_per_s(design.heat_rejected_w, rej.dry_cooler_air_rise_k))
        flow = np.minimum(airflow_m3_per_s(dry_cooler_heat_w, rej.dry_cooler_air_rise_k), design_flow)
        dry_cooler_fan_w = fan_power_w(flow, design_flow, rej.dry_cooler_fan_pressure_pa, rej.dry_cooler_fan_efficiency)
        tower_fan_w = zeros
        water_l_per_s = zeros
        # Air-cooled chillers reject the heat they lift plus their compressor power at their own condensers.
        heat_rejected_w = dry_cooler_heat_w + dry_cooler_fan_w + mech_w + chiller_w

    total_heat_w = heat_exhausted_w + coil_load_w + chw_pump_w + liquid_heat_w + cdu_pump_w
    compressor_free_w = heat_exhausted_w + free_w
    economiser_share = np.clip(
        np.divide(compressor_free_w, total_heat_w, out=np.ones(it_w.shape), where=total_heat_w > 0.0), 0.0, 1.0)

    misc_w = np.full(it_w.shape, spec.power.misc_power_w)
    values = dict(
        it_power_w=it_w, chiller_w=chiller_w, crah_fan_w=crah_fan_w, cdu_pump_w=cdu_pump_w,
        pump_w=chw_pump_w + condenser_pump_w, tower_fan_w=tower_fan_w, dry_cooler_fan_w=dry_cooler_fan_w,
        ups_loss_w=ups_w, pdu_loss_w=pdu_w, misc_w=misc_w, water_l_per_s=water_l_per_s,
        economiser_fraction=economiser_share, heat_exhausted_w=heat_exhausted_w, heat_rejected_w=heat_rejected_w,
    )
    if scalar:
        values = {k: float(v) for k, v in values.items()}
    else:
        values = {k: np.asarray(v, dtype=float) for k, v in values.items()}
    return FacilityPowerBreakdown(**values)


# ---------------------------------------------------------------------------------------------------------
# Fast scalar evaluation (the engine's path)
# ---------------------------------------------------------------------------------------------------------

# Order of the values `ScalarPlant.power` returns.
SCALAR_POWER_FIELDS = ("chiller_w", "crah_fan_w", "cdu_pump_w", "pump_w", "tower_fan_w", "dry_cooler_fan_w",
                       "ups_loss_w", "pdu_loss_w", "misc_w", "water_l_per_s")


class ScalarPlant:
    """`facility_power` split in two for the engine, which asks for one operating point at a time.

    The terms that only the weather fixes (economiser shares, the chillers' available-capacity and full-load power
    ratios at the condenser temperature, the evaporated share of the tower heat) are computed for many weather
    steps at once by `weather_terms` (numpy, the same functions as `facility_power`); `power` then evaluates the
    IT-dependent rest for one IT power in plain float arithmetic (a few microseconds, against about half a
    millisecond for a scalar call of the numpy code). Same equations, same order as `facility_power`; the tests
    check that both agree to rounding on every preset and variant.
    """

    __slots__ = ("spec", "design", "_c")

    def __init__(self, spec: CoolingPlantSpec):
        self.spec = spec
        self.design = design = design_point(spec)
        air, chw, liq, rej, pw, ch = spec.air, spec.chilled_water, spec.liquid, spec.rejection, spec.power, spec.chiller

        def pump_w_per_w(loop_head_pa: float, efficiency: float, delta_t_k: float) -> float:
            return loop_head_pa / (WATER_DENSITY_KG_PER_M3 * WATER_SPECIFIC_HEAT_J_PER_KG_K * delta_t_k) / efficiency

        design_fan_w = air.fan_pressure_pa * design.airflow_m3_per_s / air.fan_efficiency
        dry_design_flow = float(airflow_m3_per_s(design.heat_rejected_w, rej.dry_cooler_air_rise_k))
        self._c = (
            pw.pdu_rated_power_w, pw.pdu.no_load_fraction, pw.pdu.proportional_fraction, pw.pdu.square_law_fraction,
            pw.ups_rated_power_w, pw.ups.no_load_fraction, pw.ups.proportional_fraction, pw.ups.square_law_fraction,
            spec.liquid_heat_fraction, air.variable_speed,
            AIR_DENSITY_KG_PER_M3 * AIR_SPECIFIC_HEAT_J_PER_KG_K * air.air_temperature_rise_k,
            design.airflow_m3_per_s, design_fan_w,
            pump_w_per_w(chw.pump_head_pa, chw.pump_efficiency, chw.delta_t_k),
            pump_w_per_w(liq.pump_head_pa, liq.pump_efficiency, liq.delta_t_k) if liq is not None else 0.0,
            liq is not None and spec.liquid_heat_fraction > 0.0,
            design.chilled_water_chiller_w, design.liquid_chiller_w,
            *ch.full_load_ratio_coefficients, ch.min_part_load_ratio, ch.reference_cop,
            rej.kind == "cooling_tower",
            pump_w_per_w(rej.condenser_pump_head_pa, rej.condenser_pump_efficiency, rej.condenser_delta_t_k),
            design.heat_rejected_w, rej.tower_fan_w_per_w_design,
            LATENT_HEAT_OF_VAPORISATION_J_PER_KG, WATER_SPECIFIC_HEAT_J_PER_KG_K * rej.condenser_delta_t_k,
            rej.drift_fraction, rej.cycles_of_concentration, WATER_DENSITY_KG_PER_L,
            AIR_DENSITY_KG_PER_M3 * AIR_SPECIFIC_HEAT_J_PER_KG_K * rej.dry_cooler_air_rise_k, dry_design_flow,
            rej.dry_cooler_fan_pressure_pa * dry_design_flow / rej.dry_cooler_fan_efficiency,
            pw.misc_power_w,
        )

    def weather_terms(self, dry_bulb_c, wet_bulb_c) -> list[tuple[float, ...]]:
        """One tuple of weather-only terms per step (arrays of dry and wet bulb [C], wet <= dry)."""
        spec, air, chw, liq, rej = self.spec, self.spec.air, self.spec.chilled_water, self.spec.liquid, self.spec.rejection
        db_c = np.atleast_1d(np.asarray(dry_bulb_c, dtype=float))
        wb_c = np.atleast_1d(np.asarray(wet_bulb_c, dtype=float))
        if np.any(wb_c > db_c + 1e-9):
            raise ValueError("wet bulb above dry bulb")
        zeros = np.zeros(db_c.shape)
        if air.airside_economiser:
            outdoor_air = airside_economiser_fraction(db_c, wb_c, air.supply_air_c, air.return_air_c,
                                                      air.economiser_max_wet_bulb_c)
        else:
            outdoor_air = zeros
        if rej.kind == "cooling_tower":
            cold_water_c = wb_c + rej.approach_k
            condenser_inlet_c = np.maximum(cold_water_c, rej.min_condenser_water_c)
        else:
            cold_water_c = db_c + rej.approach_k
            condenser_inlet_c = db_c

        def loop_terms(loop: WaterLoop | None):
            if loop is None:
                return zeros, zeros, zeros
            free = (economiser_fraction(cold_water_c + loop.hx_approach_k, loop.supply_c, loop.return_c)
                    if loop.waterside_economiser else zeros)
            ratio = chiller_capacity_ratio(spec.chiller, condenser_inlet_c, loop.supply_c)
            b0, b1, b2 = spec.chiller.power_ratio_coefficients
            return free, ratio, b0 + b1 * ratio + b2 * ratio * ratio

        chw_free, chw_ratio, chw_power_ratio = loop_terms(chw)
        liq_free, liq_ratio, liq_power_ratio = loop_terms(liq)
        evaporated = evaporated_fraction_of_heat(db_c) if rej.kind == "cooling_tower" else zeros
        columns = [np.broadcast_to(x, db_c.shape).tolist() for x in (
            outdoor_air, chw_free, chw_ratio, chw_power_ratio, liq_free, liq_ratio, liq_power_ratio, evaporated)]
        return list(zip(*columns))

    def power(self, it_power_w: float, terms: tuple[float, ...]) -> tuple[float, ...]:
        """Power [W] of each consumer and make-up water [L/s] at IT power [W], in `SCALAR_POWER_FIELDS` order."""
        (pdu_r, pdu0, pdu1, pdu2, ups_r, ups0, ups1, ups2, f_liq, variable_speed, air_w_per_m3_s, design_flow,
         design_fan_w, chw_pump_k, cdu_pump_k, has_liquid, chw_nominal_w, liq_nominal_w, c0, c1, c2, min_plr, cop,
         towers, cond_pump_k, design_rejected_w, tower_fan_k, h_fg, circulating_j_per_kg, drift, cycles, rho_l,
         dry_w_per_m3_s, dry_design_flow, dry_design_fan_w, misc_w) = self._c
        oa_share, chw_free, chw_ratio, chw_pr, liq_free, liq_ratio, liq_pr, evaporated = terms
        it_w = float(it_power_w)
        if it_w < 0.0:
            raise ValueError("IT power must be >= 0 W")
        x = it_w / pdu_r
        pdu_w = pdu_r * (pdu0 + pdu1 * x + pdu2 * x * x)
        y = (it_w + pdu_w) / ups_r
        ups_w = ups_r * (ups0 + ups1 * y + ups2 * y * y)
        air_heat_w = (1.0 - f_liq) * it_w + ups_w + pdu_w
        if variable_speed:
            ratio = air_heat_w / air_w_per_m3_s / design_flow
            crah_fan_w = design_fan_w * ratio * ratio * ratio
        else:
            crah_fan_w = design_fan_w
        air_load_w = air_heat_w + crah_fan_w
        heat_exhausted_w = oa_share * air_load_w
        coil_w = air_load_w - heat_exhausted_w

        # Chillers (EnergyPlus Chiller:Electric, as `chiller_power_w`), written out for each loop: a nested
        # function would cost more than the arithmetic.
        chw_pump_w = coil_w * chw_pump_k
        load_w = coil_w + chw_pump_w
        free_w = chw_free * load_w
        mech_w = load_w - free_w
        chiller_w = 0.0
        if chw_nominal_w > 0.0:
            available_w = chw_nominal_w * chw_ratio
            plr = mech_w / available_w
            plr_curve = plr if plr > min_plr else min_plr
            cycling = 1.0 if plr >= min_plr else plr / min_plr
            chiller_w = (c0 + c1 * plr_curve + c2 * plr_curve * plr_curve) * chw_pr * available_w / cop * cycling
        if has_liquid:
            liquid_w = f_liq * it_w
            cdu_pump_w = liquid_w * cdu_pump_k
            load_w = liquid_w + cdu_pump_w
            liq_free_w = liq_free * load_w
            liq_mech_w = load_w - liq_free_w
            if liq_nominal_w > 0.0:
                available_w = liq_nominal_w * liq_ratio
                plr = liq_mech_w / available_w
                plr_curve = plr if plr > min_plr else min_plr
                cycling = 1.0 if plr >= min_plr else plr / min_plr
                chiller_w += (c0 + c1 * plr_curve + c2 * plr_curve * plr_curve) * liq_pr * available_w / cop * cycling
            free_w += liq_free_w
            mech_w += liq_mech_w
        else:
            cdu_pump_w = 0.0
        if towers:
            condenser_heat_w = free_w + mech_w + chiller_w
            condenser_pump_w = condenser_heat_w * cond_pump_k
            tower_heat_w = condenser_heat_w + condenser_pump_w
            ratio = tower_heat_w / design_rejected_w
            if ratio > 1.0:
                ratio = 1.0
            tower_fan_w = tower_fan_k * design_rejected_w * ratio * ratio * ratio
            evaporation_kg_s = evaporated * tower_heat_w / h_fg
            drift_kg_s = drift * (tower_heat_w / circulating_j_per_kg)
            blowdown_kg_s = evaporation_kg_s / (cycles - 1.0) - drift_kg_s
            if blowdown_kg_s < 0.0:
                blowdown_kg_s = 0.0
            water_l_per_s = (evaporation_kg_s + drift_kg_s + blowdown_kg_s) / rho_l
            dry_fan_w = 0.0
        else:
            condenser_pump_w = free_w * cond_pump_k
            flow = (free_w + condenser_pump_w) / dry_w_per_m3_s
            ratio = (flow if flow < dry_design_flow else dry_design_flow) / dry_design_flow
            dry_fan_w = dry_design_fan_w * ratio * ratio * ratio
            tower_fan_w = 0.0
            water_l_per_s = 0.0
        return (chiller_w, crah_fan_w, cdu_pump_w, chw_pump_w + condenser_pump_w, tower_fan_w, dry_fan_w,
                ups_w, pdu_w, misc_w, water_l_per_s)

    def power_many(self, it_power_w, terms) -> tuple[np.ndarray, ...]:
        """`power` at many operating points at once: arrays of IT power [W] and one row of weather terms per
        point (shape (n, 8)). The same operations in the same order as `power`, element by element (numpy's
        float64 arithmetic rounds as Python's does), so each element equals what `power` gives, bit for bit;
        the meter uses it to evaluate a long run of hourly weather steps in one call (`Meter._plan_draws`)."""
        (pdu_r, pdu0, pdu1, pdu2, ups_r, ups0, ups1, ups2, f_liq, variable_speed, air_w_per_m3_s, design_flow,
         design_fan_w, chw_pump_k, cdu_pump_k, has_liquid, chw_nominal_w, liq_nominal_w, c0, c1, c2, min_plr, cop,
         towers, cond_pump_k, design_rejected_w, tower_fan_k, h_fg, circulating_j_per_kg, drift, cycles, rho_l,
         dry_w_per_m3_s, dry_design_flow, dry_design_fan_w, misc_w) = self._c
        oa_share, chw_free, chw_ratio, chw_pr, liq_free, liq_ratio, liq_pr, evaporated = np.asarray(terms, float).T
        it_w = np.asarray(it_power_w, dtype=float)
        if np.any(it_w < 0.0):
            raise ValueError("IT power must be >= 0 W")
        zeros = np.zeros(it_w.shape)

        def chiller(mech_w, nominal_w, capacity_ratio, power_ratio):
            available_w = nominal_w * capacity_ratio
            plr = mech_w / available_w
            plr_curve = np.where(plr > min_plr, plr, min_plr)
            cycling = np.where(plr >= min_plr, 1.0, plr / min_plr)
            return (c0 + c1 * plr_curve + c2 * plr_curve * plr_curve) * power_ratio * available_w / cop * cycling

        with np.errstate(divide="ignore", invalid="ignore"):  # like `power`, the caller checks the result is finite
            x = it_w / pdu_r
            pdu_w = pdu_r * (pdu0 + pdu1 * x + pdu2 * x * x)
            y = (it_w + pdu_w) / ups_r
            ups_w = ups_r * (ups0 + ups1 * y + ups2 * y * y)
            air_heat_w = (1.0 - f_liq) * it_w + ups_w + pdu_w
            if variable_speed:
                ratio = air_heat_w / air_w_per_m3_s / design_flow
                crah_fan_w = design_fan_w * ratio * ratio * ratio
            else:
                crah_fan_w = zeros + design_fan_w
            air_load_w = air_heat_w + crah_fan_w
            heat_exhausted_w = oa_share * air_load_w
            coil_w = air_load_w - heat_exhausted_w
            chw_pump_w = coil_w * chw_pump_k
            load_w = coil_w + chw_pump_w
            free_w = chw_free * load_w
            mech_w = load_w - free_w
            chiller_w = chiller(mech_w, chw_nominal_w, chw_ratio, chw_pr) if chw_nominal_w > 0.0 else zeros
            if has_liquid:
                liquid_w = f_liq * it_w
                cdu_pump_w = liquid_w * cdu_pump_k
                load_w = liquid_w + cdu_pump_w
                liq_free_w = liq_free * load_w
                liq_mech_w = load_w - liq_free_w
                if liq_nominal_w > 0.0:
                    chiller_w = chiller_w + chiller(liq_mech_w, liq_nominal_w, liq_ratio, liq_pr)
                free_w = free_w + liq_free_w
                mech_w = mech_w + liq_mech_w
            else:
                cdu_pump_w = zeros
            if towers:
                condenser_heat_w = free_w + mech_w + chiller_w
                condenser_pump_w = condenser_heat_w * cond_pump_k
                tower_heat_w = condenser_heat_w + condenser_pump_w
                ratio = tower_heat_w / design_rejected_w
                ratio = np.where(ratio > 1.0, 1.0, ratio)
                tower_fan_w = tower_fan_k * design_rejected_w * ratio * ratio * ratio
                evaporation_kg_s = evaporated * tower_heat_w / h_fg
                drift_kg_s = drift * (tower_heat_w / circulating_j_per_kg)
                blowdown_kg_s = evaporation_kg_s / (cycles - 1.0) - drift_kg_s
                blowdown_kg_s = np.where(blowdown_kg_s < 0.0, 0.0, blowdown_kg_s)
                water_l_per_s = (evaporation_kg_s + drift_kg_s + blowdown_kg_s) / rho_l
                dry_fan_w = zeros
            else:
                condenser_pump_w = free_w * cond_pump_k
                flow = (free_w + condenser_pump_w) / dry_w_per_m3_s
                ratio = np.where(flow < dry_design_flow, flow, dry_design_flow) / dry_design_flow
                dry_fan_w = dry_design_fan_w * ratio * ratio * ratio
                tower_fan_w = zeros
                water_l_per_s = zeros
        return (chiller_w, crah_fan_w, cdu_pump_w, chw_pump_w + condenser_pump_w, tower_fan_w, dry_fan_w,
                ups_w, pdu_w, zeros + misc_w, water_l_per_s)


@dataclass(frozen=True)
class FacilitySummary:
    """Energy and water totals of a plant over a period of weather at a given IT power."""

    it_energy_j: float
    facility_energy_j: float
    cooling_energy_j: float
    power_loss_energy_j: float
    misc_energy_j: float
    water_l: float
    economiser_fraction: float          # heat-weighted over the period [-]

    @property
    def pue(self) -> float:
        """Energy-weighted PUE [-] = facility energy / IT energy (The Green Grid definition of annual PUE)."""
        return self.facility_energy_j / self.it_energy_j

    @property
    def wue_l_per_kwh(self) -> float:
        """On-site water usage effectiveness [L/kWh of IT energy] (The Green Grid WUE, site water only)."""
        return self.water_l / (self.it_energy_j / J_PER_KWH)


def annual_summary(spec: CoolingPlantSpec, it_power_w, durations_s, dry_bulb_c, wet_bulb_c) -> FacilitySummary:
    """Integrate `facility_power` over steps of the given durations [s] (e.g. a year of hourly weather).

    Vectorised: one call evaluates every step. Energy [J] = power [W] x duration [s] summed over steps.
    """
    durations = np.asarray(durations_s, dtype=float)
    b = facility_power(spec, np.broadcast_to(np.asarray(it_power_w, dtype=float), durations.shape), dry_bulb_c,
                       wet_bulb_c)
    it_j = float(np.sum(b.it_power_w * durations))
    if it_j <= 0.0:
        raise ValueError("annual summary needs IT energy > 0")
    total_heat = b.heat_exhausted_w + b.heat_rejected_w
    return FacilitySummary(
        it_energy_j=it_j,
        facility_energy_j=float(np.sum(b.facility_w * durations)),
        cooling_energy_j=float(np.sum(b.cooling_w * durations)),
        power_loss_energy_j=float(np.sum(b.power_loss_w * durations)),
        misc_energy_j=float(np.sum(b.misc_w * durations)),
        water_l=float(np.sum(b.water_l_per_s * durations)),
        economiser_fraction=float(np.sum(b.economiser_fraction * total_heat * durations)
                                  / np.sum(total_heat * durations)),
    )


# ---------------------------------------------------------------------------------------------------------
# Presets
# ---------------------------------------------------------------------------------------------------------

# Cycles of concentration of tower water: 5, SustainDC's default (HewlettPackard/dc-rl envs/datacenter.py, after
# Sharma et al. 2009, "Water efficiency management in datacenters", IEEE ISSST).
CYCLES_OF_CONCENTRATION = 5.0
# Drift with modern drift eliminators: 0.001 % of the circulating water (assumed; manufacturers quote
# 0.0005-0.005 %, and the term is small next to evaporation and blow-down).
DRIFT_FRACTION = 1e-5


def _tower(approach_k: float = TOWER_DESIGN_APPROACH_K) -> HeatRejection:
    return HeatRejection(
        kind="cooling_tower", approach_k=approach_k,
        condenser_pump_head_pa=300e3, condenser_pump_efficiency=0.87,   # EnergyPlus example pump (see pump_power_w)
        condenser_delta_t_k=CONDENSER_WATER_RANGE_K, min_condenser_water_c=MIN_CONDENSER_WATER_C,
        tower_fan_w_per_w_design=TOWER_FAN_W_PER_W_DESIGN,
        dry_cooler_fan_pressure_pa=0.0, dry_cooler_fan_efficiency=1.0, dry_cooler_air_rise_k=1.0,
        cycles_of_concentration=CYCLES_OF_CONCENTRATION, drift_fraction=DRIFT_FRACTION)


def _dry_cooler() -> HeatRejection:
    # Dry cooler: 5 K approach to the dry bulb, 150 Pa coil + fan pressure, 0.6 fan efficiency, 10 K air rise
    # (assumed typical finned-coil values; they give 2.1 % fan power per W at design).
    return HeatRejection(
        kind="dry_cooler", approach_k=5.0,
        condenser_pump_head_pa=300e3, condenser_pump_efficiency=0.87,
        condenser_delta_t_k=CONDENSER_WATER_RANGE_K, min_condenser_water_c=MIN_CONDENSER_WATER_C,
        tower_fan_w_per_w_design=0.0,
        dry_cooler_fan_pressure_pa=150.0, dry_cooler_fan_efficiency=0.6, dry_cooler_air_rise_k=10.0,
        cycles_of_concentration=CYCLES_OF_CONCENTRATION, drift_fraction=DRIFT_FRACTION)


# Power-chain loss curves (form: Rasmussen, APC WP 113). Coefficients assumed, chosen to land on commonly quoted
# efficiencies: a legacy double-conversion UPS at 94 % full load and ~91 % at the 40 % load a 2N system sees;
# a modern high-efficiency (eco-mode) UPS at ~98.5 %; PDU transformers at 98 % full load (REFERENCE: PDU 94-98 %,
# transformer losses 1-1.5 % at full load).
UPS_LEGACY_DOUBLE_CONVERSION = LossCurve(0.03, 0.02, 0.015, "assumed; WP113 form; 93.9 % at full load, 90.8 % at 40 %")
UPS_HIGH_EFFICIENCY = LossCurve(0.004, 0.006, 0.004, "assumed; WP113 form; 98.6 % at full load")
PDU_TRANSFORMER = LossCurve(0.005, 0.0, 0.015, "assumed; no-load + I^2R; 98.0 % at full load")
PDU_HIGH_EFFICIENCY = LossCurve(0.002, 0.0, 0.008, "assumed; no-load + I^2R; 99.0 % at full load")


# Wet bulb of 24 C supply air at a 17 C dew point, sea-level pressure (ASHRAE TC 9.9 class A1 allowable dew point).
HYPERSCALE_ECONOMISER_MAX_WET_BULB_C = float(np.round(wet_bulb_from_dew_point_c(24.0, 17.0, STANDARD_SEA_LEVEL_PRESSURE_PA), 1))


def hyperscale_air(design_it_power_w: float) -> CoolingPlantSpec:
    """Air-cooled hyperscale hall: outdoor-air economiser, water-cooled chillers on evaporative towers, 18 C water.

    Supply air 24 C / return 36 C (ASHRAE TC 9.9 recommended inlet range 18-27 C). Economiser high limit: the wet
    bulb of 24 C supply air at a 17 C dew point (17 C is the ASHRAE TC 9.9 class A1 allowable maximum dew point),
    19.3 C; above it the outdoor air is too humid (too much enthalpy) to use. Outdoor-air handlers at 400 Pa
    (filters, coil, dampers) and 0.65 fan efficiency (assumed; 4.1 % of IT at design airflow, 2.1 % at 80 % load
    by the cube law); chilled water 18/28 C for the coils
    in the hours the outdoor air cannot do it; N+1 chillers (sizing 1.25, assumed); eco-mode UPS at 1.25x design
    rating (N+1, assumed); misc (lighting, offices) 0.5 % of design (assumed).
    """
    return CoolingPlantSpec(
        name="hyperscale_air", design_it_power_w=design_it_power_w, liquid_heat_fraction=0.0,
        air=AirPath(supply_air_c=24.0, return_air_c=36.0, fan_pressure_pa=400.0, fan_efficiency=0.65,
                    variable_speed=True, airside_economiser=True,
                    economiser_max_wet_bulb_c=HYPERSCALE_ECONOMISER_MAX_WET_BULB_C),
        chilled_water=WaterLoop(supply_c=18.0, return_c=28.0, pump_head_pa=300e3, pump_efficiency=0.87,
                                waterside_economiser=True, hx_approach_k=1.5),
        liquid=None, rejection=_tower(), chiller=WATER_COOLED_CHILLER, chiller_sizing_factor=1.25,
        power=PowerChainSpec(UPS_HIGH_EFFICIENCY, PDU_HIGH_EFFICIENCY, 1.25 * design_it_power_w,
                             1.25 * design_it_power_w, 0.005 * design_it_power_w),
    )


def dry_cooled(design_it_power_w: float) -> CoolingPlantSpec:
    """`hyperscale_air` with dry heat rejection: air-cooled chillers and dry coolers, no water on site."""
    base = hyperscale_air(design_it_power_w)
    return CoolingPlantSpec(
        name="dry_cooled", design_it_power_w=design_it_power_w, liquid_heat_fraction=0.0, air=base.air,
        chilled_water=base.chilled_water, liquid=None, rejection=_dry_cooler(), chiller=AIR_COOLED_CHILLER,
        chiller_sizing_factor=base.chiller_sizing_factor, power=base.power,
    )


def legacy_air(design_it_power_w: float) -> CoolingPlantSpec:
    """Legacy enterprise room: no economiser, 7 C chilled water, air-cooled chillers, constant-speed CRACs, 2N UPS.

    Supply air 18 C / return 28 C; constant-speed fans at 500 Pa and 0.5 efficiency (assumed; 8.3 % of IT);
    chilled water 7/13 C (the EnergyPlus design leaving temperature is 6.67 C); air-cooled chillers with the
    EnergyPlus AirCooledElectricChiller.idf COP of 2.58; 2N double-conversion UPS (rated 2x design) and
    transformer PDUs; misc 2 % of design (assumed).
    """
    return CoolingPlantSpec(
        name="legacy_air", design_it_power_w=design_it_power_w, liquid_heat_fraction=0.0,
        air=AirPath(supply_air_c=18.0, return_air_c=28.0, fan_pressure_pa=500.0, fan_efficiency=0.5,
                    variable_speed=False, airside_economiser=False, economiser_max_wet_bulb_c=0.0),
        chilled_water=WaterLoop(supply_c=7.0, return_c=13.0, pump_head_pa=300e3, pump_efficiency=0.87,
                                waterside_economiser=False, hx_approach_k=1.5),
        liquid=None, rejection=_dry_cooler(), chiller=AIR_COOLED_CHILLER_LEGACY, chiller_sizing_factor=1.25,
        power=PowerChainSpec(UPS_LEGACY_DOUBLE_CONVERSION, PDU_TRANSFORMER, 2.0 * design_it_power_w,
                             1.25 * design_it_power_w, 0.02 * design_it_power_w),
    )


def liquid_dtc(design_it_power_w: float) -> CoolingPlantSpec:
    """Direct-to-chip liquid cooling on warm water, dry coolers, air-cooled trim chillers; no water on site.

    Cold plates take 80 % of the IT heat (assumed; cold plates cover CPUs/GPUs/memory, the rest is air-cooled);
    facility water 40/50 C (ASHRAE TC 9.9 liquid-cooling class W40: facility supply <= 40 C), so the cold plates
    see 43 C after a 3 K CDU approach; 150 kPa cold-plate loop (assumed). The dry coolers cool the loop for free
    while the dry bulb is below 32 C and partly up to 42 C. The residual air heat is handled as in `dry_cooled`.
    """
    base = dry_cooled(design_it_power_w)
    return CoolingPlantSpec(
        name="liquid_dtc", design_it_power_w=design_it_power_w, liquid_heat_fraction=0.8, air=base.air,
        chilled_water=base.chilled_water,
        liquid=WaterLoop(supply_c=40.0, return_c=50.0, pump_head_pa=150e3, pump_efficiency=0.87,
                         waterside_economiser=True, hx_approach_k=3.0),
        rejection=_dry_cooler(), chiller=AIR_COOLED_CHILLER, chiller_sizing_factor=base.chiller_sizing_factor,
        power=base.power,
    )


PRESETS: Mapping[str, Callable[[float], CoolingPlantSpec]] = MappingProxyType({
    "hyperscale_air": hyperscale_air,
    "legacy_air": legacy_air,
    "liquid_dtc": liquid_dtc,
    "dry_cooled": dry_cooled,
})


def preset(name: str, design_it_power_w: float) -> CoolingPlantSpec:
    """A named plant sized for `design_it_power_w` [W]; an unknown name lists the valid ones."""
    if name not in PRESETS:
        raise ValueError(f"unknown cooling plant preset {name!r}; expected one of {', '.join(sorted(PRESETS))}")
    return PRESETS[name](design_it_power_w)


# ---------------------------------------------------------------------------------------------------------
# Variants of a preset: cooling type, heat rejection, parameter overrides
# ---------------------------------------------------------------------------------------------------------

# The direct-to-chip loop of `liquid_dtc`, for any plant switched to liquid cooling (see that preset for sources).
DIRECT_TO_CHIP_HEAT_FRACTION = 0.8
DIRECT_TO_CHIP_LOOP = WaterLoop(supply_c=40.0, return_c=50.0, pump_head_pa=150e3, pump_efficiency=0.87,
                                waterside_economiser=True, hx_approach_k=3.0)


def with_cooling(spec: CoolingPlantSpec, cooling: Literal["air", "liquid"]) -> CoolingPlantSpec:
    """The plant with all-air cooling, or with the direct-to-chip loop of `liquid_dtc` (80 % of the IT heat on
    W40 warm water); unchanged when it already has that cooling type."""
    if cooling == "air":
        if spec.liquid is None and spec.liquid_heat_fraction == 0.0:
            return spec
        return replace(spec, name=f"{spec.name}, air-cooled", liquid=None, liquid_heat_fraction=0.0)
    if cooling == "liquid":
        if spec.liquid is not None and spec.liquid_heat_fraction > 0.0:
            return spec
        return replace(spec, name=f"{spec.name}, direct-to-chip liquid", liquid=DIRECT_TO_CHIP_LOOP,
                       liquid_heat_fraction=DIRECT_TO_CHIP_HEAT_FRACTION)
    raise ValueError(f"unknown cooling type {cooling!r}; expected 'air' or 'liquid'")


def with_heat_rejection(spec: CoolingPlantSpec, rejection: Literal["towers", "dry"]) -> CoolingPlantSpec:
    """The plant with open cooling towers and water-cooled chillers, or dry coolers and air-cooled chillers (an
    air-cooled chiller cannot sit on a tower loop, nor a water-cooled one on dry coolers). The legacy air-cooled
    curves are kept for dry rejection; towers always take the water-cooled `WATER_COOLED_CHILLER`."""
    if rejection == "towers":
        if spec.rejection.kind == "cooling_tower":
            return spec
        return replace(spec, name=f"{spec.name}, cooling towers", rejection=_tower(), chiller=WATER_COOLED_CHILLER)
    if rejection == "dry":
        if spec.rejection.kind == "dry_cooler":
            return spec
        return replace(spec, name=f"{spec.name}, dry coolers", rejection=_dry_cooler(), chiller=AIR_COOLED_CHILLER)
    raise ValueError(f"unknown heat rejection {rejection!r}; expected 'towers' or 'dry'")


def with_overrides(spec: CoolingPlantSpec, overrides: Mapping[str, object]) -> CoolingPlantSpec:
    """The plant with parameters replaced: keys are field names of `CoolingPlantSpec`; a nested parameter set
    (air, chilled_water, liquid, rejection, chiller, power and its ups / pdu curves) takes a mapping of its own
    field names. Raises ValueError naming the dotted path of an unknown field or an inconsistent result."""

    def apply(obj, changes: Mapping[str, object], where: str):
        names = {f.name for f in fields(obj)}
        updates = {}
        for key, value in changes.items():
            path = f"{where}{key}"
            if key not in names:
                raise ValueError(f"{path}: unknown plant parameter; expected one of {', '.join(sorted(names))}")
            current = getattr(obj, key)
            if isinstance(value, Mapping):
                if current is None:
                    raise ValueError(f"{path}: this plant has no {key} to change")
                updates[key] = apply(current, value, f"{path}.")
            else:
                updates[key] = tuple(value) if isinstance(current, tuple) else value
        return replace(obj, **updates) if updates else obj

    return apply(spec, overrides, "")
