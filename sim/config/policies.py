"""[policies] and [compare]: which decision each kind of policy makes, with its parameters.

    [policies]
    scheduling = "easy_backfill"        # fifo | easy_backfill | sjf
    shifting = "carbon_forecast"        # run_now | carbon_threshold | carbon_forecast
    power = "static_cap"                # uncapped | static_cap | power_budget
    idle = "power_down"                 # always_on | power_down

    [policies.carbon_forecast]          # parameters of a policy, under its own name
    window = "24h"
    forecast_error = 0.1

The names are those of the registry (sim/policies/registry.py); an unknown name lists the valid ones.
Imported by sim/config/schema.py just before `Scenario` (it needs the schema's base types).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from sim.config.schema import DurationS, Number, StrictModel


def _known(kind: str, value: str) -> str:
    from sim.policies.registry import check_policy_name

    check_policy_name(kind, value)  # ValueError listing the valid names
    return value


class CarbonSignalChoice(StrictModel):
    """Which carbon signal a carbon-aware policy follows."""

    signal: Literal["average", "marginal"] = Field(
        "average", description="Follow the average ('average') or the marginal ('marginal') carbon intensity."
    )


class CarbonThresholdParams(CarbonSignalChoice):
    """[policies.carbon_threshold]: run deferrable jobs when the observed intensity is at or below a threshold
    (absolute, or a percentile of the forecast over the job's window); suspend interruptible ones above it."""

    threshold_g_per_kwh: Number | None = Field(
        None, ge=0, description="Absolute threshold [gCO2e/kWh]; default: the `percentile` of the forecast window."
    )
    percentile: Number = Field(25.0, ge=0, le=100, description="Percentile of the forecast over the window [%].")
    window: DurationS = Field(86_400.0, gt=0, description="How far ahead the forecast looks.")
    forecast_error: Number = Field(
        0.0, ge=0, description="Relative standard deviation of the forecast error, per hour (stream 'forecast')."
    )


class CarbonForecastParams(CarbonSignalChoice):
    """[policies.carbon_forecast]: start each deferrable job in the window of lowest forecast intensity within
    its slack (interruptible jobs: in the lowest-intensity hours, suspended in between)."""

    window: DurationS = Field(86_400.0, gt=0, description="How far ahead the forecast looks.")
    forecast_error: Number = Field(
        0.0, ge=0, description="Relative standard deviation of the forecast error, per hour (stream 'forecast')."
    )


class StaticCapParams(StrictModel):
    """[policies.static_cap]: every GPU capped at the same power."""

    gpu_cap_w: Number | None = Field(None, gt=0, description="Power cap per GPU [W].")
    gpu_cap_fraction_of_tdp: Number = Field(
        0.7, gt=0, le=1, description="Cap as a share of TDP, when `gpu_cap_w` is not given."
    )
    min_clock_ratio: Number = Field(0.5, gt=0, le=1, description="Lowest clock ratio a cap may impose.")


class PowerBudgetParams(StrictModel):
    """[policies.power_budget]: keep the cluster's IT power (GPUs and hosts, busy and idle) within a budget by
    one uniform GPU cap, re-set whenever a job starts, ends or is suspended; jobs that would break the budget
    even at the lowest clock wait."""

    budget_w: Number | None = Field(None, gt=0, description="IT power budget of the cluster (row) [W].")
    min_clock_ratio: Number = Field(0.5, gt=0, le=1, description="Lowest clock ratio a cap may impose.")


class PowerDownParams(StrictModel):
    """[policies.power_down]: idle nodes go to sleep after a while and wake up when jobs need them."""

    idle_before_sleep: DurationS = Field(600.0, description="Idle time before a node is put to sleep.")
    sleep_power_w_per_node: Number | None = Field(
        None, ge=0, description="Draw of a sleeping node [W] (default: 5% of its idle draw, assumed)."
    )
    wake: DurationS = Field(60.0, description="Wake-up delay (default 60 s: resume from S3, IP.com 2014).")
    wake_power_w_per_node: Number | None = Field(
        None, ge=0, description="Draw of a node while it wakes [W] (default: its idle draw, assumed)."
    )


class TargetUtilisationParams(StrictModel):
    """[policies.target_utilisation]: inference replicas follow load at a target utilisation."""

    metric: Literal["busy", "concurrency"] = Field(
        "busy", description="busy: the replicas' busy share (target in (0, 1]); concurrency: requests in flight "
        "per replica (target_concurrency)."
    )
    target_utilisation: Number = Field(0.7, gt=0, le=1, description="Target busy share (metric = 'busy').")
    target_concurrency: Number = Field(
        16.0, gt=0, description="Target requests in flight per replica (metric = 'concurrency'; Knative's default is 100)."
    )
    min_replicas: int = Field(1, ge=0, description="Fewest replicas the service scales down to.")
    max_replicas: int | None = Field(None, ge=1, description="Most replicas it scales up to (default: no upper limit).")
    warm_up: DurationS = Field(120.0, description="Time from the decision to a replica serving.")
    interval: DurationS = Field(60.0, gt=0, description="How often the autoscaler looks at the load.")
    scale_down_delay: DurationS = Field(
        300.0, description="Scale down only to the highest recommendation of this window (Kubernetes HPA: 5 min)."
    )

    @model_validator(mode="after")
    def _bounds(self) -> "TargetUtilisationParams":
        if self.max_replicas is not None and self.max_replicas < self.min_replicas:
            raise ValueError("max_replicas is below min_replicas")
        return self


class PoliciesSection(StrictModel):
    """[policies]: the policy of each kind, by registry name, and each policy's parameters."""

    scheduling: str = Field("fifo", description="Job scheduling: fifo, easy_backfill, sjf.")
    shifting: str = Field("run_now", description="Temporal shifting: run_now, carbon_threshold, carbon_forecast.")
    power: str = Field("uncapped", description="GPU power: uncapped, static_cap, power_budget.")
    idle: str = Field("always_on", description="Idle nodes: always_on, power_down.")
    autoscaling: str = Field("fixed", description="Inference replicas: fixed, target_utilisation.")
    routing: str | None = Field(
        None, description="Request router of every service (round_robin, join_shortest_queue, "
        "least_outstanding_tokens); default: each service's own `router`."
    )

    carbon_threshold: CarbonThresholdParams = Field(CarbonThresholdParams(), description="Parameters of shifting = 'carbon_threshold'.")
    carbon_forecast: CarbonForecastParams = Field(CarbonForecastParams(), description="Parameters of shifting = 'carbon_forecast'.")
    static_cap: StaticCapParams = Field(StaticCapParams(), description="Parameters of power = 'static_cap'.")
    power_budget: PowerBudgetParams = Field(PowerBudgetParams(), description="Parameters of power = 'power_budget'.")
    power_down: PowerDownParams = Field(PowerDownParams(), description="Parameters of idle = 'power_down'.")
    target_utilisation: TargetUtilisationParams = Field(
        TargetUtilisationParams(), description="Parameters of autoscaling = 'target_utilisation'."
    )

    @field_validator("scheduling", "shifting", "power", "idle", "autoscaling", "routing")
    @classmethod
    def _registered(cls, value: str | None, info) -> str | None:
        return value if value is None else _known(info.field_name, value)

    @model_validator(mode="after")
    def _required_parameters(self) -> "PoliciesSection":
        if self.power == "power_budget" and self.power_budget.budget_w is None:
            raise ValueError("power = 'power_budget' needs policies.power_budget.budget_w")
        return self


class CompareVariant(StrictModel):
    """[compare.variants.LABEL]: a row of the comparison: policies (NAME or NAME+NAME...) and overrides."""

    policies: str = Field(min_length=1, description="Policy names joined by '+', e.g. 'easy_backfill+static_cap'.")
    set: list[str] = Field(default_factory=list, description="Overrides KEY=VALUE applied to this row only.")


class CompareSection(StrictModel):
    """[compare]: the rows of `python -m sim compare`; the first is the baseline."""

    policies: list[str] = Field(
        min_length=1, description="Rows: policy names (NAME or NAME+NAME) or labels of [compare.variants]."
    )
    variants: dict[str, CompareVariant] = Field(
        default_factory=dict, description="Named rows with their own policies and overrides ([compare.variants.LABEL])."
    )
