"""A continuous-batching replica as a pure state machine that jumps from event to event.

The replica (one model on its GPUs) holds a FIFO waiting queue and a running batch. Its engine runs
in steps ("iterations", Yu et al. 2022, Orca, OSDI) under this scheduling rule, the one of vLLM's
original scheduler (Kwon et al. 2023, SOSP, "Efficient Memory Management for Large Language Model
Serving with PagedAttention"; first-come-first-served, prefill first, no chunked prefill):

1. At every step boundary, admit requests from the head of the queue, in arrival order, while the
   running batch has fewer than `max_batch_size` sequences, the KV cache can hold the head's
   whole sequence (prompt + output tokens, reserved at admission), and the prefill step stays
   within `max_prefill_tokens` (the first admitted request always goes in). The queue is never
   overtaken: if the head does not fit, nobody behind it is admitted.
2. If anything was admitted, run ONE prefill step over the admitted prompts. Decoding of the running
   batch waits meanwhile ("prefill stalls decode"). The end of the prefill is the first token of
   every admitted request (its time to first token).
3. Otherwise run decode steps: every running sequence gets one more token per step. A sequence of
   O output tokens needs O - 1 decode steps after its prefill; it leaves at the end of its last
   step, freeing its KV reservation.
4. Nothing running and nothing admissible: the replica is idle.

Reserving the whole sequence at admission is the conservative reading of PagedAttention: vLLM
allocates KV blocks on demand and preempts a running sequence when they run out; with known
output lengths the reservation never preempts (it may admit fewer sequences than vLLM would).

Between two events the batch is fixed and its contexts grow by one token per sequence per step, so
the duration of n decode steps is a closed-form sum (`DecodeStepLaw.run_time_s`): the replica
plans a "decode run" up to the next completion and crosses it in one step of this object, whatever
its length in tokens. An arrival that can be admitted cuts the run at the step boundary following
it (the step in progress finishes first). A SimPy process therefore needs ONE wake-up per arrival,
per prefill end and per completion, never one per decode step:

    replica = ContinuousBatchingReplica(cost, SchedulerConfig(max_batch_size=256, kv_capacity_tokens=K))
    while True:
        wake = env.timeout(max(replica.next_change_at_s() - env.now, 0))  # skip if infinite
        yield env.any_of([wake, next_arrival])
        advance = replica.advance_to(env.now)      # segments, first tokens, completions up to now
        meter.add(advance.segments)                 # exact: see PhaseSegment
        if next_arrival.triggered: replica.enqueue(request)

A service process that only needs energy uses the lean pair instead: `arrive(request)` and
`process_change()` (one call per change, returning the completions), and `busy_compute_s(t)`, the
replica's busy and tensor-core time up to any instant, from which the energy of any stretch follows.

`advance_to` returns contiguous `PhaseSegment`s (prefill, decode, idle) covering the elapsed time
exactly, each with its tensor-core time, so GPU energy follows exactly from
`sim.physics.inference_power.busy_energy_j(gpu, duration, compute)` (power is linear in compute time). Compute time is
counted step by step (a step in progress pro rata to its elapsed part), so a segment never holds
more compute than time, and a meter that draws each segment's mean power integrates every step's
energy exactly, wherever the driver happens to look. Each completed request carries the busy and
compute time attributed to it: a prefill step is shared in proportion to prompt tokens, a decode
step equally among the sequences in it; the shares add up to the busy time of the replica.
"""

from __future__ import annotations

import heapq
import math
from collections import deque
from dataclasses import dataclass
from typing import NamedTuple, Protocol, Sequence

from sim.physics.roofline import DecodeStepLaw, StepTime

PREFILL = "prefill"
DECODE = "decode"
IDLE = "idle"


class StepCostModel(Protocol):
    """How long engine steps take: `sim.physics.roofline.RooflineStepCost` or `FixedStepCost`."""

    def prefill_cost(self, prompt_tokens: Sequence[int]) -> StepTime: ...

    def decode_step_law(self, batch_size: int) -> DecodeStepLaw: ...


