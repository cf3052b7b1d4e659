"""Durations in scenario files: a number of seconds, or a string with a unit ("90s", "15min", "1h", "14.8d")."""

from __future__ import annotations

import re

from sim.units import S_PER_DAY, S_PER_H, S_PER_MIN

_UNITS_S = {
    "s": 1.0, "sec": 1.0, "second": 1.0, "seconds": 1.0,
    "min": S_PER_MIN, "minute": S_PER_MIN, "minutes": S_PER_MIN,
    "h": S_PER_H, "hour": S_PER_H, "hours": S_PER_H,
    "d": S_PER_DAY, "day": S_PER_DAY, "days": S_PER_DAY,
    "w": 7 * S_PER_DAY, "week": 7 * S_PER_DAY, "weeks": 7 * S_PER_DAY,
}
_PATTERN = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*([a-zA-Z]+)\s*$")


def parse_duration_s(value: object) -> float:
    """Seconds in `value`: a number (seconds) or '<number><unit>' with unit in s, min, h, d, w."""
    if isinstance(value, bool):
        raise ValueError("expected a duration such as 3600, '1h' or '14.8d'")
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        match = _PATTERN.match(value)
        if match and match.group(2).lower() in _UNITS_S:
            return float(match.group(1)) * _UNITS_S[match.group(2).lower()]
    raise ValueError("expected a duration: seconds as a number, or a string such as '90s', '15min', '1h', '14.8d'")
