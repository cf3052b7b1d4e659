"""The GPU cluster: identical nodes held in groups by state, never one object per GPU.

Idle nodes form one group owned by the idle pool; each allocation is one group owned by its job.
Changing the state of 10,000 GPUs is one change of one group's power, so the cost of a run follows
the number of state changes, not the number of GPUs.
"""

from __future__ import annotations

import simpy

from sim.catalog.hardware import NodeSpec
from sim.engine.meter import Load, Meter
from sim.engine.profiles import ConstantPower, PeriodicPower
from sim.physics.power import IDLE, PhaseActivity, gpu_power_w, host_power_w

IDLE_OWNER = "idle"


class NodeGroup:
    """`nodes` whole nodes owned by `owner`, of which `gpus` accelerators do the owner's work."""

    def __init__(self, meter: Meter, node: NodeSpec, nodes: int, gpus: int, owner: str):
        self.node = node
        self.nodes = nodes
        self.gpus = gpus
        self.owner = owner
        self.gpu_load: Load = meter.load("gpu", owner)
        self.host_load: Load = meter.load("host", owner)

    @property
    def spare_gpus(self) -> int:
        """Accelerators in the group's nodes that the owner does not use; they stay idle."""
        return self.nodes * self.node.gpus_per_node - self.gpus

    def phase_power_w(self, phase: PhaseActivity) -> tuple[float, float]:
        """(accelerators, hosts) power [W] of the group with its working GPUs in `phase`."""
        gpu = self.node.gpu
        gpus_w = self.gpus * gpu_power_w(gpu, phase.gpu_activity) + self.spare_gpus * gpu_power_w(gpu, 0.0)
        return gpus_w, self.nodes * host_power_w(self.node, phase.host_utilisation)

    def set_power(self, now_s: float, gpus_w: float, hosts_w: float) -> None:
        self.gpu_load.set_power_w(now_s, gpus_w)
        self.host_load.set_power_w(now_s, hosts_w)

    def set_profiles(self, now_s: float, gpus: ConstantPower | PeriodicPower, hosts: ConstantPower | PeriodicPower) -> None:
        self.gpu_load.set_profile(now_s, gpus)
        self.host_load.set_profile(now_s, hosts)

    def set_phase(self, now_s: float, phase: PhaseActivity) -> None:
        self.set_power(now_s, *self.phase_power_w(phase))


class Cluster:
    """`node_count` nodes of one type; free nodes wait in the idle group, drawing idle power."""

    def __init__(self, env: simpy.Environment, meter: Meter, node: NodeSpec, node_count: int):
        self.env = env
        self.meter = meter
        self.node = node
        self.node_count = node_count
        self.free_nodes = simpy.Container(env, capacity=node_count, init=node_count)
        self.idle = NodeGroup(meter, node, node_count, node_count * node.gpus_per_node, IDLE_OWNER)
        self._refresh_idle()
        # Nodes held by each owner (jobs, services), and who wants to know when that changes.
        self.held: dict[str, int] = {}
        self._holding_listeners: list = []

    def on_holding_change(self, listener) -> None:
        """Call ``listener(owner, nodes_held, now_s)`` whenever an owner's count of held nodes changes
        (shared infrastructure splits its always-on power by nodes held: sim/facility/storage.py)."""
        self._holding_listeners.append(listener)

    def _holding_changed(self, owner: str, delta_nodes: int) -> None:
        self.held[owner] = self.held.get(owner, 0) + delta_nodes
        for listener in self._holding_listeners:
            listener(owner, self.held[owner], self.env.now)

    @property
    def gpu_count(self) -> int:
        return self.node_count * self.node.gpus_per_node

    def nodes_for(self, gpus: int) -> int:
        return -(-gpus // self.node.gpus_per_node)

    def _refresh_idle(self) -> None:
        free = self.free_nodes.level
        self.idle.nodes = free
        self.idle.gpus = free * self.node.gpus_per_node
        self.idle.set_phase(self.env.now, IDLE)

    def request(self, gpus: int) -> simpy.events.Event:
        """An event that fires when enough whole nodes for `gpus` are free (first come, first served)."""
        return self.free_nodes.get(self.nodes_for(gpus))

    def borrow(self, owner: str, nodes: int = 1) -> bool:
        """Take ``nodes`` free nodes at once for ``owner`` if they are free and no request waits before
        (first come, first served); False otherwise. The caller adds them to one of its groups."""
        if self.free_nodes.level < nodes or self.free_nodes.get_queue:
            return False
        self.free_nodes.get(nodes)
        self._refresh_idle()
        self._holding_changed(owner, nodes)
        return True

    def take(self, gpus: int, owner: str, nodes: int | None = None) -> NodeGroup:
        """After `request` fired: the nodes leave the idle group and form the owner's group (of
        ``nodes`` nodes, default the whole nodes that `gpus` need; more when it keeps spares)."""
        self._refresh_idle()
        group = NodeGroup(self.meter, self.node, self.nodes_for(gpus) if nodes is None else nodes, gpus, owner)
        self._holding_changed(owner, group.nodes)
        return group

    def release(self, group: NodeGroup) -> None:
        """The group's nodes go back to the idle pool."""
        group.set_power(self.env.now, 0.0, 0.0)
        self.free_nodes.put(group.nodes)
        self._refresh_idle()
        self._holding_changed(group.owner, -group.nodes)