@dataclass(frozen=True)
class FixedStepCost:
    """Steps of fixed duration: a prefill step takes `prefill_s`, a decode step `decode_step_s`,
    whatever the batch and context (e.g. measured latencies, or analytic queueing checks).
    `compute_fraction` of each step is tensor-core time (for the power model)."""

    prefill_s: float
    decode_step_s: float
    compute_fraction: float = 0.0

    def __post_init__(self) -> None:
        if not (self.prefill_s > 0 and self.decode_step_s > 0):
            raise ValueError("fixed step durations must be positive")
        if not 0.0 <= self.compute_fraction <= 1.0:
            raise ValueError("compute fraction must be in [0, 1]")

        object.__setattr__(self, "_prefill", StepTime(self.prefill_s, self.compute_fraction * self.prefill_s,
                                                      self.prefill_s, 0.0))
        object.__setattr__(self, "_law", DecodeStepLaw(self.compute_fraction * self.decode_step_s, 0.0,
                                                       self.decode_step_s, 0.0, 0.0))

    def prefill_cost(self, prompt_tokens: Sequence[int]) -> StepTime:
        return self._prefill

    def decode_step_law(self, batch_size: int) -> DecodeStepLaw:
        return self._law


@dataclass(frozen=True)
class SchedulerConfig:
    """Limits of the continuous-batching scheduler.

    max_batch_size: sequences in the running batch (vLLM's `max_num_seqs`, default 256).
    kv_capacity_tokens: KV-cache tokens of the replica (`ReplicaSpec.kv_capacity_tokens`).
    max_prefill_tokens: prompt tokens in one prefill step (vLLM's `max_num_batched_tokens`);
    None for no limit.
    """

    max_batch_size: int
    kv_capacity_tokens: int
    max_prefill_tokens: int | None = None

    def __post_init__(self) -> None:
        if self.max_batch_size < 1:
            raise ValueError(f"max_batch_size must be >= 1, got {self.max_batch_size}")
        if self.kv_capacity_tokens < 1:
            raise ValueError(f"kv_capacity_tokens must be >= 1, got {self.kv_capacity_tokens}")
        if self.max_prefill_tokens is not None and self.max_prefill_tokens < 1:
            raise ValueError(f"max_prefill_tokens must be >= 1, got {self.max_prefill_tokens}")


class Request(NamedTuple):
    """A request as the replica sees it (an immutable record, cheap to make: one per arrival).

    A request with 0 output tokens ends with its prefill. `enqueue` refuses a request with no
    prompt token or a negative output.
    """

    request_id: int
    arrival_s: float
    prompt_tokens: int
    output_tokens: int

    @property
    def kv_tokens(self) -> int:
        """KV tokens reserved at admission: the whole sequence."""
        return self.prompt_tokens + self.output_tokens


class PhaseSegment(NamedTuple):
    """[start_s, end_s) spent in one phase; `compute_s` of it is tensor-core time [s].

    `sequences` is the number of sequences the phase worked on (prefilled or decoded; 0 when idle).
    """

    start_s: float
    end_s: float
    phase: str
    compute_s: float
    sequences: int

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


class FirstToken(NamedTuple):
    request_id: int
    at_s: float


class CompletedRequest(NamedTuple):
    """A finished request: instants [s] and the replica time attributed to it [s].

    first_token_s is NaN for a request with no output token.
    """

    request_id: int
    arrival_s: float
    admitted_s: float
    first_token_s: float
    finish_s: float
    prompt_tokens: int
    output_tokens: int
    busy_share_s: float
    compute_share_s: float

    @property
    def queueing_delay_s(self) -> float:
        return self.admitted_s - self.arrival_s

    @property
    def time_to_first_token_s(self) -> float:
        return self.first_token_s - self.arrival_s

    @property
    def end_to_end_latency_s(self) -> float:
        return self.finish_s - self.arrival_s

    @property
    def time_per_output_token_s(self) -> float:
        """Mean gap between output tokens after the first (NaN with fewer than 2 tokens)."""
        if self.output_tokens < 2:
            return math.nan
        return (self.finish_s - self.first_token_s) / (self.output_tokens - 1)


