"""Job scheduling: FIFO, shortest-job-first and EASY backfilling, alone and through the engine."""

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.facility.tickets import Ticket
from sim.policies.registry import all_names, check_policy_name, kind_of, policy_overrides
from sim.policies.scheduling.easy_backfill import EasyBackfill, shadow_time
from sim.policies.scheduling.fifo import Fifo
from sim.policies.scheduling.sjf import ShortestJobFirst

from policy_helpers import run, scenario


def ticket(name, nodes, runtime_s, submitted_at_s=0.0, end_s=math.inf):
    t = Ticket(name=name, gpus=8 * nodes, nodes=nodes, submitted_at_s=submitted_at_s, runtime_s=runtime_s)
    t.expected_end_s = end_s
    t.held_nodes = nodes
    return t


# ------------------------------------------------------------------------------------------ registry
def test_every_policy_is_found_by_name_and_unknown_names_list_the_valid_ones():
    names = all_names()
    assert {"fifo", "easy_backfill", "sjf", "run_now", "carbon_threshold", "carbon_forecast", "uncapped",
            "static_cap", "power_budget", "always_on", "power_down", "fixed", "target_utilisation"} <= set(names)
    assert kind_of("easy_backfill") == "scheduling"
    with pytest.raises(ValueError, match="expected one of: easy_backfill, fifo, sjf"):
        check_policy_name("scheduling", "round_robin_jobs")
    with pytest.raises(ValueError, match="valid policies are scheduling: easy_backfill, fifo, sjf; shifting"):
        kind_of("lottery")
    assert policy_overrides("sjf+static_cap") == ["policies.scheduling='sjf'", "policies.power='static_cap'"]
    with pytest.raises(ValueError, match="two scheduling policies"):
        policy_overrides("fifo+sjf")


def test_an_unknown_policy_in_a_scenario_is_one_clear_error():
    from sim.errors import ScenarioError

    with pytest.raises(ScenarioError) as err:
        scenario(policies={"scheduling": "lottery"})
    assert "policies.scheduling" in str(err.value) and "easy_backfill, fifo, sjf" in str(err.value)


# ------------------------------------------------------------------------------------ the decisions
def test_fifo_blocks_behind_the_head():
    waiting = [ticket("big", 6, 10), ticket("small", 1, 10)]
    assert Fifo().select(0, waiting, 4, []) == []
    assert [t.name for t in Fifo().select(0, waiting, 7, [])] == ["big", "small"]


def test_sjf_starts_the_shortest_first_and_skips_what_does_not_fit():
    waiting = [ticket("long", 2, 100), ticket("wide", 6, 1), ticket("short", 2, 10)]
    chosen = ShortestJobFirst().select(0, waiting, 4, [])
    assert [t.name for t in chosen] == ["short", "long"]


def test_shadow_time_is_when_enough_nodes_come_back():
    # head needs 6; 2 free; running jobs give back 3 at t=5 and 4 at t=9 -> shadow 9, extra 3
    assert shadow_time(0, 6, 2, [(9, 4), (5, 3)]) == (9, 3)
    assert shadow_time(0, 2, 2, []) == (0, 0)
    assert shadow_time(0, 6, 2, [(math.inf, 8)]) == (math.inf, 0)


def test_easy_backfills_only_what_cannot_delay_the_head():
    running = [ticket("r", 6, 100, end_s=100)]
    head = ticket("head", 8, 50, submitted_at_s=1)
    short = ticket("short", 2, 90, submitted_at_s=2)  # ends at 90 <= shadow 100: backfilled
    long_ = ticket("long", 2, 500, submitted_at_s=3)  # would hold 2 nodes past 100, no extra nodes: waits
    chosen = EasyBackfill().select(0, [head, short, long_], 2, running)
    assert [t.name for t in chosen] == ["short"]
    assert head.reserved_start_at_s == 100


