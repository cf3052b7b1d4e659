"""The checkpoint cycle in closed form: its energy, its clocks, and the job's accounts across re-plans."""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.engine.cyclic import CyclicPower
from sim.engine.profiles import ConstantPower, PeriodicPower
from sim.workloads.checkpointing import CheckpointSchedule, Ledger


def cycle_by_cycle_energy_j(profile: CyclicPower, a: float, b: float) -> float:
    """The same integral walked cycle by cycle (a loop, not the closed form): each cycle's work part on
    the work clock, then its pause."""
    total, t, clock = 0.0, profile.origin_s, profile.work_clock_origin_s
    while t < b:
        work_end = t + profile.work_s
        lo, hi = max(a, t), min(b, work_end)
        if hi > lo:
            total += profile.work.energy_j(clock + (lo - t), clock + (hi - t))
        clock += profile.work_s
        pause_end = work_end + profile.pause_s
        lo, hi = max(a, work_end), min(b, pause_end)
        if hi > lo:
            total += profile.pause_power_w * (hi - lo)
        t = pause_end
    return total


def test_a_worked_cycle():
    # 100 s of work at 1 kW, 10 s of pause at 200 W: one cycle is 102 kJ, 3.5 cycles from the origin.
    profile = CyclicPower(origin_s=50.0, work_s=100.0, pause_s=10.0, work=ConstantPower(1000.0), pause_power_w=200.0)
    assert profile.energy_j(50.0, 160.0) == pytest.approx(102_000.0)
    assert profile.energy_j(50.0, 50.0 + 3 * 110 + 55) == pytest.approx(3 * 102_000 + 55_000)
    assert profile.energy_j(145.0, 165.0) == pytest.approx(5 * 1000 + 10 * 200 + 5 * 1000)
    assert profile.mean_power_w == pytest.approx(102_000 / 110)


def test_no_pauses_is_the_work_profile_shifted():
    work = PeriodicPower(0.0, (3.0, 1.0), (700.0, 100.0))
    profile = CyclicPower(origin_s=10.0, work_s=math.inf, pause_s=0.0, work=work, pause_power_w=0.0)
    assert profile.energy_j(10.0, 14.0) == pytest.approx(2200.0)
    assert profile.energy_j(12.5, 21.5) == pytest.approx(work.energy_j(2.5, 11.5))


@settings(max_examples=60, deadline=None)
@given(
    work_s=st.floats(5.0, 50.0), pause_s=st.floats(0.0, 20.0),
    a=st.floats(0.0, 300.0), span=st.floats(0.0, 300.0),
)
def test_cycle_energy_matches_a_cycle_by_cycle_walk(work_s, pause_s, a, span):
    work = PeriodicPower(0.0, (1.7, 0.6), (600.0, 150.0))
    profile = CyclicPower(0.0, work_s, pause_s, work, pause_power_w=80.0, work_clock_origin_s=0.3)
    exact = profile.energy_j(a, a + span)
    assert exact == pytest.approx(cycle_by_cycle_energy_j(profile, a, a + span), rel=1e-9, abs=1e-6)


def test_schedule_inverts_its_compute_clock():
    schedule = CheckpointSchedule(origin_s=100.0, interval_s=60.0, write_s=5.0, pauses=True)
    for compute in (0.0, 30.0, 60.0, 61.0, 125.0, 180.0, 1000.0):
        t = schedule.time_at_compute_s(compute)
        assert schedule.compute_s(t) == pytest.approx(compute)
    assert schedule.time_at_compute_s(60.0) == 160.0  # the last iteration ends before the write
    assert schedule.time_at_compute_s(61.0) == 166.0  # one second into the second cycle
    asynchronous = CheckpointSchedule(origin_s=0.0, interval_s=60.0, write_s=5.0, pauses=False)
    assert asynchronous.time_at_compute_s(125.0) == 125.0 and asynchronous.paused_s(125.0) == 0.0


def test_ledger_commits_at_the_end_of_each_write_and_a_failure_loses_the_rest():
    schedule = CheckpointSchedule(origin_s=0.0, interval_s=60.0, write_s=5.0, pauses=True)
    ledger = Ledger(anchor_s=0.0)
    ledger.advance(62.0, schedule, iteration_s=2.0)  # in the first write: nothing committed yet
    assert (ledger.progress, ledger.committed, ledger.checkpoints) == (30.0, 0.0, 0)
    ledger.advance(100.0, schedule, iteration_s=2.0)  # first checkpoint committed at 65 s
    assert (ledger.progress, ledger.committed, ledger.checkpoints) == (47.5, 30.0, 1)
    assert ledger.since_commit_compute_s == pytest.approx(35.0)
    assert ledger.fail() == (pytest.approx(17.5), pytest.approx(35.0))
    assert ledger.progress == 30.0 and ledger.paused_s == 5.0 and ledger.compute_s == 95.0


def test_a_failure_during_a_write_loses_that_checkpoint():
    schedule = CheckpointSchedule(origin_s=0.0, interval_s=60.0, write_s=5.0, pauses=False)
    ledger = Ledger(anchor_s=0.0)
    ledger.advance(63.0, schedule, iteration_s=1.0)  # asynchronous: snapshot at 60 s, write until 65 s
    assert ledger.committed == 0.0 and ledger.pending == (60.0, 3.0)
    assert ledger.fail() == (63.0, 63.0)


@settings(max_examples=40, deadline=None)
@given(
    cuts=st.lists(st.floats(0.0, 1000.0), max_size=6),
    end=st.floats(0.0, 1000.0),
    pauses=st.booleans(),
)
def test_re_planning_at_the_same_speed_changes_nothing(cuts, end, pauses):
    """The accounts do not depend on where a stretch is cut (a network change that leaves T alone)."""
    schedule = CheckpointSchedule(origin_s=0.0, interval_s=97.0, write_s=11.0, pauses=pauses)
    whole, cut = Ledger(anchor_s=0.0), Ledger(anchor_s=0.0)
    whole.advance(end, schedule, 3.0)
    for t in sorted(c for c in cuts if c <= end):
        cut.advance(t, schedule, 3.0)
    cut.advance(end, schedule, 3.0)
    for name in ("progress", "committed", "since_commit_compute_s", "compute_s", "paused_s"):
        assert getattr(cut, name) == pytest.approx(getattr(whole, name), abs=1e-9)
    assert cut.checkpoints == whole.checkpoints


def test_a_slower_network_mid_stretch_slows_progress_from_then_on():
    schedule = CheckpointSchedule(origin_s=0.0, interval_s=math.inf, write_s=0.0, pauses=True)
    ledger = Ledger(anchor_s=0.0)
    ledger.advance(100.0, schedule, iteration_s=1.0)
    ledger.advance(300.0, schedule, iteration_s=2.0)
    assert ledger.progress == 200.0 and ledger.iterations_computed == 200.0
