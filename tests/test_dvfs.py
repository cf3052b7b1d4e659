"""The DVFS model (cap -> clock -> power and speed) and the node-sleep arithmetic, against their closed forms."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sim.physics.dvfs import (
    DVFS,
    MEMORY_BOUND_ACTIVITY,
    DvfsModel,
    activity_for_boundedness,
    cap_reachable,
    clock_ratio_for_cap,
    energy_ratio,
    gpu_power_at_clock_w,
    time_stretch,
)
from sim.physics.node_sleep import SleepModel, break_even_idle_s, sleep_energy_j
from sim.physics.power import TRAINING_ACTIVITY

H100_IDLE_W, H100_TDP_W = 75.0, 700.0
TRAIN_DYN_W = (H100_TDP_W - H100_IDLE_W) * TRAINING_ACTIVITY  # 418.2 W


def test_memory_bound_activity_is_splitwise_decode_over_prefill():
    # Splitwise H100: idle 75 W, prompt 700 W, token 380 W -> (380 - 75) / (700 - 75)
    assert MEMORY_BOUND_ACTIVITY == pytest.approx(305 / 625)
    assert activity_for_boundedness(1.0, TRAINING_ACTIVITY) == pytest.approx(TRAINING_ACTIVITY)
    assert activity_for_boundedness(0.0, TRAINING_ACTIVITY) == pytest.approx(0.488)


def test_power_is_idle_plus_cubic_dynamic():
    assert gpu_power_at_clock_w(75, 418.2, 0.9) == pytest.approx(75 + 418.2 * 0.729)
    assert gpu_power_at_clock_w(75, 418.2, 1.0) == pytest.approx(493.2)


def test_clock_for_a_cap_inverts_the_power_law():
    s = clock_ratio_for_cap(400, H100_IDLE_W, TRAIN_DYN_W)
    assert s == pytest.approx((325 / TRAIN_DYN_W) ** (1 / 3))
    assert gpu_power_at_clock_w(H100_IDLE_W, TRAIN_DYN_W, s) == pytest.approx(400)
    # a cap above the work's draw changes nothing
    assert clock_ratio_for_cap(600, H100_IDLE_W, TRAIN_DYN_W) == 1.0
    # a cap below the floor clock's draw is not reachable: the clock stops at the floor
    assert clock_ratio_for_cap(100, H100_IDLE_W, TRAIN_DYN_W) == DVFS.min_clock_ratio
    assert not cap_reachable(100, H100_IDLE_W, TRAIN_DYN_W)
    assert cap_reachable(400, H100_IDLE_W, TRAIN_DYN_W)


def test_time_stretch_is_the_beta_model():
    assert time_stretch(0.8, 0.95) == pytest.approx(0.95 / 0.8 + 0.05)
    assert time_stretch(0.8, 0.0) == 1.0  # purely memory-bound: no slowdown
    assert time_stretch(0.5, 1.0) == pytest.approx(2.0)  # purely compute-bound: time ~ 1 / clock


@given(cap=st.floats(80, 700), beta=st.floats(0, 1))
def test_a_lower_cap_never_raises_power_nor_shortens_time(cap, beta):
    dyn = 625 * activity_for_boundedness(beta, TRAINING_ACTIVITY)
    lower = cap * 0.9
    s_hi, s_lo = clock_ratio_for_cap(cap, 75, dyn), clock_ratio_for_cap(lower, 75, dyn)
    assert s_lo <= s_hi
    assert gpu_power_at_clock_w(75, dyn, s_lo) <= gpu_power_at_clock_w(75, dyn, s_hi) + 1e-9
    assert time_stretch(s_lo, beta) >= time_stretch(s_hi, beta) - 1e-12
    if cap_reachable(cap, 75, dyn):
        assert gpu_power_at_clock_w(75, dyn, s_hi) <= cap + 1e-6


def test_moderate_caps_lower_the_energy_of_memory_bound_work():
    beta = 0.2
    dyn = 625 * activity_for_boundedness(beta, TRAINING_ACTIVITY)  # 327.6 W: draws 402.6 W uncapped
    for cap in (380, 350, 300, 250):
        s = clock_ratio_for_cap(cap, 75, dyn)
        assert s < 1
        assert energy_ratio(s, beta, 75, dyn) < 1
        # and still lower with the node's host drawing alongside for the longer time (DGX H100: 8 GPUs,
        # host at 2,200-4,600 W -> about 400 W per GPU)
        assert energy_ratio(s, beta, 75, dyn, other_w=400) < 1
    assert energy_ratio(clock_ratio_for_cap(300, 75, dyn), beta, 75, dyn) == pytest.approx(0.765, abs=1e-3)


def test_compute_bound_work_slows_with_the_clock_memory_bound_barely():
    cap = 350
    compute = clock_ratio_for_cap(cap, 75, 625 * activity_for_boundedness(0.95, TRAINING_ACTIVITY))
    memory = clock_ratio_for_cap(cap, 75, 625 * activity_for_boundedness(0.2, TRAINING_ACTIVITY))
    assert time_stretch(compute, 0.95) - 1 > 3 * (time_stretch(memory, 0.2) - 1)


def test_mcdonald_2022_order_of_magnitude():
    # V100 250 W -> 150 W: +6.8% time, -13.7% energy (McDonald et al. 2022): average power -19.2%.
    # A compute-bound job stretched 6.8% runs at s = 1/1.068; its dynamic power falls by 1 - s^3 = 18%.
    s = 1 / 1.068
    assert time_stretch(s, 1.0) == pytest.approx(1.068)
    assert 1 - s**3 == pytest.approx(0.18, abs=0.01)
    assert 1 - 0.863 / 1.068 == pytest.approx(0.192, abs=0.001)


def test_model_rejects_nonsense():
    with pytest.raises(ValueError):
        DvfsModel(min_clock_ratio=0)
    with pytest.raises(ValueError):
        time_stretch(1.2, 0.5)
    with pytest.raises(ValueError):
        activity_for_boundedness(1.5, 0.6)


def test_sleep_energy_and_break_even():
    model = SleepModel(sleep_w=140.0, wake_s=60.0, wake_w=2800.0)
    assert sleep_energy_j(model, 3600.0) == pytest.approx(140 * 3540 + 2800 * 60)  # 663,600 J
    assert sleep_energy_j(model, 3600.0) < 2800 * 3600
    # with P_wake = P_idle the break-even idle time is the wake-up time
    assert break_even_idle_s(2800.0, model) == pytest.approx(60.0)
    # at the break-even, sleeping and staying awake cost the same
    t = break_even_idle_s(2800.0, model)
    assert sleep_energy_j(model, t) == pytest.approx(2800.0 * t)
    assert math.isinf(break_even_idle_s(100.0, model))
