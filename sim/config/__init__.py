"""Scenario configuration: schema (typed, frozen) and loader (every error with its TOML path)."""

from sim.config.loader import load_scenario, validate_scenario
from sim.config.schema import Scenario

__all__ = ["Scenario", "load_scenario", "validate_scenario"]
