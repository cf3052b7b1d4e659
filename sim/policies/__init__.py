"""Decisions: one file per policy, found by its TOML name in a registry (routing/, ...)."""
