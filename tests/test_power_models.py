"""GPU and host power models against closed forms and the published figures they are calibrated on."""

import pytest

from sim.catalog import gpu_catalog, node_catalog
from sim.physics import power
from sim.units import J_PER_KWH


def test_700_w_for_two_hours_is_5_04_mj():
    assert 700.0 * 2 * 3600 == pytest.approx(5.04e6, rel=0, abs=1e-9)
    assert 700.0 * 2 * 3600 / J_PER_KWH == pytest.approx(1.4)


def test_training_activity_puts_an_h100_node_at_76_percent_of_its_rating():
    """Newkirk et al. 2025: training on 8x H100 draws 76% of the 10.2 kW rating."""
    node = node_catalog()["dgx-h100"]
    gpus_w, host_w = power.node_power_w(node, power.TRAINING_COMPUTE)
    assert gpus_w + host_w == pytest.approx(0.76 * 10_200)
    assert power.TRAINING_ACTIVITY == pytest.approx((7752 - 2800) / 7400)


def test_idle_node_draws_the_splitwise_idle_power():
    for key, idle_w in (("dgx-h100", 2800), ("dgx-a100", 1500)):
        node = node_catalog()[key]
        assert sum(power.node_power_w(node, power.IDLE)) == pytest.approx(idle_w)


def test_full_activity_reaches_the_vendor_rating():
    for node in node_catalog().values():
        assert sum(power.node_power_w(node, power.PhaseActivity(1.0, 1.0))) == pytest.approx(node.max_power_w)


def test_static_plus_dynamic_is_total_and_monotone():
    gpu = gpu_catalog()["h100-sxm5-80gb"]
    previous = -1.0
    for a in (0.0, 0.25, 0.5, 0.75, 1.0):
        total = power.gpu_power_w(gpu, a)
        assert total == pytest.approx(power.gpu_static_power_w(gpu) + power.gpu_dynamic_power_w(gpu, a))
        assert total > previous
        previous = total
    assert power.gpu_power_w(gpu, 0.0) == gpu.idle_w
    assert power.gpu_power_w(gpu, 1.0) == gpu.tdp_w


def test_v100_system_power_under_training_is_near_the_measured_325_to_330_w():
    """Patterson et al. 2021: 325 W (Table 3) and 330 W (GPT-3, Table 4) per V100, host included.
    The model is calibrated on an H100 node, not on these figures, so this is a check, within 5%."""
    node = node_catalog()["dgx-1-v100"]
    per_gpu_w = sum(power.node_power_w(node, power.TRAINING_COMPUTE)) / node.gpus_per_node
    assert per_gpu_w == pytest.approx(330, rel=0.05)


def test_measured_system_power_keeps_the_model_split():
    gpu_w, host_w = power.scale_to_measured_system_power(600.0, 200.0, gpus=2, measured_system_power_w_per_gpu=330)
    assert gpu_w + host_w == pytest.approx(660)
    assert gpu_w / host_w == pytest.approx(3.0)


def test_activity_out_of_range_is_refused():
    with pytest.raises(ValueError):
        power.PhaseActivity(1.2, 0.5)
