"""Psychrometrics of moist air: saturation pressure, humidity ratio, wet-bulb temperature, standard pressure.

Every equation is from the 2017 ASHRAE Handbook - Fundamentals (SI), chapter 1 "Psychrometrics"; the equation
numbers below are that chapter's. The same equations are implemented by PsychroLib (Meyer & Thevenard 2019,
J. Open Source Software 4(33):1137, github.com/psychrometrics/psychrolib), whose published test values the tests
here reuse.

Functions accept floats or numpy arrays (elementwise) and return the same shape. Temperatures in degrees
Celsius [C], pressures in pascals [Pa], relative humidity in percent [%], humidity ratio in kg of water vapour
per kg of dry air [kg/kg].
"""

from __future__ import annotations

import numpy as np

# Named conversions these equations need that sim/units.py does not hold (yet): a temperature offset and the
# percent scale. Kept here, in one place, until units.py gains them.
KELVIN_AT_0_C = 273.15  # [K] at 0 C, by definition of the Celsius scale
PERCENT_PER_FRACTION = 100.0

# ASHRAE 2017 Fundamentals ch. 1: triple point of water (ice below, liquid above), 0.01 C.
TRIPLE_POINT_WATER_C = 0.01
# Ratio of the molar masses of water vapour and dry air, ASHRAE 2017 ch. 1 eq. (20)/(22): 18.015268 / 28.966.
MOLAR_MASS_RATIO_WATER_AIR = 0.621945
# Standard sea-level pressure, ASHRAE 2017 ch. 1 Table 1 [Pa].
STANDARD_SEA_LEVEL_PRESSURE_PA = 101_325.0

# Hyland-Wexler saturation pressure coefficients, ASHRAE 2017 ch. 1 eq. (5) (over ice, -100..0 C) and
# eq. (6) (over liquid water, 0..200 C); temperature in K, pressure in Pa.
_C_ICE = (-5.6745359e03, 6.3925247e00, -9.6778430e-03, 6.2215701e-07, 2.0747825e-09, -9.4840240e-13, 4.1635019e00)
_C_WATER = (-5.8002206e03, 1.3914993e00, -4.8640239e-02, 4.1764768e-05, -1.4452093e-08, 6.5459673e00)

# Temperature range where eq. (5)/(6) are stated valid [C].
MIN_TEMPERATURE_C = -100.0
MAX_TEMPERATURE_C = 200.0


# Bisection (wet bulb, dew point): 40 halvings of a bracket at most 300 K wide leave
# 3e-10 K, far below the 0.001 K PsychroLib uses as its tolerance.
_BISECTION_STEPS = 40
_WET_BULB_TOLERANCE_K = 1e-9


def _as_array(x):
    return np.asarray(x, dtype=float)


def _return(value: np.ndarray, *inputs):
    """Give back a float when every input was a scalar, an array otherwise."""
    return float(value) if all(np.ndim(x) == 0 for x in inputs) else value


def saturation_vapour_pressure_pa(temperature_c):
    """Saturation pressure of water vapour [Pa] over ice (t <= 0.01 C) or liquid water (t > 0.01 C).

    ln p_ws = C1/T + C2 + C3 T + C4 T^2 + C5 T^3 + C6 T^4 + C7 ln T        (ice, eq. 5)
    ln p_ws = C8/T + C9 + C10 T + C11 T^2 + C12 T^3 + C13 ln T             (water, eq. 6)
    with T = t + 273.15 [K]. Source: ASHRAE Handbook - Fundamentals 2017, ch. 1, eqs. (5) and (6)
    (Hyland & Wexler 1983). Example: 25 C -> 3169.7 Pa (ASHRAE 2017 ch. 1 Table 3).
    """
    t_c = _as_array(temperature_c)
    _check_temperature(t_c)
    return _return(_saturation_pa(t_c), temperature_c)


def _check_temperature(t_c: np.ndarray) -> None:
    if np.any((t_c < MIN_TEMPERATURE_C) | (t_c > MAX_TEMPERATURE_C)):
        raise ValueError(f"temperature outside [{MIN_TEMPERATURE_C}, {MAX_TEMPERATURE_C}] C: {t_c}")


