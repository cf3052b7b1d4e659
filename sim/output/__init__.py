"""Outputs: column definitions with units, the time-series recorder, Parquet files, the summary."""
