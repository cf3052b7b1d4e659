"""Cluster network: how many switches and cables a fabric needs, what it draws, and how flows share
its links.

Three pure pieces:

- Topology sizing of a non-blocking folded-Clos (fat-tree) fabric of switches with ``radix`` ports:
  one switch up to k endpoints, two tiers (leaf-spine) up to k^2/2, three tiers up to k^3/4
  (Al-Fares, Loukissas & Vahdat 2008, "A scalable, commodity data center network architecture",
  SIGCOMM: a k-ary fat tree of 5k^2/4 switches serves k^3/4 hosts). Layouts: ``fat_tree`` (every NIC
  on any leaf), ``rail_optimized`` (NIC i of every node on the rail-i leaves, same switch count; NVIDIA
  DGX SuperPOD reference architecture) and ``rail_only`` (one separate fat tree per rail, no spine
  between rails; Wang et al. 2024, "Rail-only: a low-cost high-performance network for training LLMs
  with trillion parameters", arXiv:2307.12169).
- Power: switches and the transceivers in their ports draw a near-constant power whatever the
  traffic; a per-bit energy term is kept for the traffic-dependent part.
- Max-min fair sharing of link bandwidth by flows (progressive filling; Bertsekas & Gallager 1992,
  "Data Networks", 2nd ed., Sec. 6.5.2): two jobs whose flows meet on one spine link each get half of it.

NVLink and NVSwitch inside a node, and the node's NICs, are part of the node: their power is in the
node's rated draw (e.g. DGX H100 10.2 kW), so the fabric power here counts switches and switch-side
optics only, plus node-side optics when the caller asks for them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from sim.units import BITS_PER_BYTE

FabricLayout = Literal["fat_tree", "rail_optimized", "rail_only"]


@dataclass(frozen=True)
class NetworkSizing:
    """Switch and cable counts of a fabric.

    endpoints: NIC ports attached [-]; tiers: switch levels (1, 2 or 3); leaf, spine and core switches
    [-] (spine = aggregation in a three-tier tree); endpoint_links: NIC-to-leaf cables [-];
    switch_links: switch-to-switch cables [-].
    """

    endpoints: int
    radix: int
    tiers: int
    leaf_switches: int
    spine_switches: int
    core_switches: int
    endpoint_links: int
    switch_links: int

    @property
    def switches(self) -> int:
        return self.leaf_switches + self.spine_switches + self.core_switches

    @property
    def switch_ports_used(self) -> int:
        """Switch ports with a cable in them: one per endpoint link, two per switch-to-switch link."""
        return self.endpoint_links + 2 * self.switch_links

    def __add__(self, other: NetworkSizing) -> NetworkSizing:
        if self.radix != other.radix:
            raise ValueError("cannot add fabrics of different switch radix")
        return NetworkSizing(
            endpoints=self.endpoints + other.endpoints,
            radix=self.radix,
            tiers=max(self.tiers, other.tiers),
            leaf_switches=self.leaf_switches + other.leaf_switches,
            spine_switches=self.spine_switches + other.spine_switches,
            core_switches=self.core_switches + other.core_switches,
            endpoint_links=self.endpoint_links + other.endpoint_links,
            switch_links=self.switch_links + other.switch_links,
        )


def _check_positive_int(name: str, value: int) -> None:
    if not (isinstance(value, int) and value >= 1):
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}")


def fat_tree_max_endpoints(radix: int, tiers: int) -> int:
    """Largest non-blocking fat tree of ``tiers`` levels of k-port switches [endpoints]:
    ``k``, ``k^2/2``, ``k^3/4`` for 1, 2, 3 tiers; in general ``2 (k/2)^tiers`` (Al-Fares et al. 2008).
    Worked number: k = 64 -> 64, 2,048, 65,536."""
    _check_positive_int("tiers", tiers)
    if tiers == 1:
        return radix
    return 2 * (radix // 2) ** tiers


def fat_tree_sizing(endpoints: int, radix: int) -> NetworkSizing:
    """Switches and cables of the smallest non-blocking fat tree (1:1, each switch below the top tier
    with half its ports down and half up) for ``endpoints`` NIC ports and ``radix``-port switches.

    Two tiers: ``L = ceil(E / (k/2))`` leaves, ``S = ceil(L k/2 / k)`` spines, ``L k/2`` leaf-spine
    links. Three tiers: L leaves, L aggregation switches (a pod pairs k/2 leaves with k/2 aggregation
    switches), ``ceil(L k/2 / k)`` core switches, ``2 L k/2`` switch links (Al-Fares et al. 2008).
    More tiers repeat the middle tier: t tiers serve up to ``2 (k/2)^t`` endpoints with L switches in
    each of the t - 2 middle tiers (counted in ``spine_switches``), ``ceil(L k/2 / k)`` at the top
    (``core_switches``) and ``(t - 1) L k/2`` switch links.
    Worked number: 16,384 endpoints (2,048 nodes x 8 NICs) on 64-port switches need three tiers:
    512 leaves + 512 aggregation + 256 core = 1,280 switches.
    """
    _check_positive_int("endpoints", endpoints)
    if not (isinstance(radix, int) and radix >= 4 and radix % 2 == 0):
        raise ValueError(f"radix must be an even integer >= 4, got {radix!r}")
    half = radix // 2
    if endpoints <= radix:
        return NetworkSizing(endpoints, radix, 1, 1, 0, 0, endpoints, 0)
    leaves = math.ceil(endpoints / half)
    uplinks = leaves * half
    top = math.ceil(uplinks / radix)
    if endpoints <= fat_tree_max_endpoints(radix, 2):
        return NetworkSizing(endpoints, radix, 2, leaves, top, 0, endpoints, uplinks)
    tiers = 3
    while endpoints > fat_tree_max_endpoints(radix, tiers):
        tiers += 1
    middle = leaves * (tiers - 2)
    return NetworkSizing(endpoints, radix, tiers, leaves, middle, top, endpoints, uplinks * (tiers - 1))


def cluster_network_sizing(
    nodes: int, nics_per_node: int, radix: int, layout: FabricLayout = "rail_optimized"
) -> NetworkSizing:
    """Fabric for ``nodes`` nodes of ``nics_per_node`` NICs each.

    ``fat_tree`` and ``rail_optimized`` need the same switches (a fat tree over all NIC ports; rail
    optimisation only chooses which leaf each NIC plugs into). ``rail_only`` builds one fat tree per
    rail over ``nodes`` endpoints and no switch joins the rails (cross-rail traffic goes through
    NVLink inside a node). Worked number: 2,048 nodes x 8 rails on 64-port switches, rail-only:
    8 x (64 leaves + 32 spines) = 768 switches, against 1,280 for the full fat tree.
    """
    _check_positive_int("nodes", nodes)
    _check_positive_int("nics_per_node", nics_per_node)
    if layout in ("fat_tree", "rail_optimized"):
        return fat_tree_sizing(nodes * nics_per_node, radix)
    if layout == "rail_only":
        rail = fat_tree_sizing(nodes, radix)
        total = rail
        for _ in range(nics_per_node - 1):
            total = total + rail
        return total
    raise ValueError(f"unknown fabric layout {layout!r}; expected fat_tree, rail_optimized or rail_only")


def max_switch_hops(tiers: int) -> int:
    """Switches a flow crosses between two endpoints on different sides of the tree [-]: ``2 tiers - 1``
    (up to the top tier and down again)."""
    _check_positive_int("tiers", tiers)
    return 2 * tiers - 1


# --------------------------------------------------------------------------------------------------
# Power and energy


def fabric_power_w(
    sizing: NetworkSizing,
    switch_power_w: float,
    switch_port_transceiver_power_w: float,
    endpoint_transceiver_power_w: float = 0.0,
) -> float:
    """Load-independent power of a fabric [W]:

    ``P = switches * P_switch + switch_ports_used * P_port + endpoint_links * P_endpoint``.

    ``switch_power_w``: one switch with passive cables (vendor "typical" figure, optics excluded);
    ``switch_port_transceiver_power_w``: optics per used switch port (0 for passive copper);
    ``endpoint_transceiver_power_w``: optics at the node end of each NIC link, 0 by default because it
    is normally counted in the node's power. Worked number, 2,048 nodes x 8 NICs on a three-tier tree:
    1,280 switches x 940 W + 81,920 used ports x 8.5 W = 1.203 MW + 0.696 MW = 1.90 MW (0.93 kW per node).
    """
    for name, value in (
        ("switch_power_w", switch_power_w),
        ("switch_port_transceiver_power_w", switch_port_transceiver_power_w),
        ("endpoint_transceiver_power_w", endpoint_transceiver_power_w),
    ):
        if not value >= 0.0:
            raise ValueError(f"{name} must be >= 0, got {value!r}")
    return (
        sizing.switches * switch_power_w
        + sizing.switch_ports_used * switch_port_transceiver_power_w
        + sizing.endpoint_links * endpoint_transceiver_power_w
    )


def equivalent_energy_per_bit_j(power_w: float, bandwidth_bytes_per_s: float) -> float:
    """Energy per bit of a device running at full rate [J/bit]: ``P / (B * 8)``.
    Worked number: an 800 Gb/s transceiver at 30 W -> 37.5 pJ/bit."""
    if not (power_w >= 0.0 and bandwidth_bytes_per_s > 0.0):
        raise ValueError("power_w must be >= 0 and bandwidth_bytes_per_s > 0")
    return power_w / (bandwidth_bytes_per_s * BITS_PER_BYTE)


def traffic_energy_j(size_bytes: float, energy_per_bit_j: float, hops: int = 1) -> float:
    """Traffic-dependent energy of moving ``size_bytes`` across ``hops`` devices [J]:
    ``E = n * 8 * e_bit * hops``. Only the part of a device's power that grows with traffic belongs in
    ``energy_per_bit_j``; its constant draw is in ``fabric_power_w``."""
    if not (size_bytes >= 0.0 and energy_per_bit_j >= 0.0):
        raise ValueError("size_bytes and energy_per_bit_j must be >= 0")
    if not (isinstance(hops, int) and hops >= 0):
        raise ValueError(f"hops must be an integer >= 0, got {hops!r}")
    return size_bytes * BITS_PER_BYTE * energy_per_bit_j * hops


# --------------------------------------------------------------------------------------------------
# Sharing links between flows


def max_min_fair_rates(
    capacities_bytes_per_s: Sequence[float],
    flow_links: Sequence[Sequence[int]],
    demands_bytes_per_s: Sequence[float] | None = None,
    flow_counts: Sequence[int] | None = None,
) -> tuple[float, ...]:
    """Max-min fair rate of each flow [byte/s] over shared links (progressive filling).

    Every unfrozen flow's rate rises at the same pace until a link it crosses is full (that link is
    then the flow's bottleneck and the flow stops) or the flow reaches its demand. The result is the
    unique allocation in which no flow can gain without taking from a flow whose rate is no larger
    (Bertsekas & Gallager 1992, Sec. 6.5.2).

    capacities_bytes_per_s: capacity of link i (``math.inf`` for a link that never limits);
    flow_links: for each flow, the indices of the links it crosses (a flow with no links is limited
    only by its demand); demands_bytes_per_s: optional upper bound per flow (``math.inf`` = elastic);
    flow_counts: optional number of identical copies each entry stands for (default 1 each), so that a
    job of 16,384 GPU flows is one entry: every copy gets the entry's rate and loads its links.

    Worked number: two flows over one 50 GB/s spine link get 25 GB/s each; with a third flow that also
    crosses a 10 GB/s link, that one gets 10 and the other two 20 each.
    """
    capacities = [float(c) for c in capacities_bytes_per_s]
    for i, capacity in enumerate(capacities):
        if not capacity >= 0.0:
            raise ValueError(f"link {i}: capacity must be >= 0, got {capacity!r}")
    flows = [sorted(set(links)) for links in flow_links]
    for f, links in enumerate(flows):
        for link in links:
            if not (isinstance(link, int) and 0 <= link < len(capacities)):
                raise ValueError(f"flow {f}: link index {link!r} is not one of the {len(capacities)} links")
    if demands_bytes_per_s is None:
        demands = [math.inf] * len(flows)
    else:
        demands = [float(d) for d in demands_bytes_per_s]
        if len(demands) != len(flows):
            raise ValueError(f"{len(demands)} demands for {len(flows)} flows")
        for f, demand in enumerate(demands):
            if not demand >= 0.0:
                raise ValueError(f"flow {f}: demand must be >= 0, got {demand!r}")

    if flow_counts is None:
        counts = [1] * len(flows)
    else:
        counts = list(flow_counts)
        if len(counts) != len(flows):
            raise ValueError(f"{len(counts)} flow counts for {len(flows)} flows")
        for f, count in enumerate(counts):
            if not (isinstance(count, int) and count >= 1):
                raise ValueError(f"flow {f}: count must be an integer >= 1, got {count!r}")

    rates = [0.0] * len(flows)
    remaining = list(capacities)
    active = set(range(len(flows)))
    while active:
        users = [0] * len(capacities)
        for f in active:
            for link in flows[f]:
                users[link] += counts[f]
        link_step = {
            link: remaining[link] / n for link, n in enumerate(users) if n > 0 and math.isfinite(remaining[link])
        }
        flow_step = {f: demands[f] - rates[f] for f in active if math.isfinite(demands[f])}
        step = min([*link_step.values(), *flow_step.values()], default=math.inf)
        if math.isinf(step):  # only unbounded links and elastic demands left
            for f in active:
                rates[f] = math.inf
            break
        saturated = {link for link, s in link_step.items() if s == step}
        for f in active:
            rates[f] += step
        for link, n in enumerate(users):
            if n > 0 and math.isfinite(remaining[link]):
                remaining[link] = 0.0 if link in saturated else max(remaining[link] - step * n, 0.0)
        done = {f for f in active if any(link in saturated for link in flows[f])}
        done |= {f for f, s in flow_step.items() if s == step}
        if not done:  # cannot happen: the smallest step always belongs to a link or a demand
            raise RuntimeError("max-min fair sharing made no progress")
        for f in done:
            rates[f] = min(rates[f], demands[f])
        active -= done
    return tuple(rates)


def link_loads_bytes_per_s(
    rates_bytes_per_s: Sequence[float], flow_links: Sequence[Sequence[int]], links: int
) -> tuple[float, ...]:
    """Traffic carried by each link [byte/s]: the sum of the rates of the flows crossing it."""
    loads = [0.0] * links
    for rate, path in zip(rates_bytes_per_s, flow_links, strict=True):
        for link in set(path):
            loads[link] += rate
    return tuple(loads)