def _saturation_pa(t_c: np.ndarray) -> np.ndarray:
    """Eqs. (5)/(6) on an array already checked to lie in their range (see `saturation_vapour_pressure_pa`)."""
    t_k = t_c + KELVIN_AT_0_C
    log_t_k = np.log(t_k)
    c1, c2, c3, c4, c5, c6, c7 = _C_ICE
    ln_ice = c1 / t_k + c2 + t_k * (c3 + t_k * (c4 + t_k * (c5 + t_k * c6))) + c7 * log_t_k
    c8, c9, c10, c11, c12, c13 = _C_WATER
    ln_water = c8 / t_k + c9 + t_k * (c10 + t_k * (c11 + t_k * c12)) + c13 * log_t_k
    return np.exp(np.where(t_c <= TRIPLE_POINT_WATER_C, ln_ice, ln_water))


def humidity_ratio_from_vapour_pressure(vapour_pressure_pa, pressure_pa):
    """Humidity ratio W [kg/kg] = 0.621945 p_w / (p - p_w). ASHRAE 2017 ch. 1 eq. (20).

    Example: p_w = 3169.7 Pa at p = 95461 Pa -> W = 0.0213604 (PsychroLib test value).
    """
    p_w = _as_array(vapour_pressure_pa)
    p = _as_array(pressure_pa)
    return _return(MOLAR_MASS_RATIO_WATER_AIR * p_w / (p - p_w), vapour_pressure_pa, pressure_pa)


def vapour_pressure_from_relative_humidity_pa(dry_bulb_c, relative_humidity_pct):
    """Partial pressure of water vapour [Pa] = RH * p_ws(t). ASHRAE 2017 ch. 1 eq. (12) (RH definition)."""
    rh = _as_array(relative_humidity_pct) / PERCENT_PER_FRACTION
    out = rh * _as_array(saturation_vapour_pressure_pa(dry_bulb_c))
    return _return(out, dry_bulb_c, relative_humidity_pct)


def relative_humidity_from_dew_point_pct(dry_bulb_c, dew_point_c):
    """Relative humidity [%] = p_ws(t_dew) / p_ws(t) x 100, since p_w = p_ws(t_dew) (ASHRAE 2017 ch. 1 eq. 37)."""
    out = (
        _as_array(saturation_vapour_pressure_pa(dew_point_c))
        / _as_array(saturation_vapour_pressure_pa(dry_bulb_c))
        * PERCENT_PER_FRACTION
    )
    return _return(out, dry_bulb_c, dew_point_c)


def dew_point_from_vapour_pressure_c(vapour_pressure_pa):
    """Dew-point temperature [C]: the t at which p_ws(t) equals the vapour pressure [Pa] (eq. 37 inverted).

    Solved by bisection on the monotonic p_ws of eqs. (5)/(6) over [-100, 200] C (PsychroLib solves the same
    equation by Newton-Raphson). Example: 3169.7 Pa -> 25.0 C (ASHRAE 2017 ch. 1 Table 3).
    """
    p_w = _as_array(vapour_pressure_pa)
    if np.any(p_w <= 0.0):
        raise ValueError("vapour pressure must be > 0 Pa")
    lo = np.full(p_w.shape, MIN_TEMPERATURE_C)
    hi = np.full(p_w.shape, MAX_TEMPERATURE_C)
    for _ in range(_BISECTION_STEPS):
        mid = 0.5 * (lo + hi)
        above = _as_array(saturation_vapour_pressure_pa(mid)) > p_w
        hi = np.where(above, mid, hi)
        lo = np.where(above, lo, mid)
    return _return(0.5 * (lo + hi), vapour_pressure_pa)