@dataclass(frozen=True)
class Advance:
    """What happened on [start_s, end_s): contiguous segments, first tokens, completions."""

    start_s: float
    end_s: float
    segments: tuple[PhaseSegment, ...]
    first_tokens: tuple[FirstToken, ...]
    completions: tuple[CompletedRequest, ...]

    def time_s(self, phase: str) -> float:
        return sum(s.duration_s for s in self.segments if s.phase == phase)

    def compute_s(self, phase: str) -> float:
        return sum(s.compute_s for s in self.segments if s.phase == phase)


class _Sequence:
    """Mutable state of one admitted request.

    While decoding, a sequence does not store its own context or share of time: the replica keeps
    global counters (decode steps done, time per seat) and a sequence remembers their values when
    it joined, so ending a decode run costs O(1) plus O(log b) per finishing sequence.
    """

    __slots__ = ("request", "admitted_s", "first_token_s", "busy_share_s", "compute_share_s",
                 "join_step", "finish_step", "join_busy_per_seat_s", "join_compute_per_seat_s")

    def __init__(self, request: Request, admitted_s: float):
        self.request = request
        self.admitted_s = admitted_s
        self.first_token_s = math.nan
        self.busy_share_s = 0.0
        self.compute_share_s = 0.0
        self.join_step = 0
        self.finish_step = 0
        self.join_busy_per_seat_s = 0.0
        self.join_compute_per_seat_s = 0.0

    def completed(self, finish_s: float) -> CompletedRequest:
        r = self.request
        return CompletedRequest(r.request_id, r.arrival_s, self.admitted_s, self.first_token_s, finish_s,
                                r.prompt_tokens, r.output_tokens, self.busy_share_s, self.compute_share_s)


class _Prefill:
    phase = PREFILL
    __slots__ = ("start_s", "end_s", "cost", "sequences", "size", "compute_total_s", "compute_accounted_s")

    def __init__(self, start_s: float, cost: StepTime, sequences: list[_Sequence]):
        self.start_s = start_s
        self.end_s = start_s + cost.time_s
        self.cost = cost
        self.sequences = sequences
        self.size = len(sequences)
        self.compute_total_s = cost.compute_s
        self.compute_accounted_s = 0.0

    def compute_by_s(self, t_s: float) -> float:
        fraction = (t_s - self.start_s) / (self.end_s - self.start_s)
        return self.compute_total_s * min(max(fraction, 0.0), 1.0)


class _DecodeRun:
    """n decode steps of a fixed batch of `size` sequences whose contexts sum to `context_tokens`."""

    phase = DECODE
    __slots__ = ("start_s", "law", "size", "context_tokens", "compute_accounted_s", "n_steps", "end_s",
                 "_compute_total_s")

    def __init__(self, start_s: float, law: DecodeStepLaw, size: int, context_tokens: int, n_steps: int):
        self.start_s = start_s
        self.law = law
        self.size = size
        self.context_tokens = context_tokens
        self.compute_accounted_s = 0.0
        self.n_steps = n_steps
        self.end_s = start_s + law.run_time_s(context_tokens, size, n_steps)
        self._compute_total_s = None

    @property
    def compute_total_s(self) -> float:
        """Tensor-core time of the whole run (computed when first asked: a run cut early never needs it)."""
        if self._compute_total_s is None:
            self._compute_total_s = self.law.run_compute_s(self.context_tokens, self.size, self.n_steps)
        return self._compute_total_s

    def compute_by_s(self, t_s: float) -> float:
        """Tensor-core time of the run up to t_s, step by step (the step in progress pro rata)."""
        return self.law.compute_by_s(self.context_tokens, self.size, t_s - self.start_s, self.n_steps)

    def cut_after_step_in_progress(self, t_s: float) -> None:
        """End the run at the first step boundary at or after t_s."""
        n, elapsed = self.law.boundary_at_or_after(self.context_tokens, self.size, t_s - self.start_s, self.n_steps)
        if n < self.n_steps:
            self.n_steps = n
            self.end_s = self.start_s + elapsed
            self._compute_total_s = None


