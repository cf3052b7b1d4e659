"""Every policy by its TOML name, grouped by kind, and the builder of a run's policy set.

Kinds: scheduling, shifting, power, idle, autoscaling, and routing (the request routers of the inference
services, sim/policies/routing/). A name is unique across kinds, so `python -m sim compare --policy NAME`
knows which kind it sets.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

KINDS = ("scheduling", "shifting", "power", "idle", "autoscaling", "routing")


def registry() -> dict[str, dict[str, type]]:
    """kind -> {name: policy class}."""
    from sim.policies import autoscaling, idle, power, routing, scheduling, shifting

    return {
        "scheduling": dict(scheduling.POLICIES),
        "shifting": dict(shifting.POLICIES),
        "power": dict(power.POLICIES),
        "idle": dict(idle.POLICIES),
        "autoscaling": dict(autoscaling.POLICIES),
        "routing": dict(routing.ROUTERS),
    }


def all_names() -> dict[str, str]:
    """name -> kind, for every registered policy."""
    names: dict[str, str] = {}
    for kind, policies in registry().items():
        for name in policies:
            if name in names:
                raise RuntimeError(f"policy name {name!r} is registered under both {names[name]} and {kind}")
            names[name] = kind
    return names


def check_policy_name(kind: str, name: str) -> None:
    """ValueError listing the valid names when `name` is not a `kind` policy."""
    valid = registry().get(kind)
    if valid is None:
        raise ValueError(f"unknown policy kind {kind!r}; expected one of: {', '.join(KINDS)}")
    if name not in valid:
        raise ValueError(f"unknown {kind} policy {name!r}; expected one of: {', '.join(sorted(valid))}")


def kind_of(name: str) -> str:
    """The kind of policy `name` (ValueError listing every valid name when unknown)."""
    names = all_names()
    if name not in names:
        listing = "; ".join(f"{kind}: {', '.join(sorted(p))}" for kind, p in registry().items())
        raise ValueError(f"unknown policy {name!r}; valid policies are {listing}")
    return names[name]


def policy_overrides(combo: str) -> list[str]:
    """`--set` overrides that select the policies of `combo` ('NAME' or 'NAME+NAME+...')."""
    overrides, kinds = [], {}
    for name in (part.strip() for part in combo.split("+")):
        if not name:
            raise ValueError(f"empty policy name in {combo!r}")
        kind = kind_of(name)
        if kind in kinds:
            raise ValueError(f"{combo!r} names two {kind} policies: {kinds[kind]} and {name}")
        kinds[kind] = name
        overrides.append(f"policies.{kind}={name!r}")
    return overrides


@dataclass
class PolicyContext:
    """What building the policies needs from the run: the carbon views and the hardware."""

    carbon_view: Callable[[str, float], object]  # (signal 'average'|'marginal', forecast_error) -> CarbonView
    gpu_tdp_w: float


@dataclass
class PolicySet:
    """The policies of one run, one per kind."""

    scheduling: object
    shifting: object
    power: object
    idle: object
    autoscaling: object
    names: dict[str, str]
    min_clock_ratio: float = 0.5
    autoscale_interval_s: float = 60.0
    autoscale_warm_up_s: float = 120.0

    def describe(self) -> dict[str, str]:
        return dict(self.names)


def build_policies(section, context: PolicyContext | None) -> PolicySet:
    """The policy objects a [policies] section asks for (`context` None: no carbon-aware policy allowed)."""
    reg = registry()
    names = {kind: getattr(section, kind) for kind in KINDS if getattr(section, kind) is not None}
    scheduling = reg["scheduling"][names["scheduling"]]()

    shifting_name = names["shifting"]
    if shifting_name == "run_now":
        shifting = reg["shifting"]["run_now"]()
    else:
        if context is None:
            raise ValueError(f"shifting policy {shifting_name!r} needs the grid's carbon signal")
        if shifting_name == "carbon_threshold":
            p = section.carbon_threshold
            shifting = reg["shifting"][shifting_name](
                context.carbon_view(p.signal, p.forecast_error), p.window, p.threshold_g_per_kwh, p.percentile
            )
        else:
            p = section.carbon_forecast
            shifting = reg["shifting"][shifting_name](context.carbon_view(p.signal, p.forecast_error), p.window)

    min_clock = 0.5
    power_name = names["power"]
    if power_name == "static_cap":
        p = section.static_cap
        if context is None and p.gpu_cap_w is None:
            raise ValueError("static_cap as a share of TDP needs the accelerator's TDP")
        cap_w = p.gpu_cap_w if p.gpu_cap_w is not None else p.gpu_cap_fraction_of_tdp * context.gpu_tdp_w
        power = reg["power"][power_name](cap_w)
        min_clock = p.min_clock_ratio
    elif power_name == "power_budget":
        p = section.power_budget
        power = reg["power"][power_name](p.budget_w if p.budget_w is not None else math.inf)
        min_clock = p.min_clock_ratio
    else:
        power = reg["power"][power_name]()

    idle_name = names["idle"]
    if idle_name == "power_down":
        p = section.power_down
        idle = reg["idle"][idle_name](p.idle_before_sleep, p.wake, p.sleep_power_w_per_node, p.wake_power_w_per_node)
    else:
        idle = reg["idle"][idle_name]()

    auto_name = names["autoscaling"]
    p = section.target_utilisation
    if auto_name == "target_utilisation":
        target = p.target_concurrency if p.metric == "concurrency" else p.target_utilisation
        autoscaling = reg["autoscaling"][auto_name](target, p.min_replicas, p.max_replicas, p.scale_down_delay,
                                                    p.metric)
    else:
        autoscaling = reg["autoscaling"][auto_name]()
    return PolicySet(scheduling, shifting, power, idle, autoscaling, names, min_clock,
                     autoscale_interval_s=p.interval, autoscale_warm_up_s=p.warm_up)
