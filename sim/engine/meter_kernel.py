"""The meter's constant-load changes, replayed in bulk by numba-compiled loops (see `Meter._flush`).

A load change costs the Python meter about 5 us: integrate the stretch, ask the facility model for its draw at
the new heat, settle the owner, update the sums. A run whose events mostly change loads (a batch-job trace,
or any SimPy process that sets a power at every event) would then spend most of its time there. The meter
instead logs a change that crosses no bin edge and no scheduled weather or signal step (an append), and replays
the log when anything reads or changes it otherwise: in Python, with the very functions it uses one change at a
time, for a short log; here, for a long one, in three steps:

1. `heats`: the IT heat after each change (the running channel sums, updated as `Meter._set_constant` does);
2. the facility model's draws at all those heats in one numpy call (`draw_table` of fixed_pue and the plant);
3. `replay`: each change's integration, owner settlement and sum updates, with the same operations in the same
   order as `Meter._integrate`, `Meter._accumulators`, `Meter._settle` and `Meter._set_constant`.

So the results are those of the Python meter, bit for bit (tests/test_meter_kernel.py checks it on random
logs): IEEE float64 arithmetic in the same order gives the same numbers, and numba does not contract a * b + c
into a fused multiply-add unless asked (`fastmath`). The log holds only constant draws of loads, no periodic
ones, with the weather and the signals fixed over it (anything that changes them replays the log first), and
every stretch in it draws IT power (so no overhead goes to UNATTRIBUTED); otherwise the meter replays it in
Python.
"""

from __future__ import annotations

import numba
import numpy as np

from sim.units import J_PER_KWH

_jit = numba.njit(cache=True, nogil=True, error_model="numpy", _nrt=False)

# the meter's float state (`Meter._pack_state`), in one array
(SINCE_S, FACILITY_J, FAC_PER_IT_S, WATER_PER_IT_S, IT_W, COOLING_W, LOSS_W, MISC_W, WATER_L_PER_S, FACILITY_W,
 FAC_PER_IT, WATER_PER_IT, AMBIENT_C, WET_BULB_C, BIN_COOLING_J, BIN_LOSS_J, BIN_MISC_J, BIN_WATER_L,
 BIN_AMBIENT_C_S, BIN_WET_BULB_C_S) = range(20)
N_STATE = 20
# its int state
RATES_VALID, CHANGES_SINCE_REFRESH = range(2)
N_ISTATE = 2


@_jit
def heats(load_w, load_channel, channel_w, log_load, log_w, budget, out_heat_w):
    """The IT heat [W] of each stretch the log makes: out_heat_w[0] now, out_heat_w[k] after the k-th change that
    changes something (a load set to the power it has changes nothing). Stops after `budget` such changes (the
    meter refreshes its sums then). `load_w` and `channel_w` are updated as the meter would: pass copies.
    Returns (log entries consumed, changes made)."""
    out_heat_w[0] = channel_w[0] + channel_w[1] + channel_w[2] + channel_w[3]
    k = 0
    for j in range(log_load.size):
        load = log_load[j]
        power_w = log_w[j]
        if load < 0 or power_w == load_w[load]:   # a signal's change, or a load set to the power it has
            continue
        c = load_channel[load]
        channel_w[c] -= load_w[load]
        channel_w[c] += power_w
        load_w[load] = power_w
        k += 1
        out_heat_w[k] = channel_w[0] + channel_w[1] + channel_w[2] + channel_w[3]
        if k == budget:
            return j + 1, k
    return log_load.size, k


@_jit
def _update_rates(k, channel_w, state, istate, parts_w, draw_cooling_w, draw_loss_w, draw_misc_w,
                  draw_water_l_per_s, draw_parts_w):
    """Meter._update_rates, with the facility's draw at the heat after the log's k-th change."""
    it_w = channel_w[0] + channel_w[1] + channel_w[2] + channel_w[3]
    cooling_w = draw_cooling_w[k]
    loss_w = draw_loss_w[k]
    misc_w = draw_misc_w[k]
    water_l_per_s = draw_water_l_per_s[k]
    for i in range(parts_w.size):
        parts_w[i] = draw_parts_w[k, i]
    facility_w = it_w + cooling_w + loss_w + misc_w
    state[IT_W] = it_w
    state[COOLING_W] = cooling_w
    state[LOSS_W] = loss_w
    state[MISC_W] = misc_w
    state[WATER_L_PER_S] = water_l_per_s
    state[FACILITY_W] = facility_w
    if it_w > 0:
        state[FAC_PER_IT] = facility_w / it_w
        state[WATER_PER_IT] = water_l_per_s / it_w
    else:
        state[FAC_PER_IT] = 0.0
        state[WATER_PER_IT] = 0.0
    istate[RATES_VALID] = 1