class ContinuousBatchingReplica:
    """The state machine described in the module docstring. Times in seconds on any common origin."""

    def __init__(self, cost: StepCostModel, config: SchedulerConfig, start_s: float = 0.0):
        self.cost = cost
        self.config = config
        self._now_s = float(start_s)
        self._waiting: deque[Request] = deque()
        self._kv_reserved_tokens = 0
        self._activity: _Prefill | _DecodeRun | None = None
        # decoding sequences: heap of (finish_step, request_id, sequence)
        self._decoding: list[tuple[int, int, _Sequence]] = []
        self._context_tokens = 0          # summed context of the next decode step
        self._steps_done = 0              # decode steps run so far
        self._busy_per_seat_s = 0.0       # sum over decode runs of run time / batch size
        self._compute_per_seat_s = 0.0
        self._busy_closed_s = 0.0         # busy and tensor-core time of the activities that ended
        self._compute_closed_s = 0.0

    # ---- observation --------------------------------------------------------------------------
    @property
    def now_s(self) -> float:
        return self._now_s

    @property
    def waiting_count(self) -> int:
        return len(self._waiting)

    @property
    def running_count(self) -> int:
        """Sequences holding KV reservations (decoding, or being prefilled)."""
        prefilling = self._activity.size if isinstance(self._activity, _Prefill) else 0
        return len(self._decoding) + prefilling

    @property
    def kv_reserved_tokens(self) -> int:
        return self._kv_reserved_tokens

    @property
    def phase(self) -> str:
        return IDLE if self._activity is None else self._activity.phase

    @property
    def is_idle(self) -> bool:
        return self._activity is None and not self._waiting

    def next_change_at_s(self) -> float:
        """When the current step or decode run ends (math.inf when idle with nothing queued)."""
        return math.inf if self._activity is None else self._activity.end_s

    # ---- input ----------------------------------------------------------------------------------
    def enqueue(self, request: Request) -> None:
        """Add a request arriving now (call `advance_to(request.arrival_s)` first)."""
        if request.arrival_s > self._now_s or request.arrival_s < self._now_s - 1e-9 * max(1.0, abs(self._now_s)):
            raise ValueError(f"request {request.request_id} arrives at {request.arrival_s} s but the replica "
                             f"is at {self._now_s} s: advance to the arrival first")
        self._enqueue_now(request)

    def _enqueue_now(self, request: Request) -> None:
        if request.prompt_tokens < 1 or request.output_tokens < 0:
            raise ValueError(f"request {request.request_id}: need >= 1 prompt token and >= 0 output tokens")
        if request.prompt_tokens + request.output_tokens > self.config.kv_capacity_tokens:
            raise ValueError(f"request {request.request_id} needs {request.kv_tokens} KV tokens; the replica "
                             f"holds {self.config.kv_capacity_tokens}")
        self._waiting.append(request)
        if self._activity is None:
            self._start_next()
        elif isinstance(self._activity, _DecodeRun) and self._head_admissible():
            run = self._activity
            run.cut_after_step_in_progress(self._now_s)
            if run.end_s <= self._now_s:  # exactly at a step boundary: admit now
                self._activity = None
                self._close(run)
                self._finish_decode(run, [])
                self._start_next()

    # ---- time -----------------------------------------------------------------------------------
    def advance_to(self, t_s: float) -> Advance:
        """Run the replica up to `t_s` and report what happened since the previous call."""
        if t_s < self._now_s:
            raise ValueError(f"cannot go back from {self._now_s} s to {t_s} s")
        start = self._now_s
        segments: list[PhaseSegment] = []
        first_tokens: list[FirstToken] = []
        completions: list[CompletedRequest] = []
        while True:
            activity = self._activity
            if activity is None:
                if t_s > self._now_s:
                    segments.append(PhaseSegment(self._now_s, t_s, IDLE, 0.0, 0))
                self._now_s = t_s
                break
            if activity.end_s <= t_s:
                self._emit(segments, activity, activity.end_s, activity.compute_total_s)
                self._now_s = activity.end_s
                self._activity = None
                self._close(activity)
                if isinstance(activity, _Prefill):
                    self._finish_prefill(activity, first_tokens, completions)
                else:
                    self._finish_decode(activity, completions)
                self._start_next()
                continue
            self._emit(segments, activity, t_s, activity.compute_by_s(t_s))
            self._now_s = t_s
            break
        return Advance(start, self._now_s, tuple(segments), tuple(first_tokens), tuple(completions))

    def run_until_idle(self, max_changes: int = 10_000_000) -> Advance:
        """Advance change by change until nothing is running or queued; one Advance for all of it."""
        start = self._now_s
        segments, first_tokens, completions = [], [], []
        for _ in range(max_changes):
            if self.is_idle:
                break
            step = self.advance_to(self.next_change_at_s())
            segments += step.segments
            first_tokens += step.first_tokens
            completions += step.completions
        else:
            raise RuntimeError(f"replica not idle after {max_changes} changes")
        return Advance(start, self._now_s, tuple(segments), tuple(first_tokens), tuple(completions))

    def busy_compute_s(self, t_s: float) -> tuple[float, float]:
        """(busy, tensor-core) time [s] of the replica from its start up to `t_s`.

        `t_s` may lie anywhere up to the next change (the activity in progress counts step by step,
        the step in progress pro rata): the energy of any stretch follows exactly from two calls.
        """
        activity = self._activity
        if activity is None:
            return self._busy_closed_s, self._compute_closed_s
        if t_s > activity.end_s or t_s < activity.start_s:
            raise ValueError(f"{t_s} s lies outside the activity in progress [{activity.start_s}, {activity.end_s}]")
        return self._busy_closed_s + (t_s - activity.start_s), self._compute_closed_s + activity.compute_by_s(t_s)

    # ---- lean driver (a service process; no segments) ---------------------------------------------
    # Use either advance_to (segments, for analysis and tests) or arrive/process_change (a driver that
    # asks busy_compute_s for energy), not both on one replica.
    def arrive(self, request: Request) -> None:
        """Move the clock to the request's arrival (no change may be due before it) and enqueue it."""
        t_s = request.arrival_s
        activity = self._activity
        if activity is not None and activity.end_s < t_s:
            raise ValueError(f"a change is due at {activity.end_s} s, before the arrival at {t_s} s")
        if t_s < self._now_s:
            raise ValueError(f"request {request.request_id} arrives at {t_s} s, before the replica's {self._now_s} s")
        self._now_s = t_s
        self._enqueue_now(request)

    def process_change(self) -> list[CompletedRequest]:
        """Finish the activity ending at `next_change_at_s()`, start the next one; the completions."""
        activity = self._activity
        if activity is None:
            raise ValueError("nothing is running: no change is due")
        completions: list[CompletedRequest] = []
        self._now_s = activity.end_s
        self._activity = None
        self._busy_closed_s += activity.end_s - activity.start_s
        self._compute_closed_s += activity.compute_total_s
        if activity.phase is PREFILL:
            self._finish_prefill(activity, None, completions)
        else:
            self._finish_decode(activity, completions)
        self._start_next()
        return completions

    # ---- internals --------------------------------------------------------------------------------
    def _close(self, activity) -> None:
        self._busy_closed_s += activity.end_s - activity.start_s
        self._compute_closed_s += activity.compute_total_s
    def _emit(self, segments: list[PhaseSegment], activity, until_s: float, compute_until_s: float) -> None:
        """Append the part of `activity` from now to `until_s`, with its tensor-core time."""
        compute = max(compute_until_s - activity.compute_accounted_s, 0.0)
        activity.compute_accounted_s = compute_until_s
        if until_s > self._now_s:
            segments.append(PhaseSegment(self._now_s, until_s, activity.phase, compute, activity.size))

    def _head_admissible(self, prefill_tokens: int = 0, admitted: int = 0) -> bool:
        if not self._waiting:
            return False
        head = self._waiting[0]
        cfg = self.config
        if len(self._decoding) + admitted >= cfg.max_batch_size:
            return False
        if self._kv_reserved_tokens + head.kv_tokens > cfg.kv_capacity_tokens:
            return False
        if admitted and cfg.max_prefill_tokens is not None and prefill_tokens + head.prompt_tokens > cfg.max_prefill_tokens:
            return False
        return True

    def _start_next(self) -> None:
        """At a step boundary: admit and prefill, else decode, else idle (the rule of _head_admissible)."""
        now = self._now_s
        waiting = self._waiting
        if waiting:
            cfg = self.config
            seats = cfg.max_batch_size - len(self._decoding)
            kv_free = cfg.kv_capacity_tokens - self._kv_reserved_tokens
            budget = cfg.max_prefill_tokens
            admitted: list[_Sequence] = []
            prompts: list[int] = []
            prefill_tokens = 0
            while waiting and seats > 0:
                head = waiting[0]
                kv = head.prompt_tokens + head.output_tokens
                if kv > kv_free or (admitted and budget is not None and prefill_tokens + head.prompt_tokens > budget):
                    break
                waiting.popleft()
                seats -= 1
                kv_free -= kv
                prefill_tokens += head.prompt_tokens
                prompts.append(head.prompt_tokens)
                admitted.append(_Sequence(head, now))
            if admitted:
                self._kv_reserved_tokens = cfg.kv_capacity_tokens - kv_free
                self._activity = _Prefill(now, self.cost.prefill_cost(prompts), admitted)
                return
        decoding = self._decoding
        if decoding:
            size = len(decoding)
            n_steps = decoding[0][0] - self._steps_done
            self._activity = _DecodeRun(now, self.cost.decode_step_law(size), size, self._context_tokens, n_steps)
        else:
            self._activity = None

    def _release(self, sequence: _Sequence, finish_s: float, completions: list[CompletedRequest]) -> None:
        self._kv_reserved_tokens -= sequence.request.kv_tokens
        completions.append(sequence.completed(finish_s))

    def _finish_prefill(self, prefill: _Prefill, first_tokens: list[FirstToken] | None,
                        completions: list[CompletedRequest]) -> None:
        total_prompt = sum(s.request.prompt_tokens for s in prefill.sequences)
        for s in prefill.sequences:
            request = s.request
            share = request.prompt_tokens / total_prompt
            s.busy_share_s += share * prefill.cost.time_s
            s.compute_share_s += share * prefill.cost.compute_s
            if request.output_tokens >= 1:
                s.first_token_s = prefill.end_s
                if first_tokens is not None:
                    first_tokens.append(FirstToken(request.request_id, prefill.end_s))
            if request.output_tokens <= 1:
                self._release(s, prefill.end_s, completions)
                continue
            s.join_step = self._steps_done
            s.finish_step = self._steps_done + request.output_tokens - 1
            s.join_busy_per_seat_s = self._busy_per_seat_s
            s.join_compute_per_seat_s = self._compute_per_seat_s
            self._context_tokens += request.prompt_tokens + 1
            heapq.heappush(self._decoding, (s.finish_step, request.request_id, s))

    def _finish_decode(self, run: _DecodeRun, completions: list[CompletedRequest]) -> None:
        if run.n_steps > 0:
            self._steps_done += run.n_steps
            self._context_tokens += run.size * run.n_steps
            self._busy_per_seat_s += (run.end_s - run.start_s) / run.size
            self._compute_per_seat_s += run.compute_total_s / run.size
        while self._decoding and self._decoding[0][0] == self._steps_done:
            _, _, s = heapq.heappop(self._decoding)
            request = s.request
            s.busy_share_s += self._busy_per_seat_s - s.join_busy_per_seat_s
            s.compute_share_s += self._compute_per_seat_s - s.join_compute_per_seat_s
            self._context_tokens -= request.prompt_tokens + request.output_tokens
            self._release(s, run.end_s, completions)
