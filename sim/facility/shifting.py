"""The shift controller: carries out a temporal-shifting policy over simulated time.

For a deferrable ticket (slack > 0) it holds the job out of the queue while the policy says no; for an
interruptible job it also suspends the running job when the policy says no and resumes it when it says
yes. It overrides the policy whenever waiting longer would miss the deadline: a job may always run once
`now >= deadline - remaining run time` (at the current clock). It wakes only at the instants the policy
names (steps of the carbon signal, or the boundaries of a plan), so a job costs O(reviews) events.

The job object of an interruptible ticket provides `running`, `finished`, `done` (a SimPy event),
`suspend()` and `resume()`.
"""

from __future__ import annotations

import math

import simpy

from sim.facility.tickets import Ticket

# Never wait less than this between reviews (guards against a policy naming `now` again).
_MIN_WAIT_S = 1e-6


class ShiftController:
    def __init__(self, env: simpy.Environment, policy, enqueue):
        self.env = env
        self.policy = policy
        self.enqueue = enqueue
        self.active = getattr(policy, "name", "run_now") != "run_now"

    def forced(self, ticket: Ticket) -> bool:
        """Whether waiting any longer would miss the deadline."""
        return self.env.now >= ticket.latest_start_s() - 1e-9

    def may_run(self, ticket: Ticket) -> bool:
        return self.forced(ticket) or self.policy.should_run(ticket, self.env.now)

    def _wait_s(self, ticket: Ticket) -> float:
        review_s = min(self.policy.next_review_s(ticket, self.env.now), ticket.latest_start_s())
        return max(review_s - self.env.now, _MIN_WAIT_S)

    def hold(self, ticket: Ticket):
        """SimPy process: keep a newly submitted deferrable ticket back until it may run, then queue it."""
        env = self.env
        held_from_s = env.now
        self.policy.on_submit(ticket, env.now)
        while not self.may_run(ticket):
            yield env.timeout(self._wait_s(ticket))
        ticket.deferred_s += env.now - held_from_s
        self.enqueue(ticket)
        if ticket.interruptible and ticket.job is not None:
            env.process(self.watch(ticket))

    def watch(self, ticket: Ticket):
        """SimPy process: suspend an interruptible job when the policy says no, resume it when it says yes."""
        env, job = self.env, ticket.job
        while not job.finished:
            review_s = self.policy.next_review_s(ticket, env.now)
            if math.isinf(review_s):
                return
            yield env.timeout(max(review_s - env.now, _MIN_WAIT_S)) | job.done
            if job.finished:
                return
            if not job.running or self.may_run(ticket):
                continue
            job.suspend()
            while not self.may_run(ticket):
                yield env.timeout(self._wait_s(ticket))
            job.resume()