def test_easy_uses_extra_nodes_for_long_jobs():
    running = [ticket("r", 4, 100, end_s=100)]
    head = ticket("head", 6, 50, submitted_at_s=1)  # 8-node cluster: at 100, 8 free, head takes 6: extra 2
    long_ = ticket("long", 2, 500, submitted_at_s=3)
    chosen = EasyBackfill().select(0, [head, long_], 4, running)
    assert [t.name for t in chosen] == ["long"]


# -------------------------------------------------------------------------------- through the engine
job_sets = st.lists(
    st.tuples(st.integers(1, 8), st.integers(60, 36_000), st.integers(0, 86_400)),
    min_size=2, max_size=25,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(job_sets)
def test_backfill_never_delays_the_head_beyond_its_reservation(specs):
    jobs = [{"name": f"j{i}", "gpus": 8 * nodes, "duration": float(duration), "submit_at": float(submit)}
            for i, (nodes, duration, submit) in enumerate(specs)]
    simulation, result = run(scenario(jobs, nodes=8, policies={"scheduling": "easy_backfill"}))
    reserved = 0
    for job in simulation.queued_jobs:
        t = job.ticket
        assert job.state.finished_at_s is not None  # no job lost
        if t.reserved_start_at_s is not None:
            reserved += 1
            assert t.started_at_s <= t.reserved_start_at_s + 1e-6, (t.name, t.started_at_s, t.reserved_start_at_s)


def test_policies_order_the_same_jobs_differently():
    # 8 nodes; a wide long job first, then small short ones and a wide one.
    jobs = [
        {"name": "a", "gpus": 48, "duration": "4h", "submit_at": 0},
        {"name": "b", "gpus": 64, "duration": "1h", "submit_at": 60},
        {"name": "c", "gpus": 16, "duration": "1h", "submit_at": 120},
        {"name": "d", "gpus": 16, "duration": "30min", "submit_at": 180},
    ]
    starts = {}
    for policy in ("fifo", "easy_backfill", "sjf"):
        simulation, _ = run(scenario(jobs, policies={"scheduling": policy}))
        starts[policy] = {j.name: j.state.started_at_s for j in simulation.queued_jobs}
    # fifo: b waits for a (4 h), c and d wait behind b
    assert starts["fifo"]["b"] == pytest.approx(4 * 3600)
    assert starts["fifo"]["c"] == pytest.approx(5 * 3600)
    # easy: c (1 h) fits in the 2 free nodes and ends before b's reservation at 4 h; then d waits for
    # nodes (c holds them) and starts at c's end, still before 4 h
    assert starts["easy_backfill"]["b"] == pytest.approx(4 * 3600)
    assert starts["easy_backfill"]["c"] == pytest.approx(120)
    assert starts["easy_backfill"]["d"] == pytest.approx(120 + 3600)
    # sjf: d and c start on the free nodes at once... c at 120, d after it; b (shortest of the rest) at 4 h
    assert starts["sjf"]["c"] == pytest.approx(120)
    assert starts["sjf"]["b"] == pytest.approx(4 * 3600)


def test_borrow_takes_free_nodes_only_when_no_one_waits_and_listeners_hear_of_it():
    from sim.engine.simulation import Simulation

    jobs = [{"name": "a", "gpus": 32, "duration": "1h"}, {"name": "b", "gpus": 48, "duration": "1h", "submit_at": 10.0}]
    simulation = Simulation(scenario(jobs, nodes=8))
    cluster, heard = simulation.cluster, []
    cluster.on_holding_change(lambda owner, nodes, now: heard.append((owner, nodes, now)))
    env = simulation.env
    env.run(until=5.0)
    assert cluster.borrow("a", 2) and cluster.free_nodes == 2 and heard[-1] == ("a", 6, 5.0)
    env.run(until=20.0)  # b (6 nodes) now waits: nobody may borrow ahead of it
    assert cluster.waiting and not cluster.borrow("a", 1)
    assert cluster.running[simulation.queued_jobs[0].ticket.seq].held_nodes == 6
