"""The `[facility.plant]` and `[weather]` tables: cooling-plant parameter overrides and the outdoor weather.

`[facility.plant]` mirrors the frozen parameter sets of `sim.physics.cooling` (CoolingPlantSpec and the sets it
holds: air, chilled_water, liquid, rejection, chiller, power with its ups / pdu loss curves) key for key, so any
plant parameter can be overridden under its own name and every key is validated with its TOML path; the models
are generated from the dataclasses, so they cannot drift apart. Ranges are checked here by the parameter's unit
suffix (efficiencies in (0, 1], pressures and powers >= 0, ...); what involves several parameters (a return
temperature above its supply) is checked when the plant is built (`facility_cross_checks`).
"""

from __future__ import annotations

import dataclasses
import math
import typing
from typing import Annotated, Any, Literal, Optional

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, create_model

from sim.physics import cooling
from sim.timeseries.weather import CLIMATES


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _finite(value: float) -> float:
    if not math.isfinite(value):
        raise ValueError("expected a finite number")
    return value


# Names that are labels, not parameters, or that have their own key in [facility].
_NOT_OVERRIDABLE = {"name", "source", "notes", "design_it_power_w", "kind"}


def _bounds(name: str) -> dict:
    """Range of a parameter from its name (its unit suffix or its meaning)."""
    if name.endswith("_efficiency"):
        return {"gt": 0.0, "le": 1.0}
    if name in ("no_load_fraction", "proportional_fraction", "square_law_fraction", "drift_fraction"):
        return {"ge": 0.0, "lt": 1.0}
    if name == "liquid_heat_fraction":
        return {"ge": 0.0, "le": 1.0}
    if name == "min_part_load_ratio":
        return {"gt": 0.0, "le": 1.0}
    if name == "cycles_of_concentration":
        return {"gt": 1.0}
    if name in ("reference_cop", "temperature_rise_coefficient", "chiller_sizing_factor", "dry_cooler_air_rise_k",
                "condenser_delta_t_k", "ups_rated_power_w", "pdu_rated_power_w"):
        return {"gt": 0.0}
    if name.endswith(("_pa", "_w", "_w_per_w_design", "approach_k")):
        return {"ge": 0.0}
    return {}


def _field_type(name: str, annotation: Any) -> Any:
    if dataclasses.is_dataclass(annotation):
        return _overrides_model(annotation)
    args = typing.get_args(annotation)
    if annotation is bool:
        return bool
    if annotation is float:
        return Annotated[float, AfterValidator(_finite), Field(**_bounds(name))]
    if typing.get_origin(annotation) is tuple and all(a is float for a in args):
        return tuple[tuple(Annotated[float, AfterValidator(_finite)] for _ in args)]  # type: ignore[misc]
    inner = [a for a in args if a is not type(None)]
    if len(inner) == 1 and dataclasses.is_dataclass(inner[0]):  # `WaterLoop | None`
        return _overrides_model(inner[0])
    raise TypeError(f"no override type for plant parameter {name!r}: {annotation!r}")


_MODELS: dict[type, type[BaseModel]] = {}

# Meanings of the parameters whose dataclass line carries no comment (the others are read from it).
_DESCRIPTIONS = {
    "reference_cop": "COP_ref: cooling delivered / electric power at the reference conditions [-] (EnergyPlus Chiller:Electric).",
    "design_condenser_inlet_c": "Design condenser inlet temperature T_cond_in_design [C].",
    "temperature_rise_coefficient": "Divisor of the condenser-inlet rise in dT of the capacity curve [-].",
    "design_chilled_water_outlet_c": "Design chilled-water outlet temperature T_chw_out_design [C].",
    "capacity_ratio_coefficients": "a0, a1, a2: available / nominal capacity r = a0 + a1 dT + a2 dT^2.",
    "power_ratio_coefficients": "b0, b1, b2: full-load power ratio PR = b0 + b1 r + b2 r^2.",
    "full_load_ratio_coefficients": "c0, c1, c2: fraction of full-load power FFLP = c0 + c1 PLR + c2 PLR^2.",
    "min_part_load_ratio": "Part-load ratio below which the chiller cycles [-].",
    "no_load_fraction": "k0: loss at no load, as a fraction of the rated power [-] (P_loss = P_rated (k0 + k1 x + k2 x^2)).",
    "proportional_fraction": "k1: loss proportional to the load fraction x, as a fraction of the rated power [-].",
    "square_law_fraction": "k2: loss proportional to x^2, as a fraction of the rated power [-].",
    "ups": "UPS loss curve.",
    "pdu": "PDU (transformer and distribution) loss curve.",
    "ups_rated_power_w": "Installed UPS capacity carrying the IT load [W] (2N: twice the design IT power).",
    "pdu_rated_power_w": "Installed PDU capacity [W].",
    "misc_power_w": "Constant building load outside the IT path and the cooling plant (lighting, offices) [W].",
}