@_jit
def replay(n, log_t_s, log_load, log_w, load_w, load_channel, load_owner, channel_w, bin_channel_j, parts_w,
           bin_parts_j, state, istate, owner_w, owner_drawing, owner_settled_s, owner_snapshot, owner_channel_j,
           owner_facility_j, owner_water_l, owner_signal, owner_signal_set, sig_per_it, sig_fac_per_it_s,
           signal_values, sig_at_s, sig_facility_j, bin_signal_energy, bin_signal_time, draw_cooling_w, draw_loss_w, draw_misc_w, draw_water_l_per_s, draw_parts_w, acc):
    """The first n entries of the log, (instant [s], load, power [W]) or (instant [s], -1 - signal, value) each,
    applied to the meter's state; the
    draws are the facility's at the heats `heats` gave, in order; `acc`, room for an owner's accumulators (2 +
    signals). Every array is updated in place. Stops before a change whose stretch draws no IT power (its overhead,
    if any, goes to UNATTRIBUTED, which only the Python meter books), and before a signal's change with no IT load
    (`Meter._cut_for_signals`). Returns the entries replayed."""
    n_signals = signal_values.size
    n_parts = parts_w.size
    k = 0
    for j in range(n):
        load = log_load[j]
        if load < 0:   # Meter.set_signal, the stretch not cut (constant loads drawing power)
            if not channel_w[0] + channel_w[1] + channel_w[2] + channel_w[3] > 0.0:
                return j
            s = -1 - load
            t_s = log_t_s[j]
            elapsed_s = t_s - sig_at_s[s]   # Meter._integrate_signal(s, t_s)
            if elapsed_s > 0.0:
                ahead_s = t_s - state[SINCE_S]
                if ahead_s > 0.0:   # Meter._totals_at
                    if istate[RATES_VALID] == 0:
                        _update_rates(k, channel_w, state, istate, parts_w, draw_cooling_w, draw_loss_w,
                                      draw_misc_w, draw_water_l_per_s, draw_parts_w)
                    facility_j = state[FACILITY_J] + state[FACILITY_W] * ahead_s
                    fac_per_it_s = state[FAC_PER_IT_S] + state[FAC_PER_IT] * ahead_s
                else:
                    facility_j = state[FACILITY_J]
                    fac_per_it_s = state[FAC_PER_IT_S]
                value = signal_values[s]
                bin_signal_energy[s] += value * (facility_j - sig_facility_j[s]) / J_PER_KWH
                bin_signal_time[s] += value * elapsed_s
                sig_per_it[s] += value * (fac_per_it_s - sig_fac_per_it_s[s]) / J_PER_KWH
                sig_at_s[s] = t_s
                sig_facility_j[s] = facility_j
                sig_fac_per_it_s[s] = fac_per_it_s
            signal_values[s] = log_w[j]
            continue
        power_w = log_w[j]
        if power_w == load_w[load]:
            continue
        t_s = log_t_s[j]
        # Meter._integrate(t_s), constant loads only
        dt_s = t_s - state[SINCE_S]
        if dt_s > 0.0:
            if istate[RATES_VALID] == 0:
                if not channel_w[0] + channel_w[1] + channel_w[2] + channel_w[3] > 0.0:
                    return j
                _update_rates(k, channel_w, state, istate, parts_w, draw_cooling_w, draw_loss_w, draw_misc_w,
                              draw_water_l_per_s, draw_parts_w)
            elif not state[IT_W] > 0.0:
                return j
            state[SINCE_S] = t_s
            bin_channel_j[0] += channel_w[0] * dt_s
            bin_channel_j[1] += channel_w[1] * dt_s
            bin_channel_j[2] += channel_w[2] * dt_s
            bin_channel_j[3] += channel_w[3] * dt_s
            state[BIN_COOLING_J] += state[COOLING_W] * dt_s
            state[BIN_LOSS_J] += state[LOSS_W] * dt_s
            state[BIN_MISC_J] += state[MISC_W] * dt_s
            state[BIN_WATER_L] += state[WATER_L_PER_S] * dt_s
            state[BIN_AMBIENT_C_S] += state[AMBIENT_C] * dt_s
            state[BIN_WET_BULB_C_S] += state[WET_BULB_C] * dt_s
            for i in range(n_parts):
                bin_parts_j[i] += parts_w[i] * dt_s
            state[FACILITY_J] += state[FACILITY_W] * dt_s
            state[FAC_PER_IT_S] += state[FAC_PER_IT] * dt_s
            state[WATER_PER_IT_S] += state[WATER_PER_IT] * dt_s
        # Meter._settle(owner, t_s), with Meter._accumulators(t_s) at the integrated instant
        owner = load_owner[load]
        fac_per_it_s = state[FAC_PER_IT_S]
        acc[0] = fac_per_it_s
        acc[1] = state[WATER_PER_IT_S]
        for s in range(n_signals):
            acc[2 + s] = sig_per_it[s] + signal_values[s] * (fac_per_it_s - sig_fac_per_it_s[s]) / J_PER_KWH
        owner_power_w = owner_w[owner, 0] + owner_w[owner, 1] + owner_w[owner, 2] + owner_w[owner, 3]
        if owner_power_w != 0.0:
            elapsed_s = t_s - owner_settled_s[owner]
            for i in range(4):
                if owner_w[owner, i] != 0.0:
                    owner_channel_j[owner, i] += owner_w[owner, i] * elapsed_s
            owner_facility_j[owner] += owner_power_w * (acc[0] - owner_snapshot[owner, 0])
            owner_water_l[owner] += owner_power_w * (acc[1] - owner_snapshot[owner, 1])
            for s in range(n_signals):
                owner_signal[owner, s] += owner_power_w * (acc[2 + s] - owner_snapshot[owner, 2 + s])
            owner_signal_set[owner] = True
        owner_settled_s[owner] = t_s
        for i in range(2 + n_signals):
            owner_snapshot[owner, i] = acc[i]
        # Meter._set_constant and Meter._after_change
        c = load_channel[load]
        old_w = load_w[load]
        channel_w[c] -= old_w
        owner_w[owner, c] -= old_w
        channel_w[c] += power_w
        owner_w[owner, c] += power_w
        load_w[load] = power_w
        was_drawing = old_w != 0.0
        now_drawing = power_w != 0.0
        if was_drawing != now_drawing:
            owner_drawing[owner] += 1 if now_drawing else -1
            if owner_drawing[owner] == 0:   # Meter._after_change: its sums are exactly 0
                for i in range(4):
                    owner_w[owner, i] = 0.0
        istate[RATES_VALID] = 0
        istate[CHANGES_SINCE_REFRESH] += 1
        k += 1
    return n


