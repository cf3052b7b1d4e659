"""Time series inputs (grid signals, weather): piecewise-constant series anchored in UTC."""

from sim.timeseries.series import StepSeries

__all__ = ["StepSeries"]