def humidity_ratio_from_wet_bulb(dry_bulb_c, wet_bulb_c, pressure_pa):
    """Humidity ratio W [kg/kg] of air at dry bulb t and thermodynamic wet bulb t*.

    Above freezing (t* >= 0 C), ASHRAE 2017 ch. 1 eq. (33):
        W = ((2501 - 2.326 t*) W*_s - 1.006 (t - t*)) / (2501 + 1.86 t - 4.186 t*)
    Below freezing (t* < 0 C), eq. (35):
        W = ((2830 - 0.24 t*) W*_s - 1.006 (t - t*)) / (2830 + 1.86 t - 2.1 t*)
    with W*_s the saturation humidity ratio at t* and p (eq. 23). The coefficients are enthalpies and specific
    heats in kJ/kg and kJ/(kg K) as printed in the Handbook.
    Example: t = 30 C, t* = 25 C, p = 95461 Pa -> W = 0.0192281 (PsychroLib test value).
    """
    t_star = _as_array(wet_bulb_c)
    _check_temperature(t_star)
    out = _w_from_wet_bulb(_as_array(dry_bulb_c), t_star, _as_array(pressure_pa))
    return _return(out, dry_bulb_c, wet_bulb_c, pressure_pa)


def wet_bulb_from_humidity_ratio_c(dry_bulb_c, humidity_ratio, pressure_pa):
    """Thermodynamic wet-bulb temperature [C] of air at dry bulb t [C], humidity ratio W [kg/kg], pressure [Pa].

    Solves W(t, t*, p) = W for t* (ASHRAE 2017 ch. 1 eqs. 33/35, see `humidity_ratio_from_wet_bulb`) by
    bisection on [-100 C, t]; W(t, t*) rises monotonically with t* on each side of 0 C, and t* lies between the
    dew point and t (the solution method PsychroLib uses). Example: t = 40 C, W = 0.0065, p = 101325 Pa ->
    t* = 20 C (ASHRAE 2017 ch. 1 Example 1).

    Speed (a year of hourly weather spends most of its set-up here): once a bracket no longer holds 0 C, where
    eqs. 33 and 35 meet with a jump, W is continuous and rising inside it, so its one root is the one bisection
    would reach, and the Illinois variant of regula falsi finds it to the same 1e-9 K in a few steps; a bracket
    that still holds 0 C is halved, exactly as bisection would. Each step works on the unsolved values only.
    """
    t = _as_array(dry_bulb_c)
    w = _as_array(humidity_ratio)
    p = _as_array(pressure_pa)
    t, w, p = np.broadcast_arrays(t, w, p)
    if np.any(w < 0.0):
        raise ValueError("humidity ratio must be >= 0")
    shape = t.shape
    t, w, p = t.ravel().astype(float), w.ravel().astype(float), p.ravel().astype(float)
    result = np.empty(t.shape)
    index = np.arange(t.size)                       # the unsolved values: all the arrays below hold only them
    lo = np.full(t.shape, MIN_TEMPERATURE_C)
    hi = t.copy()
    f_lo = _w_from_wet_bulb(t, lo, p) - w
    f_hi = _w_from_wet_bulb(t, hi, p) - w
    stale = np.zeros(t.shape, dtype=np.int8)        # which end stayed put last step: -1 lo, +1 hi, 0 neither
    for _ in range(_BISECTION_STEPS + 40):
        if index.size == 0:
            break
        span = f_hi - f_lo
        secant = ((lo > 0.0) | (hi < 0.0)) & (span > 0.0)
        x = np.where(secant, hi - f_hi * (hi - lo) / np.where(span > 0.0, span, 1.0), 0.5 * (lo + hi))
        x = np.minimum(np.maximum(x, lo), hi)
        f_x = _w_from_wet_bulb(t, x, p) - w
        too_wet = f_x > 0.0
        # Illinois: an end that stays put twice running has its value halved, so the next secant moves it.
        f_lo = np.where(secant & too_wet & (stale == -1), 0.5 * f_lo, f_lo)
        f_hi = np.where(secant & ~too_wet & (stale == 1), 0.5 * f_hi, f_hi)
        moved_s = np.abs(np.where(too_wet, hi, lo) - x)
        lo, hi = np.where(too_wet, lo, x), np.where(too_wet, x, hi)
        f_lo, f_hi = np.where(too_wet, f_lo, f_x), np.where(too_wet, f_x, f_hi)
        stale = np.where(too_wet, -1, 1).astype(np.int8)
        # Done: a secant step that moved less than the tolerance, or a bracket narrower than it.
        done = (hi - lo < _WET_BULB_TOLERANCE_K) | (secant & (moved_s < _WET_BULB_TOLERANCE_K))
        if done.any():
            result[index[done]] = np.where(secant[done], x[done], 0.5 * (lo[done] + hi[done]))
            keep = ~done
            index, t, w, p, lo, hi, f_lo, f_hi, stale = (
                a[keep] for a in (index, t, w, p, lo, hi, f_lo, f_hi, stale))
    if index.size:
        result[index] = 0.5 * (lo + hi)
    return _return(result.reshape(shape), dry_bulb_c, humidity_ratio, pressure_pa)


