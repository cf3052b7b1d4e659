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


def _overrides_model(cls: type) -> type[BaseModel]:
    """A pydantic model with one optional key per parameter of the frozen dataclass `cls`."""
    if cls in _MODELS:
        return _MODELS[cls]
    hints = typing.get_type_hints(cls)
    definitions = {}
    for f in dataclasses.fields(cls):
        if f.name in _NOT_OVERRIDABLE:
            continue
        definitions[f.name] = (Optional[_field_type(f.name, hints[f.name])], None)
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
