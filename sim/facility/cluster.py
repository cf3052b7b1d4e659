"""The GPU cluster: identical nodes held in groups by state, never one object per GPU.

Idle nodes form one group owned by the idle pool (with two more for sleeping and waking nodes when an
idle policy powers nodes down); each allocation is one group owned by its job. Changing the state of
10,000 GPUs is one change of one group's power, so the cost of a run follows the number of state
changes, not the number of GPUs.

Who gets nodes, and when, is decided by policies (sim/policies/): a job asks with `request(gpus,
ticket)`; a shifting policy may hold a deferrable ticket back first; the scheduling policy chooses which
waiting tickets start whenever something changes (a submission, nodes given back); a power policy may
hold a ticket back and sets the GPU power cap that running jobs follow; an idle policy puts nodes to
sleep, and sleeping nodes given to a job wake first. Requests without a ticket (inference services
placing their replicas) come before every job. Nodes are counted, not queued in a SimPy Container.
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections import deque

import simpy

from sim.catalog.hardware import NodeSpec
from sim.engine.meter import Load, Meter
from sim.engine.profiles import ConstantPower, PeriodicPower
from sim.facility.shifting import ShiftController
from sim.facility.tickets import Ticket
from sim.physics.power import IDLE, PhaseActivity, gpu_power_w, host_power_w

IDLE_OWNER = "idle"

_REQUEST_NUMBERS = itertools.count()


class NodeGroup:
    """`nodes` whole nodes owned by `owner`, of which `gpus` accelerators do the owner's work."""

    def __init__(self, meter: Meter, node: NodeSpec, nodes: int, gpus: int, owner: str):
        self.node = node
        self.nodes = nodes
        self.gpus = gpus
        self.owner = owner
        self.gpu_load: Load = meter.load("gpu", owner)
        self.host_load: Load = meter.load("host", owner)
        # told (group, instant [s], mean IT power [W]) at every change, when the cluster traces the owner
        self.tracer = None

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
        self.gpu_load.meter.set_constants(now_s, ((self.gpu_load, gpus_w), (self.host_load, hosts_w)))
        if self.tracer is not None:
            self.tracer(self, now_s, gpus_w + hosts_w)

    def set_profiles(self, now_s: float, gpus: ConstantPower | PeriodicPower, hosts: ConstantPower | PeriodicPower,
                     others: list[tuple[Load, ConstantPower | PeriodicPower]] | tuple = ()) -> None:
        """The accelerators' and hosts' profiles from `now_s`, and the owner's `others` (load, profile) at the
        same instant: one change of the meter for all of them (`Meter.change_many`)."""
        self.gpu_load.meter.change_many(now_s, ((self.gpu_load, gpus), (self.host_load, hosts), *others))
        if self.tracer is not None:
            self.tracer(self, now_s, gpus.mean_power_w + hosts.mean_power_w)

    def set_phase(self, now_s: float, phase: PhaseActivity) -> None:
        self.set_power(now_s, *self.phase_power_w(phase))


def _default_policies():
    from sim.config.policies import PoliciesSection
    from sim.policies.registry import build_policies

    return build_policies(PoliciesSection(), None)


