"""Validation against published figures: `python -m sim validate`.

The published table (scenarios/validation/published.toml) holds each case's published inputs and
outputs with their sources, and the checks to run; each case with checks has one scenario file beside
it, named after the case id. `run_validation` runs every scenario in memory and compares.
"""

from sim.validation.extract import EXTRACTORS, Extractor
from sim.validation.report import (
    ValidationReport,
    ValidationRow,
    format_markdown,
    format_text,
    run_validation,
)
from sim.validation.table import PUBLISHED_TABLE, Case, Check, PublishedOutput, Variant, load_table

__all__ = [
    "EXTRACTORS", "Extractor", "ValidationReport", "ValidationRow", "format_markdown", "format_text",
    "run_validation", "PUBLISHED_TABLE", "Case", "Check", "PublishedOutput", "Variant", "load_table",
]