def _w_from_wet_bulb(t, t_star, p):
    """Eqs. (33)/(35) on arrays already checked (see `humidity_ratio_from_wet_bulb`): also the inner loop of the
    wet-bulb solve, which checks its bracket once instead of at every step."""
    ps = _saturation_pa(t_star)
    w_s = MOLAR_MASS_RATIO_WATER_AIR * ps / (p - ps)
    above = ((2501.0 - 2.326 * t_star) * w_s - 1.006 * (t - t_star)) / (2501.0 + 1.86 * t - 4.186 * t_star)
    below = ((2830.0 - 0.24 * t_star) * w_s - 1.006 * (t - t_star)) / (2830.0 + 1.86 * t - 2.1 * t_star)
    return np.where(t_star >= 0.0, above, below)


def wet_bulb_from_relative_humidity_c(dry_bulb_c, relative_humidity_pct, pressure_pa):
    """Wet-bulb temperature [C] from dry bulb [C], relative humidity [%] and pressure [Pa].

    p_w = RH p_ws(t) (eq. 12), W from p_w (eq. 20), then t* from W (eqs. 33/35).
    Example: 40 C, 14 % RH, 101325 Pa -> about 20 C (ASHRAE 2017 ch. 1 Example 1).
    """
    rh = _as_array(relative_humidity_pct)
    if np.any((rh < 0.0) | (rh > PERCENT_PER_FRACTION)):
        raise ValueError(f"relative humidity outside [0, 100] %: {relative_humidity_pct}")
    p_w = vapour_pressure_from_relative_humidity_pa(dry_bulb_c, rh)
    w = humidity_ratio_from_vapour_pressure(p_w, pressure_pa)
    return wet_bulb_from_humidity_ratio_c(dry_bulb_c, w, pressure_pa)


def wet_bulb_from_dew_point_c(dry_bulb_c, dew_point_c, pressure_pa):
    """Wet-bulb temperature [C] from dry bulb [C], dew point [C] and pressure [Pa].

    p_w = p_ws(t_dew) (eq. 37 inverted), W from p_w (eq. 20), then t* from W (eqs. 33/35).
    A dew point above the dry bulb is unphysical and raises ValueError.
    Example: 30 C, dew point 20 C, 101325 Pa -> 22.94 C (PsychroLib GetTWetBulbFromTDewPoint).
    """
    if np.any(_as_array(dew_point_c) > _as_array(dry_bulb_c)):
        raise ValueError("dew point above dry bulb")
    p_w = saturation_vapour_pressure_pa(dew_point_c)
    w = humidity_ratio_from_vapour_pressure(p_w, pressure_pa)
    return wet_bulb_from_humidity_ratio_c(dry_bulb_c, w, pressure_pa)


def standard_atmosphere_pressure_pa(elevation_m):
    """Pressure of the standard atmosphere [Pa] at an elevation [m] above sea level.

    p = 101.325 (1 - 2.25577e-5 Z)^5.2559 kPa. Source: ASHRAE Handbook - Fundamentals 2017, ch. 1, eq. (3).
    Examples (ch. 1 Table 1): 0 m -> 101325 Pa, 500 m -> 95461 Pa, 1000 m -> 89875 Pa.
    """
    z_m = _as_array(elevation_m)
    return _return(STANDARD_SEA_LEVEL_PRESSURE_PA * (1.0 - 2.25577e-5 * z_m) ** 5.2559, elevation_m)