class Cluster:
    """`node_count` nodes of one type; free nodes wait in the idle group, drawing idle power (or asleep)."""

    def __init__(self, env: simpy.Environment, meter: Meter, node: NodeSpec, node_count: int, policies=None):
        self.env = env
        self.meter = meter
        self.node = node
        self.node_count = node_count
        self.policies = policies if policies is not None else _default_policies()
        self.awake_free = node_count
        self.asleep = 0
        self.waking = 0
        self.waiting: list[Ticket] = []
        self.running: dict[int, Ticket] = {}
        self._by_owner: dict[str, Ticket] = {}
        self.untracked_nodes = 0  # held by requests without a ticket (services)
        # per job: (instant [s], IT power of all its groups [W]) at every change, for its run-now credit
        self.traces: dict[str, list[tuple[float, float]]] = {}
        self._group_power: dict[str, dict[int, float]] = {}
        # Nodes held by each owner (jobs, services), and who wants to know when that changes.
        self.held: dict[str, int] = {}
        self._holding_listeners: list = []
        self.shift = ShiftController(env, self.policies.shifting, self._enqueue)
        self.sleep_after_s = self.policies.idle.sleep_after_s()
        self.sleep_model = self.policies.idle.sleep_model(node)
        self._idle_batches: deque[list[float]] = deque()
        self.gpu_cap_w: float | None = None
        self.idle = NodeGroup(meter, node, node_count, node_count * node.gpus_per_node, IDLE_OWNER)
        self.sleeping_group: NodeGroup | None = None
        self.waking_group: NodeGroup | None = None
        if self.sleep_after_s is not None:
            self.sleeping_group = NodeGroup(meter, node, 0, 0, IDLE_OWNER)
            self.waking_group = NodeGroup(meter, node, 0, 0, IDLE_OWNER)
            self._add_idle_batch(node_count)
        self._refresh_idle()
        self._apply_power()

    # ------------------------------------------------------------------ sizes
    @property
    def gpu_count(self) -> int:
        return self.node_count * self.node.gpus_per_node

    @property
    def free_nodes(self) -> int:
        """Nodes no job holds: awake idle ones and sleeping ones (which wake when given to a job)."""
        return self.awake_free + self.asleep

    def nodes_for(self, gpus: int) -> int:
        return -(-gpus // self.node.gpus_per_node)

    # ------------------------------------------------------------------ idle, asleep, waking
    def _refresh_idle(self) -> None:
        now = self.env.now
        self.idle.nodes = self.awake_free
        self.idle.gpus = self.awake_free * self.node.gpus_per_node
        self.idle.set_phase(now, IDLE)
        if self.sleeping_group is not None:
            self._set_node_power(self.sleeping_group, self.asleep, self.sleep_model.sleep_w)
            self._set_node_power(self.waking_group, self.waking, self.sleep_model.wake_w)

    def _set_node_power(self, group: NodeGroup, nodes: int, node_w: float) -> None:
        """`nodes` nodes drawing `node_w` each, split between GPUs and host as an idle node's draw is."""
        group.nodes, group.gpus = nodes, 0
        idle_w = self.node.idle_power_w
        gpu_share = self.node.gpus_per_node * self.node.gpu.idle_w / idle_w if idle_w > 0 else 0.0
        group.set_power(self.env.now, nodes * node_w * gpu_share, nodes * node_w * (1.0 - gpu_share))

    def _add_idle_batch(self, nodes: int) -> None:
        if self.sleep_after_s is None or nodes <= 0:
            return
        batch = [self.env.now, nodes]
        self._idle_batches.append(batch)
        self.env.process(self._sleep_later(batch))

    def _sleep_later(self, batch: list[float]):
        yield self.env.timeout(self.sleep_after_s)
        nodes = int(batch[1])
        if nodes > 0:
            batch[1] = 0
            self.awake_free -= nodes
            self.asleep += nodes
            self._refresh_idle()
        try:
            self._idle_batches.remove(batch)
        except ValueError:
            pass

    def _take_awake(self, nodes: int) -> None:
        """Remove `nodes` awake idle nodes, the most recently idle first (older ones are closer to sleep)."""
        self.awake_free -= nodes
        while nodes > 0 and self._idle_batches:
            batch = self._idle_batches[-1]
            k = min(int(batch[1]), nodes)
            batch[1] -= k
            nodes -= k
            if batch[1] <= 0:
                self._idle_batches.pop()

    def _wake(self, ticket: Ticket, nodes: int):
        yield self.env.timeout(self.sleep_model.wake_s)
        self.waking -= nodes
        self._refresh_idle()
        self._start(ticket)

    # ------------------------------------------------------------------ requests
    def request(self, gpus: int, ticket: Ticket | None = None) -> simpy.events.Event:
        """An event that fires when the policies give the request its nodes (whole nodes for `gpus`).

        Without a ticket the request is served before every job, in the order asked (inference services).
        """
        nodes = self.nodes_for(gpus)
        if nodes > self.node_count:
            from sim.errors import ScenarioError

            raise ScenarioError(f"{ticket.name if ticket else 'a request'}: {gpus} GPUs need {nodes} nodes; the "
                                f"cluster has {self.node_count} (cluster.nodes)")
        first = True
        if ticket is None:
            ticket = Ticket(name=f"request-{next(_REQUEST_NUMBERS)}", gpus=gpus, nodes=nodes,
                            submitted_at_s=self.env.now, priority=0, kind="untracked")
        else:
            first = ticket.queued_at_s is None
            ticket.nodes = nodes
        ticket.granted = self.env.event()
        if first and ticket.deferrable and self.shift.active:
            self.env.process(self.shift.hold(ticket))
        else:
            self._enqueue(ticket)
        return ticket.granted

    def _enqueue(self, ticket: Ticket) -> None:
        if ticket.queued_at_s is None:
            ticket.queued_at_s = self.env.now
        keys = [t.order_key() for t in self.waiting]
        self.waiting.insert(bisect.bisect_right(keys, ticket.order_key()), ticket)
        self._dispatch()

    def dispatch(self) -> None:
        """Ask the policies again (after a change they cannot see: a new cap, a clock change)."""
        self._dispatch()

    def _dispatch(self) -> None:
        if not self.waiting:
            return
        now = self.env.now
        running = list(self.running.values())
        power = self.policies.power
        view = self._power_view_if_read()
        chosen = self.policies.scheduling.select(now, list(self.waiting), self.free_nodes, running,
                                                 lambda t: power.admits(t, view))
        granted = False
        for ticket in chosen:
            if ticket.nodes > self.free_nodes or not power.admits(ticket, self._power_view_if_read()):
                continue
            self._grant(ticket)
            granted = True
        if granted:
            self._apply_power()

    def _grant(self, ticket: Ticket) -> None:
        self.waiting.remove(ticket)
        from_awake = min(ticket.nodes, self.awake_free)
        from_asleep = ticket.nodes - from_awake
        self._take_awake(from_awake)
        self.asleep -= from_asleep
        ticket.held_nodes = ticket.nodes
        ticket.expected_end_s = self.env.now + self.sleep_model.wake_s * (from_asleep > 0) + ticket.remaining_s()
        if ticket.priority == 0 and ticket.kind == "untracked":
            self.untracked_nodes += ticket.nodes
        else:
            self.running[ticket.seq] = ticket
            self._by_owner[ticket.name] = ticket
        if from_asleep > 0:
            self.waking += from_asleep
            self._refresh_idle()
            self.env.process(self._wake(ticket, from_asleep))
        else:
            self._refresh_idle()
            self._start(ticket)

    def _start(self, ticket: Ticket) -> None:
        now = self.env.now
        if ticket.started_at_s is None:
            ticket.started_at_s = now
        ticket.last_start_s = now
        ticket.expected_end_s = now + ticket.remaining_s()
        ticket.granted.succeed()

    def take(self, gpus: int, owner: str, nodes: int | None = None) -> NodeGroup:
        """After `request` fired: the nodes (already counted out of the idle pool) form the owner's group
        (of `nodes` nodes, default the whole nodes that `gpus` need; more when it keeps spares)."""
        group = NodeGroup(self.meter, self.node, self.nodes_for(gpus) if nodes is None else nodes, gpus, owner)
        if owner in self._by_owner:  # jobs are traced for their run-now credit; services are not
            group.tracer = self._trace
        self._refresh_idle()
        self._holding_changed(owner, group.nodes)
        return group

    def _trace(self, group: NodeGroup, now_s: float, power_w: float) -> None:
        powers = self._group_power.setdefault(group.owner, {})
        powers[id(group)] = power_w
        self.traces.setdefault(group.owner, []).append((now_s, sum(powers.values())))

    def borrow(self, owner: str, nodes: int = 1) -> bool:
        """Take `nodes` awake idle nodes at once for `owner` if they are free and no request waits (the
        queue's order is kept); False otherwise. The caller adds them to one of its groups."""
        if self.awake_free < nodes or self.waiting:
            return False
        self._take_awake(nodes)
        ticket = self._by_owner.get(owner)
        if ticket is not None and ticket.seq in self.running:
            ticket.held_nodes += nodes
        else:
            self.untracked_nodes += nodes
        self._refresh_idle()
        self._holding_changed(owner, nodes)
        self._apply_power()
        return True

    def on_holding_change(self, listener) -> None:
        """Call `listener(owner, nodes_held, now_s)` whenever an owner's count of held nodes changes
        (shared infrastructure splits its always-on power by nodes held)."""
        self._holding_listeners.append(listener)

    def _holding_changed(self, owner: str, delta_nodes: int) -> None:
        self.held[owner] = self.held.get(owner, 0) + delta_nodes
        for listener in self._holding_listeners:
            listener(owner, self.held[owner], self.env.now)

    def release(self, group: NodeGroup) -> None:
        """The group's nodes go back to the idle pool; the policies look at the queue again."""
        group.set_power(self.env.now, 0.0, 0.0)
        self.awake_free += group.nodes
        self._add_idle_batch(group.nodes)
        ticket = self._by_owner.get(group.owner)
        if ticket is not None and ticket.seq in self.running:
            ticket.held_nodes -= group.nodes
            if ticket.held_nodes <= 0:
                ticket.held_nodes = 0
                ticket.expected_end_s = math.inf
                del self.running[ticket.seq]
        elif ticket is None:
            self.untracked_nodes = max(self.untracked_nodes - group.nodes, 0)
        self._refresh_idle()
        self._holding_changed(group.owner, -group.nodes)
        self._apply_power()
        self._dispatch()

    # ------------------------------------------------------------------ power policy
    def power_view(self):
        from sim.policies.power.base import PowerView

        node, model = self.node, self.sleep_model
        other_w = (self.awake_free * node.idle_power_w + self.asleep * model.sleep_w + self.waking * model.wake_w
                   + self.untracked_nodes * node.max_power_w)
        capped = []
        for ticket in self.running.values():
            if ticket.it_power_at_cap_w is None:
                other_w += ticket.held_nodes * node.max_power_w
            else:
                capped.append(ticket)
        return PowerView(other_it_w=other_w, running=capped, gpu_tdp_w=node.gpu.tdp_w,
                         gpu_idle_w=node.gpu.idle_w, node_idle_w=node.idle_power_w)

    def _power_view_if_read(self):
        """The power view for the power policy, or None for a policy that does not read it (`reads_view`)."""
        return self.power_view() if getattr(self.policies.power, "reads_view", True) else None

    def _apply_power(self) -> None:
        cap_w = self.policies.power.cap_w(self._power_view_if_read())
        if cap_w == self.gpu_cap_w:
            return
        self.gpu_cap_w = cap_w
        for ticket in list(self.running.values()):
            job = ticket.job
            if job is not None and hasattr(job, "on_gpu_cap_changed"):
                job.on_gpu_cap_changed(cap_w)