def warm_up() -> None:
    """Load (or compile) both functions with a two-change log, so that a benchmark's clock does not count it."""
    f = np.zeros(3)   # the draws at three heats: now and after each change
    heat_w = np.empty(3)
    heats(np.ones(1), np.zeros(1, dtype=np.int64), np.ones(4), np.zeros(2, dtype=np.int64), np.array([2.0, 3.0]),
          np.int64(10), heat_w)
    replay(np.int64(2), np.array([1.0, 2.0]), np.zeros(2, dtype=np.int64), np.array([2.0, 3.0]), np.ones(1),
           np.zeros(1, dtype=np.int64), np.zeros(1, dtype=np.int64), np.ones(4), np.zeros(4), np.zeros(0),
           np.zeros(0), np.zeros(N_STATE), np.zeros(N_ISTATE, dtype=np.int64), np.ones((1, 4)),
           np.ones(1, dtype=np.int64), np.zeros(1), np.zeros((1, 3)), np.zeros((1, 4)), np.zeros(1), np.zeros(1),
           np.zeros((1, 1)), np.zeros(1, dtype=np.bool_), np.zeros(1), np.zeros(1), np.zeros(1), np.zeros(1),
           np.zeros(1), np.zeros(1), np.zeros(1), f + 1.0, f, f, f,
           np.zeros((3, 0)), np.zeros(3))