def _field_comments(cls: type) -> dict[str, str]:
    """`name: type  # comment` lines of a dataclass body: the comment, by field name."""
    import inspect
    import re

    try:
        source = inspect.getsource(cls)
    except (OSError, TypeError):
        return {}
    found = {}
    for line in source.splitlines():
        match = re.match(r"\s+(\w+):[^#=]*(?:=[^#]*)?#\s*(.+)$", line)
        if match:
            found[match.group(1)] = match.group(2).strip()
    return found


def _description(cls: type, name: str, annotation: Any) -> str:
    """What an override key means: the dataclass line's comment, a stated meaning, or the nested set's docstring."""
    if name in _DESCRIPTIONS:
        return _DESCRIPTIONS[name]
    comment = _field_comments(cls).get(name, "")
    text = comment
    if comment.startswith("["):  # "[C] air delivered ..." -> "air delivered ... [C]"
        unit, _, rest = comment[1:].partition("]")
        text = f"{rest.strip() or name.replace('_', ' ')} [{unit}]"
    nested = [a for a in (annotation, *typing.get_args(annotation)) if dataclasses.is_dataclass(a)]
    if nested and nested[0].__doc__:
        first = nested[0].__doc__.strip().splitlines()[0]
        text = f"{text[:1].upper()}{text[1:]}: {first}" if text else first
    return text[:1].upper() + text[1:] if text else ""


def _overrides_model(cls: type) -> type[BaseModel]:
    """A pydantic model with one optional key per parameter of the frozen dataclass `cls`."""
    if cls in _MODELS:
        return _MODELS[cls]
    hints = typing.get_type_hints(cls)
    definitions = {}
    for f in dataclasses.fields(cls):
        if f.name in _NOT_OVERRIDABLE:
            continue
        definitions[f.name] = (Optional[_field_type(f.name, hints[f.name])],
                               Field(None, description=_description(cls, f.name, hints[f.name]) or None))
    model = create_model(f"{cls.__name__}Overrides", __base__=_Strict, __doc__=f"Overrides of {cls.__name__}.",
                         **definitions)
    _MODELS[cls] = model
    return model


PlantOverrides = _overrides_model(cooling.CoolingPlantSpec)


def overrides_mapping(overrides: BaseModel | None) -> dict:
    """The keys a scenario gave, as nested plain mappings for `cooling.with_overrides`."""
    if overrides is None:
        return {}
    return overrides.model_dump(exclude_unset=True)


PresetName = Literal[tuple(sorted(cooling.PRESETS))]  # type: ignore[valid-type]
ClimateName = Literal[tuple(sorted(CLIMATES))]  # type: ignore[valid-type]


def plant_spec(preset: str, design_it_power_w: float, cooling_type: str | None, heat_rejection: str | None,
               overrides: BaseModel | None) -> cooling.CoolingPlantSpec:
    """The preset sized for the design IT power, switched to the cooling type and heat rejection if given, with
    the parameter overrides applied last. Raises ValueError on an inconsistent plant."""
    spec = cooling.preset(preset, design_it_power_w)
    if cooling_type is not None:
        spec = cooling.with_cooling(spec, cooling_type)
    if heat_rejection is not None:
        spec = cooling.with_heat_rejection(spec, heat_rejection)
    return cooling.with_overrides(spec, overrides_mapping(overrides))


def facility_cross_checks(scenario, where: str) -> list[str]:
    """Build the plant the scenario describes (it needs [cluster] for the default design power); report a plant
    whose parameters contradict each other with the TOML path of the table."""
    facility = scenario.facility
    if facility.model != "plant":
        return []
    try:
        plant_spec(facility.preset_name, facility.design_it_power_for(scenario.cluster), facility.cooling,
                   facility.heat_rejection, facility.plant)
    except ValueError as exc:
        text = str(exc)
        path = "facility.plant"
        head, sep, rest = text.partition(": ")
        if sep and " " not in head:
            path, text = f"facility.plant.{head}", rest
        if path == "facility.plant.liquid":
            text += "; set facility.cooling = 'liquid' for a direct-to-chip loop"
        return [f"{where}: {path}: {text}"]
    return []
