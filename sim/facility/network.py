"""The cluster fabric in the running simulation: its always-on power, and the spine bandwidth that
predict-mode jobs share.

Power. Switches and the optics in their used ports draw a near-constant power whatever the traffic
(sim/physics/network.py `fabric_power_w`); it is an always-on load on the `network` channel, split among
the holders of nodes (jobs, services and the idle pool) in proportion to the nodes they hold. A traffic-dependent
energy per bit is charged on top only when a figure is given (default 0): the switch and optics figures
are already their power at full rate, so charging each bit 37.5 pJ as well would count the same watts
twice. A non-zero per-bit figure must be the part that grows with traffic, above the idle draw.

Contention. Each GPU of a predict-mode job is one flow of demand equal to its share of its node's NICs.
A job whose nodes fit under one leaf group (the leaves of one rail-optimised scalable unit, or one leaf
of a plain fat tree) is taken to be placed there, and its traffic stays off the spine; a larger job sends
all its inter-node traffic across the spine (worst case: placement is not topology-aware). The spine is
one shared link of capacity = leaf uplinks x link bandwidth / oversubscription; flows get their max-min
fair rates (progressive filling). Flows are taken as sustained while their job holds its nodes (a fluid
approximation; communication phases of different jobs are not synchronised, so this is the worst case).
Rates change only when a predict-mode job starts or ends: the jobs whose rate changed are told, and
re-plan their iteration time from that instant on.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

from sim.catalog.hardware import NodeSpec
from sim.catalog.network import LinkType, SwitchType, load_network_catalog
from sim.config.schema import LinkModel, NetworkSection
from sim.facility.cluster import IDLE_OWNER
from sim.facility.storage import NodeShare
from sim.physics.network import (
    NetworkSizing,
    cluster_network_sizing,
    fabric_power_w,
    max_min_fair_rates,
    max_switch_hops,
)

# The NVLink generation of each catalog accelerator (NVIDIA datasheets, see network.toml).
INTRA_NODE_LINK_BY_GPU = {
    "v100-sxm2-16gb": "nvlink2",
    "v100-sxm2-32gb": "nvlink2",
    "a100-sxm4-40gb": "nvlink3",
    "a100-sxm4-80gb": "nvlink3",
    "h100-sxm5-80gb": "nvlink4",
    "h200-sxm-141gb": "nvlink4",
    "b200-sxm-180gb": "nvlink5",
}


def resolve_link(choice: str | LinkModel) -> LinkType:
    if isinstance(choice, str):
        return load_network_catalog().link(choice)
    return LinkType(
        name=choice.name,
        bandwidth_bytes_per_s=choice.bandwidth_bytes_per_s,
        latency_s=choice.latency_s,
        energy_per_bit_j=choice.energy_per_bit_j,
        source=choice.source,
    )


def default_intra_node_link(section: NetworkSection, node: NodeSpec) -> LinkType | None:
    if section.intra_node_link is not None:
        return resolve_link(section.intra_node_link)
    name = INTRA_NODE_LINK_BY_GPU.get(node.gpu.key)
    return None if name is None else load_network_catalog().link(name)


def oversubscribed(sizing: NetworkSizing, ratio: float) -> NetworkSizing:
    """A tree with ``ratio``:1 less bandwidth above the leaves: the switches and cables above the leaves
    are divided by the ratio (rounded up); the leaves stay (their freed uplink ports stay empty)."""
    if ratio == 1.0 or sizing.tiers == 1:
        return sizing
    return NetworkSizing(
        endpoints=sizing.endpoints,
        radix=sizing.radix,
        tiers=sizing.tiers,
        leaf_switches=sizing.leaf_switches,
        spine_switches=math.ceil(sizing.spine_switches / ratio),
        core_switches=math.ceil(sizing.core_switches / ratio),
        endpoint_links=sizing.endpoint_links,
        switch_links=math.ceil(sizing.switch_links / ratio),
    )


@dataclass(frozen=True)
class FabricDesign:
    """Everything the engine needs to know about the fabric, derived once from [network] and [cluster]."""

    topology: str
    sizing: NetworkSizing
    link: LinkType
    intra_node_link: LinkType | None
    switch: SwitchType
    port_transceiver_power_w: float
    power_w: float
    nics_per_node: int
    gpus_per_node: int
    nodes_per_leaf_group: int
    spine_capacity_bytes_per_s: float
    oversubscription: float
    energy_per_bit_j: float

    @property
    def gpu_inter_node_bandwidth_bytes_per_s(self) -> float:
        """One GPU's share of its node's NIC bandwidth, per direction [byte/s]."""
        return self.link.bandwidth_bytes_per_s * self.nics_per_node / self.gpus_per_node

    def crosses_spine(self, nodes: int) -> bool:
        return self.sizing.tiers >= 2 and nodes > self.nodes_per_leaf_group

    def hops(self, nodes: int) -> int:
        """Switches an inter-node byte of a job on ``nodes`` nodes crosses."""
        return max_switch_hops(self.sizing.tiers) if self.crosses_spine(nodes) else 1


def design_fabric(section: NetworkSection, node: NodeSpec, node_count: int) -> FabricDesign:
    catalog = load_network_catalog()
    link = resolve_link(section.link)
    switch = catalog.switch(section.switch)
    radix = section.switch_radix if section.switch_radix is not None else switch.ports
    nics = section.nics_per_node if section.nics_per_node is not None else node.gpus_per_node
    sizing = oversubscribed(cluster_network_sizing(node_count, nics, radix, section.topology), section.oversubscription)
    if section.transceiver == "none":
        port_w = 0.0
    else:
        optic = catalog.transceiver(section.transceiver)
        # A multi-port module's power, per switch port of the switch's port bandwidth.
        port_w = optic.power_w * switch.port_bandwidth_bytes_per_s / optic.bandwidth_bytes_per_s
    half = radix // 2
    if sizing.tiers == 1:
        leaf_group_nodes = node_count
    elif section.topology == "fat_tree":
        leaf_group_nodes = max(1, half // nics)
    else:  # rail layouts: leaf i of every rail serves the same `half` nodes
        leaf_group_nodes = half
    leaves = sizing.leaf_switches
    spine_capacity = (
        math.inf if sizing.tiers == 1 else leaves * half * link.bandwidth_bytes_per_s / section.oversubscription
    )
    return FabricDesign(
        topology=section.topology,
        sizing=sizing,
        link=link,
        intra_node_link=default_intra_node_link(section, node),
        switch=switch,
        port_transceiver_power_w=port_w,
        power_w=fabric_power_w(sizing, switch.power_w, port_w),
        nics_per_node=nics,
        gpus_per_node=node.gpus_per_node,
        nodes_per_leaf_group=leaf_group_nodes,
        spine_capacity_bytes_per_s=spine_capacity,
        oversubscription=section.oversubscription,
        energy_per_bit_j=section.energy_per_bit_j if section.energy_per_bit_j is not None else link.energy_per_bit_j,
    )


class NetworkUser(Protocol):
    name: str
    gpus: int
    nodes: int

    def on_network_share_changed(self, now_s: float) -> None: ...


class Fabric:
    """The fabric of one run: its power (if modelled) and the max-min fair shares of its spine."""

    def __init__(self, design: FabricDesign, share: NodeShare | None, contention: bool = True):
        self.design = design
        self.share = share
        self.contention = contention
        self._users: dict[str, NetworkUser] = {}
        self._rates: dict[str, float] = {}
        # (instant [s], job, per-GPU inter-node rate [byte/s]) each time a job's share changes.
        self.history: list[tuple[float, str, float]] = []

    @property
    def power_w(self) -> float:
        return self.design.power_w if self.share is not None else 0.0

    def rate_bytes_per_s(self, name: str) -> float:
        """Per-GPU inter-node bandwidth of job ``name`` now [byte/s] (its NIC share when alone)."""
        return self._rates.get(name, self.design.gpu_inter_node_bandwidth_bytes_per_s)

    def join(self, user: NetworkUser, now_s: float) -> None:
        self._users[user.name] = user
        self._share_out(now_s, exclude=user.name)

    def leave(self, user: NetworkUser, now_s: float) -> None:
        self._users.pop(user.name, None)
        self._rates.pop(user.name, None)
        self._share_out(now_s, exclude=user.name)

    def _share_out(self, now_s: float, exclude: str) -> None:
        names = list(self._users)
        demand = self.design.gpu_inter_node_bandwidth_bytes_per_s
        if self.contention and names:
            paths = [[0] if self.design.crosses_spine(self._users[n].nodes) else [] for n in names]
            rates = max_min_fair_rates(
                [self.design.spine_capacity_bytes_per_s], paths, [demand] * len(names),
                flow_counts=[self._users[n].gpus for n in names],
            )
        else:
            rates = [demand] * len(names)
        changed = []
        for name, rate in zip(names, rates):
            if self._rates.get(name) != rate:
                self._rates[name] = rate
                self.history.append((now_s, name, rate))
                if name != exclude:
                    changed.append(name)
        for name in changed:
            self._users[name].on_network_share_changed(now_s)


def build_fabric(section: NetworkSection | None, meter, cluster) -> Fabric:
    """The fabric of a run: designed from [network] whether or not it draws power (predict-mode jobs
    need its links); its always-on power on the `network` channel, split by nodes held, when enabled."""
    section = section if section is not None else NetworkSection(enabled=False)
    design = design_fabric(section, cluster.node, cluster.node_count)
    share = None
    if section.enabled:
        share = NodeShare(meter, "network", design.power_w, cluster.node_count, IDLE_OWNER)
        cluster.on_holding_change(share.holding_changed)
    return Fabric(design, share, contention=section.enabled)


def fabric_summary(fabric: Fabric) -> dict:
    d = fabric.design
    return {
        "enabled": fabric.share is not None,
        "topology": d.topology,
        "tiers": d.sizing.tiers,
        "switches": d.sizing.switches,
        "switch_ports_used": d.sizing.switch_ports_used,
        "nics_per_node": d.nics_per_node,
        "link": d.link.name,
        "oversubscription": d.oversubscription,
        "power_w": fabric.power_w,
        "spine_capacity_bytes_per_s": d.spine_capacity_bytes_per_s,
        "energy_per_bit_j": d.energy_per_bit_j,
    }
