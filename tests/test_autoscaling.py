"""Inference autoscaling decisions: the Kubernetes HPA rule with tolerance, bounds and a scale-down window."""

import pytest

from sim.policies.autoscaling.base import ServiceLoad
from sim.policies.autoscaling.fixed import Fixed
from sim.policies.autoscaling.target_utilisation import TargetUtilisation


def test_replicas_follow_load_at_the_target_utilisation():
    policy = TargetUtilisation(0.5, min_replicas=1, max_replicas=20)
    # 4 replicas at 90% busy, target 50%: ceil(4 x 0.9 / 0.5) = 8
    assert policy.desired_replicas(0, ServiceLoad(utilisation=0.9, replicas=4, serving=4)) == 8
    # within the 10% tolerance: unchanged
    assert policy.desired_replicas(60, ServiceLoad(utilisation=0.53, replicas=8, serving=8)) == 8


def test_bounds_are_kept():
    policy = TargetUtilisation(0.5, min_replicas=2, max_replicas=5)
    assert policy.desired_replicas(0, ServiceLoad(utilisation=1.0, replicas=4, serving=4)) == 5
    policy = TargetUtilisation(0.5, min_replicas=2, max_replicas=5, scale_down_delay_s=0)
    assert policy.desired_replicas(0, ServiceLoad(utilisation=0.0, replicas=4, serving=4)) == 2


def test_scale_down_waits_for_the_highest_recommendation_of_the_window():
    policy = TargetUtilisation(0.5, min_replicas=1, scale_down_delay_s=300)
    assert policy.desired_replicas(0, ServiceLoad(0.9, 4, 4)) == 8
    # load drops at once: the window still remembers 8
    assert policy.desired_replicas(60, ServiceLoad(0.1, 8, 8)) == 8
    assert policy.desired_replicas(240, ServiceLoad(0.1, 8, 8)) == 8
    # 5 min after the last high recommendation, it may go down: ceil(8 x 0.1 / 0.5) = 2
    assert policy.desired_replicas(301, ServiceLoad(0.1, 8, 8)) == 2


def test_fixed_keeps_the_replicas():
    assert Fixed().desired_replicas(0, ServiceLoad(0.99, 3, 3)) == 3


def test_target_must_be_a_share():
    with pytest.raises(ValueError):
        TargetUtilisation(1.5)
