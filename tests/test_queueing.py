"""Erlang's formulas and the Allen-Cunneen approximation against closed forms."""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sim.physics.queueing as q


def test_erlang_b_and_c_worked_number():
    """c = 2, a = 1: B = (1/2) / (1 + 1 + 1/2) = 0.2; C = 2 x 0.2 / (2 - 1 x 0.8) = 1/3."""
    assert q.erlang_b(2, 1.0) == pytest.approx(0.2, rel=1e-12)
    assert q.erlang_c(2, 1.0) == pytest.approx(1.0 / 3.0, rel=1e-12)


def test_mm1_is_exact():
    """One server: P(wait) = rho and E[W] = rho / (mu - lambda) (M/M/1), for Allen-Cunneen with SCVs of 1."""
    wait = q.allen_cunneen_wait(1, 0.5, 1.0)
    assert wait.p_wait == pytest.approx(0.5)
    assert wait.mean_s == pytest.approx(0.5 / (1.0 - 0.5))
    assert wait.exceedance(2.0) == pytest.approx(0.5 * math.exp(-2.0 * 0.5))


def test_md1_mean_wait_is_pollaczek_khinchine():
    """Deterministic service (cs^2 = 0), Poisson arrivals: E[W] = rho / (2 mu (1 - rho)) exactly."""
    rho, service_s = 0.8, 2.0
    wait = q.allen_cunneen_wait(1, rho / service_s, service_s, 1.0, 0.0)
    assert wait.mean_s == pytest.approx(rho * service_s / (2.0 * (1.0 - rho)), rel=1e-12)


def brute_p0(c: int, a: float) -> float:
    terms = [a ** k / math.factorial(k) for k in range(c)]
    return 1.0 / (sum(terms) + a ** c / math.factorial(c) / (1.0 - a / c))


@given(c=st.integers(1, 40), rho=st.floats(0.01, 0.98))
@settings(max_examples=100, deadline=None)
def test_empty_probability_matches_the_sum(c, rho):
    a = rho * c
    assert q.mmc_empty_probability(c, a) == pytest.approx(brute_p0(c, a), rel=1e-9)


@pytest.mark.parametrize("c, a", [(2001, 1950.0), (2500, 2480.0), (5000, 4000.0), (3000, 3100.0)])
def test_erlang_b_for_many_servers_equals_the_recursion(c, a, monkeypatch):
    by_terms = q.erlang_b(c, a)
    monkeypatch.setattr(q, "_RECURSION_MAX_SERVERS", 10**9)
    assert by_terms == pytest.approx(q.erlang_b(c, a), rel=1e-12, abs=1e-300)


def test_an_unstable_queue_is_refused():
    with pytest.raises(ValueError):
        q.allen_cunneen_wait(4, 5.0, 1.0)
