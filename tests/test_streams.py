"""Named random streams: reproducible, independent of request order, distinct by name and seed."""

import numpy as np

from sim.engine.streams import RandomStreams


def test_same_seed_and_name_give_the_same_numbers_whatever_the_order():
    a = RandomStreams(7)
    b = RandomStreams(7)
    b.generator("failures").random(10)  # another stream drawn first
    np.testing.assert_array_equal(a.generator("arrivals").random(5), b.generator("arrivals").random(5))


def test_streams_differ_by_name_and_by_seed():
    s = RandomStreams(7)
    assert not np.array_equal(s.generator("arrivals").random(5), s.generator("lengths").random(5))
    assert not np.array_equal(RandomStreams(1).generator("x").random(5), RandomStreams(2).generator("x").random(5))
