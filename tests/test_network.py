"""Fabric sizing, fabric power, fair sharing of links, and the network catalog."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.catalog.network import load_network_catalog, parse_network_catalog
from sim.errors import DataFileError, SimInputError
from sim.physics.network import (
    cluster_network_sizing,
    equivalent_energy_per_bit_j,
    fabric_power_w,
    fat_tree_max_endpoints,
    fat_tree_sizing,
    link_loads_bytes_per_s,
    max_min_fair_rates,
    max_switch_hops,
    traffic_energy_j,
)

# ---------------------------------------------------------------------------------------- sizing


def test_fat_tree_capacity_by_tiers():
    # k, k^2/2, k^3/4 endpoints for 1, 2, 3 tiers (Al-Fares et al. 2008).
    assert [fat_tree_max_endpoints(64, t) for t in (1, 2, 3)] == [64, 2048, 65_536]


def test_2048_nodes_of_8_nics_on_64_port_switches():
    fabric = cluster_network_sizing(2048, 8, radix=64, layout="fat_tree")
    assert (fabric.tiers, fabric.leaf_switches, fabric.spine_switches, fabric.core_switches) == (3, 512, 512, 256)
    assert fabric.switches == 1280
    assert fabric.endpoint_links == 16_384
    assert fabric.switch_links == 2 * 512 * 32  # leaf-aggregation and aggregation-core
    assert cluster_network_sizing(2048, 8, radix=64, layout="rail_optimized") == fabric
    rail_only = cluster_network_sizing(2048, 8, radix=64, layout="rail_only")
    assert (rail_only.tiers, rail_only.switches) == (2, 8 * (64 + 32))


def test_two_tier_and_single_switch_fabrics():
    two = fat_tree_sizing(2048, 64)
    assert (two.tiers, two.leaf_switches, two.spine_switches, two.switch_links) == (2, 64, 32, 2048)
    assert fat_tree_sizing(2049, 64).tiers == 3
    one = fat_tree_sizing(40, 64)
    assert (one.tiers, one.switches, one.switch_links) == (1, 1, 0)
    # A full k-ary fat tree: 5k^2/4 switches for k^3/4 hosts (Al-Fares et al. 2008).
    full = fat_tree_sizing(65_536, 64)
    assert full.switches == 5 * 64**2 // 4
    # One endpoint more needs a fourth tier; a full n-tier tree has (2n - 1)(k/2)^(n-1) switches.
    assert fat_tree_sizing(65_537, 64).tiers == 4
    four = fat_tree_sizing(2 * 32**4, 64)
    assert (four.tiers, four.switches) == (4, 7 * 32**3)
    assert four.switch_links == 3 * four.endpoints
    with pytest.raises(ValueError, match="radix"):
        fat_tree_sizing(10, 7)
    with pytest.raises(ValueError, match="layout"):
        cluster_network_sizing(4, 8, 64, layout="torus")  # type: ignore[arg-type]


@given(endpoints=st.integers(1, 65_536), half_radix=st.integers(4, 32))
def test_every_cable_has_a_port_and_no_tier_is_oversubscribed(endpoints, half_radix):
    radix = 2 * half_radix
    if endpoints > fat_tree_max_endpoints(radix, 3):
        return
    fabric = fat_tree_sizing(endpoints, radix)
    assert fabric.switch_ports_used <= fabric.switches * radix
    assert fabric.endpoint_links == endpoints
    if fabric.tiers >= 2:
        # Non-blocking: as much uplink as downlink out of the leaves.
        assert fabric.leaf_switches * half_radix >= endpoints
        assert fabric.switch_links >= endpoints
    assert max_switch_hops(fabric.tiers) == 2 * fabric.tiers - 1


# ----------------------------------------------------------------------------------------- power


def test_fabric_power_counts_switches_and_used_ports():
    fabric = fat_tree_sizing(2048, 64)  # 96 switches, 2048 + 2 * 2048 used ports
    assert fabric_power_w(fabric, 940.0, 8.5) == pytest.approx(96 * 940.0 + 6144 * 8.5)
    assert fabric_power_w(fabric, 940.0, 8.5, endpoint_transceiver_power_w=9.0) == pytest.approx(
        96 * 940.0 + 6144 * 8.5 + 2048 * 9.0
    )
    assert fabric_power_w(fabric, 0.0, 0.0) == 0.0
    with pytest.raises(ValueError):
        fabric_power_w(fabric, -1.0, 0.0)


def test_energy_per_bit():
    # An 800 Gb/s transceiver at 30 W is 37.5 pJ/bit (REFERENCE.md).
    assert equivalent_energy_per_bit_j(30.0, 100e9) == pytest.approx(37.5e-12)
    # 1 GB across 3 switches at 10 pJ/bit.
    assert traffic_energy_j(1e9, 10e-12, hops=3) == pytest.approx(0.24)
    assert traffic_energy_j(1e9, 10e-12, hops=0) == 0.0


# ------------------------------------------------------------------------------------ fair share


def test_two_flows_on_one_link_get_half_each():
    assert max_min_fair_rates([50e9], [[0], [0]]) == (25e9, 25e9)


def test_two_jobs_sharing_a_spine_link_each_get_half():
    # Links: 0 = job A's leaf uplink, 1 = job B's leaf uplink (both 50 GB/s), 2 = the shared spine link.
    capacities = [50e9, 50e9, 50e9]
    alone = max_min_fair_rates(capacities, [[0, 2]])
    shared = max_min_fair_rates(capacities, [[0, 2], [1, 2]])
    assert alone == (50e9,)
    assert shared == (25e9, 25e9)


def test_the_textbook_example():
    # Two links; flow 0 crosses both, flow 1 only the 10 GB/s link, flow 2 only the 4 GB/s link.
    # The 4 GB/s link saturates first at 2 each; flow 1 then takes the 8 left on the other.
    rates = max_min_fair_rates([10.0, 4.0], [[0, 1], [0], [1]])
    assert rates == pytest.approx((2.0, 8.0, 2.0))


def test_demands_cap_flows_and_free_bandwidth_for_the_others():
    assert max_min_fair_rates([10.0], [[0], [0]], demands_bytes_per_s=[1.0, math.inf]) == pytest.approx((1.0, 9.0))
    assert max_min_fair_rates([10.0], [[0], [0]], demands_bytes_per_s=[1.0, 2.0]) == pytest.approx((1.0, 2.0))
    assert max_min_fair_rates([math.inf], [[0]], demands_bytes_per_s=[3.0]) == (3.0,)
    assert max_min_fair_rates([math.inf], [[0]]) == (math.inf,)
    assert max_min_fair_rates([], [[]], demands_bytes_per_s=[5.0]) == (5.0,)
    assert max_min_fair_rates([0.0, 10.0], [[0, 1], [1]]) == (0.0, 10.0)
    assert max_min_fair_rates([1.0], []) == ()
    with pytest.raises(ValueError, match="link index"):
        max_min_fair_rates([1.0], [[1]])


@st.composite
def networks(draw):
    links = draw(st.integers(1, 6))
    capacities = draw(st.lists(st.floats(0.5, 100.0), min_size=links, max_size=links))
    flows = draw(st.integers(1, 8))
    path = st.lists(st.integers(0, links - 1), min_size=1, max_size=links)
    paths = draw(st.lists(path, min_size=flows, max_size=flows))
    demands = draw(
        st.lists(st.one_of(st.just(math.inf), st.floats(0.1, 100.0)), min_size=flows, max_size=flows)
    )
    return capacities, paths, demands


@settings(max_examples=300)
@given(networks())
def test_max_min_fairness_conditions(network):
    """Feasible, and every flow is either at its demand or has a bottleneck: a full link on which no
    other flow gets more (the definition of max-min fairness, Bertsekas & Gallager Sec. 6.5.2)."""
    capacities, paths, demands = network
    rates = max_min_fair_rates(capacities, paths, demands)
    loads = link_loads_bytes_per_s(rates, paths, len(capacities))
    for load, capacity in zip(loads, capacities):
        assert load <= capacity * (1 + 1e-9)
    for f, (rate, path, demand) in enumerate(zip(rates, paths, demands)):
        assert 0.0 <= rate <= demand * (1 + 1e-12)
        if rate >= demand * (1 - 1e-9):
            continue
        bottlenecks = [
            link
            for link in set(path)
            if loads[link] >= capacities[link] * (1 - 1e-9)
            and all(rates[g] <= rate * (1 + 1e-9) for g, other in enumerate(paths) if link in other)
        ]
        assert bottlenecks, f"flow {f} at {rate} has no bottleneck"


# --------------------------------------------------------------------------------------- catalog


def test_catalog_loads_with_a_source_for_every_entry():
    catalog = load_network_catalog()
    tables = (catalog.links, catalog.switches, catalog.transceivers, catalog.nics)
    entries = [entry for table in tables for entry in table.values()]
    assert len(entries) >= 10
    assert all(entry.source.strip() for entry in entries)
    nvlink = catalog.link("nvlink4").alpha_beta()
    assert nvlink.bandwidth_bytes_per_s == 450e9  # 900 GB/s both ways
    assert catalog.link("infiniband_ndr_400g").bandwidth_bytes_per_s * 8 == 400e9
    assert catalog.switch("nvidia_qm9700").ports == 64
    # The 800G optic is the 37.5 pJ/bit of REFERENCE.md.
    optic = catalog.transceiver("pluggable_800g")
    assert equivalent_energy_per_bit_j(optic.power_w, optic.bandwidth_bytes_per_s) == pytest.approx(37.5e-12)
    with pytest.raises(SimInputError, match="known: .*nvlink4"):
        catalog.link("nvlink9")


def test_catalog_errors_name_the_key_and_are_reported_together():
    document = {
        "link": {"bad": {"bandwidth_bytes_per_s": -1.0, "latency_s": 0.0, "energy_per_bit_j": 0.0, "sourc": "x"}},
        "switch": {"s": {"ports": 0, "port_bandwidth_bytes_per_s": 1.0, "power_w": 1.0, "source": "x"}},
        "router": {},
    }
    with pytest.raises(DataFileError) as info:
        parse_network_catalog(document, "net.toml")
    message = str(info.value)
    assert message.startswith("net.toml: ")
    for expected in ("link.bad.bandwidth_bytes_per_s", "link.bad.sourc: unknown field", "link.bad.source: missing",
                     "switch.s.ports: expected an integer >= 1", "router: unknown table"):
        assert expected in message


def test_missing_catalog_file(tmp_path):
    with pytest.raises(DataFileError, match="not found"):
        load_network_catalog(tmp_path / "absent.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("[link.x\n")
    with pytest.raises(DataFileError, match="not valid TOML"):
        load_network_catalog(broken)


def test_a_counted_flow_is_that_many_identical_flows():
    # Two jobs of 384 and 128 GPU flows on a 25.6 TB/s spine: 512 equal shares of 50 GB/s each.
    counted = max_min_fair_rates([25.6e12], [[0], [0]], [math.inf, math.inf], flow_counts=[384, 128])
    assert counted == pytest.approx((50e9, 50e9))
    expanded = max_min_fair_rates([25.6e12], [[0]] * 512)
    assert expanded[0] == pytest.approx(counted[0])
    # A NIC demand below the fair share frees spine bandwidth for the other job.
    capped = max_min_fair_rates([25.6e12], [[0], [0]], [10e9, math.inf], flow_counts=[384, 128])
    assert capped == pytest.approx((10e9, (25.6e12 - 384 * 10e9) / 128))
    with pytest.raises(ValueError, match="count"):
        max_min_fair_rates([1.0], [[0]], flow_counts=[0])
    with pytest.raises(ValueError, match="flow counts"):
        max_min_fair_rates([1.0], [[0]], flow_counts=[1, 2])
