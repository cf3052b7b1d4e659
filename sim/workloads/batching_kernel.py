"""The request-level service's replicas and router, compiled: what `sim.workloads.batching` and the
service's run-ahead do, on numpy arrays, in one numba function per stretch of a run.

What it buys. The Python state machine (`ContinuousBatchingReplica` driven by
`InferenceService._run_ahead`) costs some 30 us of interpreter time per request: its arrival and about 2.5
replica changes (a prefill step ends, a run of decode steps ends), each with its closed-form sums. Compiled,
the same steps cost about 1 us a request, so the day of scenarios/chat-70b.toml (260,000 requests) runs in
1.5 s instead of 10, and request-level runs reach the simulated-requests-per-second aim of issue 4
(benchmarks/inference_speed.py: 0.54 of SimPy's raw event rate, against 0.044 for the Python classes).

What it is. The same arithmetic, statement by statement and in the same order, as
`sim.workloads.batching` (admission, prefill sharing, decode runs, cutting a run at the step boundary
where the head of the queue fits), `sim.physics.roofline` (`RooflineStepCost.prefill_cost` and the
closed-form sums of `DecodeStepLaw`) and the three routers of `sim.policies.routing`, so a run gives
the same numbers bit for bit as the Python path (tests/test_batching_kernel.py runs both on random
services and compares every request). The Python classes stay the reference, and serve what this does
not: autoscaling, and routers or step costs added later.

Layout. A replica's scalars are rows of `ri` (ints) and `rf` (floats), indexed by the constants below.
A request in flight lives in a slot (`si`, `sf`; free slots on a stack); a replica's queue is a linked
list of slots, its decoding sequences a binary heap on (finish step, request id) in `dec`, the
sequences of its prefill step in `pre`. Completions and rejections go to output buffers the Python side
drains. The next change is the earliest replica end (a scan: the first replica wins a tie, as the
(time, replica) heap of the Python path pops it).
"""

from __future__ import annotations

import math
from pathlib import Path

import numba
import numpy as np

# replica ints (ri columns)
KIND, SIZE, CTX, NSTEPS, KV, CONTEXT, STEPS, WHEAD, WTAIL, WCOUNT, DLEN = range(11)
N_RI = 11
# replica floats (rf columns)
(NOW_S, START_S, END_S, COMPUTE_TOTAL_S, PREFILL_TIME_S, BUSY_PER_SEAT_S, COMPUTE_PER_SEAT_S, BUSY_CLOSED_S,
 COMPUTE_CLOSED_S) = range(9)
N_RF = 9
# activity kinds
IDLE, PREFILL, DECODE = 0, 1, 2
# slot ints (si) and floats (sf)
S_ID, S_PROMPT, S_OUTPUT, S_NEXT, S_JOIN_STEP = range(5)
N_SI = 5
(S_ARRIVAL_S, S_ADMITTED_S, S_FIRST_TOKEN_S, S_BUSY_SHARE_S, S_COMPUTE_SHARE_S, S_JOIN_BUSY_S,
 S_JOIN_COMPUTE_S) = range(7)
N_SF = 7
# decoding heap entries (dec[r, j, :])
D_STEP, D_ID, D_SLOT = range(3)
# completions: ci columns (ints), cf columns (floats)
C_ID, C_REPLICA, C_PROMPT, C_OUTPUT = range(4)
C_ARRIVAL_S, C_ADMITTED_S, C_FIRST_TOKEN_S, C_FINISH_S, C_BUSY_SHARE_S, C_COMPUTE_SHARE_S = range(6)
# service ints (sv)
SV_RR, SV_OUTSTANDING, SV_NFREE, SV_NCOMP, SV_NREJ, SV_CHANGES, SV_NACTIVE = range(7)
N_SV = 7
# service floats (svf): requests in flight x s up to SVF_IN_FLIGHT_T_S (autoscaling's concurrency metric)
SVF_IN_FLIGHT_REQUEST_S, SVF_IN_FLIGHT_T_S = range(2)
N_SVF = 2
# configuration ints (cfg)
(CFG_MAX_BATCH, CFG_KV_CAP_TOKENS, CFG_MAX_PREFILL_TOKENS, CFG_ROUTER, CFG_PREFILL_KIND, CFG_N_GPUS, CFG_HIDDEN,
 CFG_LAYERS, CFG_SCALER) = range(9)
N_CFG = 9
ROUTER_ROUND_ROBIN, ROUTER_JSQ, ROUTER_LEAST_TOKENS = range(3)
ROUTERS = {"round_robin": ROUTER_ROUND_ROBIN, "join_shortest_queue": ROUTER_JSQ,
           "least_outstanding_tokens": ROUTER_LEAST_TOKENS}
PREFILL_FIXED, PREFILL_DENSE, PREFILL_MOE = range(3)
# prefill constants (pp)
(P_FIXED_TIME_S, P_FIXED_COMPUTE_S, P_PER_TOKEN_S, P_PER_POSITION_S, P_DENSE_WEIGHTS_S, P_MOE_BASE_PARAMS,
 P_MOE_EXPERT_PARAMS, P_MOE_MISS, P_BYTES_PER_ELEMENT, P_HBM_BYTES_PER_S, P_KV_WRITE_S_PER_TOKEN, P_ACTIVATION_BYTES,
 P_ALLREDUCE_LATENCY_S, P_BUS_BYTES_PER_S) = range(14)
N_PP = 14
# decode law table columns (law[batch, :] for a batch of b)
L_COMPUTE_FIXED_S, L_COMPUTE_PER_TOKEN_S, L_MEMORY_FIXED_S, L_MEMORY_PER_TOKEN_S, L_COMMUNICATION_S = range(5)
# run_ahead statuses
STOPPED, NEED_CHUNK, DONE, NEED_SLOTS, NEED_ROOM, BAD_REQUEST, KV_TOO_BIG, NO_REPLICA = range(8)

# error_model="numpy": no zero-division checks (no division here has a zero divisor in a valid run); no fastmath:
# IEEE arithmetic in the order written, as in Python. _nrt=False: no reference counting of the arrays, which the
# caller holds for the whole call and nothing here allocates (it halves the time per event). Constants passed as
# arguments are typed (np.int64(0), np.bool_(True)): a literal one would compile its callee once more per value,
# and the first compilation takes 7 s instead of 11.
_jit = numba.njit(cache=True, nogil=True, error_model="numpy", _nrt=False)


@_jit
def _max(a, b):
    """Python's max(a, b): a unless b is greater."""
    return b if b > a else a


@_jit
def _min(a, b):
    """Python's min(a, b): a unless b is smaller."""
    return b if b < a else a


# ---- DecodeStepLaw, as functions of its five coefficients (same statements as sim/physics/roofline.py)
@_jit
def _split(pc, qc, pm, qm, n_steps):
    dp, dq = pc - pm, qc - qm
    if dq == 0.0:
        return n_steps, dp >= 0.0
    root = _min(_max(-dp / dq, -1.0), n_steps + 1.0)
    if dq > 0:
        return _min(_max(int(math.ceil(root)), 0), n_steps), False
    return _min(_max(int(math.floor(root)) + 1, 0), n_steps), True


@_jit
def _lines(law, batch, context_tokens, growth_per_step):
    """Compute and memory time of step k as p + q k (DecodeStepLaw._lines), and the communication time."""
    ct, mt = law[batch, L_COMPUTE_PER_TOKEN_S], law[batch, L_MEMORY_PER_TOKEN_S]
    pc = law[batch, L_COMPUTE_FIXED_S] + ct * context_tokens
    qc = ct * growth_per_step
    pm = law[batch, L_MEMORY_FIXED_S] + mt * context_tokens
    qm = mt * growth_per_step
    return pc, qc, pm, qm, law[batch, L_COMMUNICATION_S]


@_jit
def run_time_s(law, batch, context_tokens, growth_per_step, n_steps):
    if n_steps <= 0:
        return 0.0
    pc, qc, pm, qm, comm = _lines(law, batch, context_tokens, growth_per_step)
    last = n_steps - 1
    if pc <= pm and pc + qc * last <= pm + qm * last:
        return n_steps * pm + qm * n_steps * last / 2.0 + n_steps * comm
    if pc >= pm and pc + qc * last >= pm + qm * last:
        return n_steps * pc + qc * n_steps * last / 2.0 + n_steps * comm
    s, compute_first = _split(pc, qc, pm, qm, n_steps)
    if compute_first:
        p1, q1, p2, q2 = pc, qc, pm, qm
    else:
        p1, q1, p2, q2 = pm, qm, pc, qc
    rest = n_steps - s
    return (s * p1 + q1 * s * (s - 1) / 2.0 + rest * p2 + q2 * rest * (s + n_steps - 1) / 2.0
            + n_steps * comm)


@_jit
def run_compute_s(law, batch, context_tokens, growth_per_step, n_steps):
    n = _max(n_steps, 0)
    if n <= 0:
        return 0.0
    pc = law[batch, L_COMPUTE_FIXED_S] + law[batch, L_COMPUTE_PER_TOKEN_S] * context_tokens
    qc = law[batch, L_COMPUTE_PER_TOKEN_S] * growth_per_step
    return n * pc + qc * n * (0 + n - 1) / 2.0


@_jit
def steps_within(law, batch, context_tokens, growth_per_step, duration_s, max_steps):
    if max_steps <= 0 or duration_s < run_time_s(law, batch, context_tokens, growth_per_step, np.int64(1)):
        return 0
    pc, qc, pm, qm, comm = _lines(law, batch, context_tokens, growth_per_step)
    last = max_steps - 1
    if pc <= pm and pc + qc * last <= pm + qm * last:
        p, q, offset, remaining = pm, qm, 0, duration_s
    elif pc >= pm and pc + qc * last >= pm + qm * last:
        p, q, offset, remaining = pc, qc, 0, duration_s
    else:
        s, compute_first = _split(pc, qc, pm, qm, max_steps)
        if compute_first:
            p1, q1, p2, q2 = pc, qc, pm, qm
        else:
            p1, q1, p2, q2 = pm, qm, pc, qc
        time_at_split = run_time_s(law, batch, context_tokens, growth_per_step, s)
        if duration_s < time_at_split:
            p, q, offset, remaining = p1, q1, 0, duration_s
        else:
            p, q, offset, remaining = p2 + q2 * s, q2, s, duration_s - time_at_split
    a, b = q / 2.0, p + comm - q / 2.0
    denominator = b + math.sqrt(_max(b * b + 4.0 * a * remaining, 0.0))
    guess = 2.0 * remaining / denominator if denominator > 0 else float(max_steps)
    n = _min(_max(offset + int(_min(guess, float(max_steps))), 0), max_steps)
    while n < max_steps and run_time_s(law, batch, context_tokens, growth_per_step, n + 1) <= duration_s:
        n += 1
    while n > 0 and run_time_s(law, batch, context_tokens, growth_per_step, n) > duration_s:
        n -= 1
    return n


@_jit
def compute_by_s(law, batch, context_tokens, growth_per_step, elapsed_s, max_steps):
    done = steps_within(law, batch, context_tokens, growth_per_step, elapsed_s, max_steps)
    compute = run_compute_s(law, batch, context_tokens, growth_per_step, done)
    if done < max_steps:
        started_s = run_time_s(law, batch, context_tokens, growth_per_step, done)
        step_compute, _, step_memory, _, comm = _lines(law, batch, context_tokens + growth_per_step * done, np.int64(0))
        step_time = _max(step_compute, step_memory) + comm
        fraction = _min(_max((elapsed_s - started_s) / step_time, 0.0), 1.0)
        compute += fraction * step_compute
    return compute


# ---- RooflineStepCost.prefill_cost (and FixedStepCost's constant step)
@_jit
def prefill_cost(pp, cfg, tokens, positions):
    """(time_s, compute_s) of a prefill step over prompts of `tokens` tokens attending `positions`."""
    kind = cfg[CFG_PREFILL_KIND]
    if kind == PREFILL_FIXED:
        return pp[P_FIXED_TIME_S], pp[P_FIXED_COMPUTE_S]
    compute = pp[P_PER_TOKEN_S] * tokens + pp[P_PER_POSITION_S] * positions
    if kind == PREFILL_DENSE:
        weights = pp[P_DENSE_WEIGHTS_S]
    else:  # weight_bytes_read with moe_expert_fraction_touched, then _memory_s
        fraction = 1.0 - pp[P_MOE_MISS] ** float(tokens)
        params = pp[P_MOE_BASE_PARAMS] + pp[P_MOE_EXPERT_PARAMS] * fraction
        weights = params * pp[P_BYTES_PER_ELEMENT] / pp[P_HBM_BYTES_PER_S]
    memory = weights + pp[P_KV_WRITE_S_PER_TOKEN] * tokens
    n_gpus = cfg[CFG_N_GPUS]
    communication = 0.0
    if n_gpus > 1:  # _communication_s: two ring all-reduces per layer
        message_bytes = tokens * cfg[CFG_HIDDEN] * pp[P_ACTIVATION_BYTES]
        one = pp[P_ALLREDUCE_LATENCY_S] + 2.0 * (n_gpus - 1) / n_gpus * message_bytes / pp[P_BUS_BYTES_PER_S]
        communication = 2.0 * cfg[CFG_LAYERS] * one
    return _max(compute, memory) + communication, compute


# ---- the decoding heap of one replica: (finish step, request id) smallest first
@_jit
def _heap_less(dec, r, a, b):
    sa, sb = dec[r, a, D_STEP], dec[r, b, D_STEP]
    return sa < sb or (sa == sb and dec[r, a, D_ID] < dec[r, b, D_ID])


@_jit
def _heap_swap(dec, r, a, b):
    for k in range(3):
        dec[r, a, k], dec[r, b, k] = dec[r, b, k], dec[r, a, k]


@_jit
def _heap_push(dec, ri, r, step, request_id, slot):
    j = ri[r, DLEN]
    dec[r, j, D_STEP], dec[r, j, D_ID], dec[r, j, D_SLOT] = step, request_id, slot
    ri[r, DLEN] = j + 1
    while j > 0:
        parent = (j - 1) // 2
        if not _heap_less(dec, r, j, parent):
            break
        _heap_swap(dec, r, j, parent)
        j = parent


@_jit
def _heap_pop(dec, ri, r):
    """Remove the top; its slot."""
    slot = dec[r, 0, D_SLOT]
    n = ri[r, DLEN] - 1
    ri[r, DLEN] = n
    if n > 0:
        for k in range(3):
            dec[r, 0, k] = dec[r, n, k]
        j = np.int64(0)
        while True:
            left = 2 * j + 1
            if left >= n:
                break
            child = left
            if left + 1 < n and _heap_less(dec, r, left + 1, left):
                child = left + 1
            if not _heap_less(dec, r, child, j):
                break
            _heap_swap(dec, r, j, child)
            j = child
    return slot


@_jit
def _count_in_flight(t_s, sv, svf):
    """ReplicaScaler.count_in_flight: the requests in flight were sv[SV_OUTSTANDING] since the last count."""
    svf[SVF_IN_FLIGHT_REQUEST_S] += sv[SV_OUTSTANDING] * (t_s - svf[SVF_IN_FLIGHT_T_S])
    svf[SVF_IN_FLIGHT_T_S] = t_s


# ---- one replica (ContinuousBatchingReplica's lean driver: arrive / process_change)
@_jit
def _release(r, slot, finish_s, emit, ri, si, sf, sv, svf, oreq, otok, free, ci, cf, cfg):
    prompt, output = si[slot, S_PROMPT], si[slot, S_OUTPUT]
    ri[r, KV] -= prompt + output
    if emit:  # the completion, then the service's counters (InferenceService._complete)
        n = sv[SV_NCOMP]
        ci[n, C_ID], ci[n, C_REPLICA], ci[n, C_PROMPT], ci[n, C_OUTPUT] = si[slot, S_ID], r, prompt, output
        cf[n, C_ARRIVAL_S] = sf[slot, S_ARRIVAL_S]
        cf[n, C_ADMITTED_S] = sf[slot, S_ADMITTED_S]
        cf[n, C_FIRST_TOKEN_S] = sf[slot, S_FIRST_TOKEN_S]
        cf[n, C_FINISH_S] = finish_s
        cf[n, C_BUSY_SHARE_S] = sf[slot, S_BUSY_SHARE_S]
        cf[n, C_COMPUTE_SHARE_S] = sf[slot, S_COMPUTE_SHARE_S]
        sv[SV_NCOMP] = n + 1
        oreq[r] -= 1
        otok[r] -= prompt + output
        if cfg[CFG_SCALER]:
            _count_in_flight(finish_s, sv, svf)
        sv[SV_OUTSTANDING] -= 1
    free[sv[SV_NFREE]] = slot
    sv[SV_NFREE] += 1


@_jit
def _finish_prefill(r, ri, rf, si, sf, pre, dec, sv, svf, oreq, otok, free, ci, cf, cfg):
    size = ri[r, SIZE]
    end_s, time_s, compute_s = rf[r, END_S], rf[r, PREFILL_TIME_S], rf[r, COMPUTE_TOTAL_S]
    total_prompt = 0
    for j in range(size):
        total_prompt += si[pre[r, j], S_PROMPT]
    for j in range(size):
        slot = pre[r, j]
        prompt, output = si[slot, S_PROMPT], si[slot, S_OUTPUT]
        share = prompt / total_prompt
        sf[slot, S_BUSY_SHARE_S] += share * time_s
        sf[slot, S_COMPUTE_SHARE_S] += share * compute_s
        if output >= 1:
            sf[slot, S_FIRST_TOKEN_S] = end_s
        if output <= 1:
            _release(r, slot, end_s, np.bool_(True), ri, si, sf, sv, svf, oreq, otok, free, ci, cf, cfg)
            continue
        steps = ri[r, STEPS]
        si[slot, S_JOIN_STEP] = steps
        sf[slot, S_JOIN_BUSY_S] = rf[r, BUSY_PER_SEAT_S]
        sf[slot, S_JOIN_COMPUTE_S] = rf[r, COMPUTE_PER_SEAT_S]
        ri[r, CONTEXT] += prompt + 1
        _heap_push(dec, ri, r, steps + output - 1, si[slot, S_ID], slot)


@_jit
def _finish_decode(r, compute_total_s, emit, ri, rf, si, sf, dec, sv, svf, oreq, otok, free, ci, cf, cfg):
    n_steps, size = ri[r, NSTEPS], ri[r, SIZE]
    start_s, end_s = rf[r, START_S], rf[r, END_S]
    if n_steps > 0:
        ri[r, STEPS] += n_steps
        ri[r, CONTEXT] += size * n_steps
        rf[r, BUSY_PER_SEAT_S] += (end_s - start_s) / size
        rf[r, COMPUTE_PER_SEAT_S] += compute_total_s / size
    steps = ri[r, STEPS]
    while ri[r, DLEN] > 0 and dec[r, 0, D_STEP] == steps:
        slot = _heap_pop(dec, ri, r)
        sf[slot, S_BUSY_SHARE_S] += rf[r, BUSY_PER_SEAT_S] - sf[slot, S_JOIN_BUSY_S]
        sf[slot, S_COMPUTE_SHARE_S] += rf[r, COMPUTE_PER_SEAT_S] - sf[slot, S_JOIN_COMPUTE_S]
        ri[r, CONTEXT] -= si[slot, S_PROMPT] + si[slot, S_OUTPUT]
        _release(r, slot, end_s, emit, ri, si, sf, sv, svf, oreq, otok, free, ci, cf, cfg)


@_jit
def _start_next(r, ri, rf, si, sf, pre, dec, cfg, pp, law):
    now = rf[r, NOW_S]
    if ri[r, WCOUNT] > 0:
        max_batch, kv_cap, budget = cfg[CFG_MAX_BATCH], cfg[CFG_KV_CAP_TOKENS], cfg[CFG_MAX_PREFILL_TOKENS]
        seats = max_batch - ri[r, DLEN]
        kv_free = kv_cap - ri[r, KV]
        admitted = 0
        prefill_tokens = 0
        positions = 0
        while ri[r, WCOUNT] > 0 and seats > 0:
            head = ri[r, WHEAD]
            prompt = si[head, S_PROMPT]
            kv = prompt + si[head, S_OUTPUT]
            if kv > kv_free or (admitted > 0 and budget >= 0 and prefill_tokens + prompt > budget):
                break
            ri[r, WHEAD] = si[head, S_NEXT]
            ri[r, WCOUNT] -= 1
            seats -= 1
            kv_free -= kv
            prefill_tokens += prompt
            positions += prompt * (prompt + 1) // 2
            sf[head, S_ADMITTED_S] = now
            sf[head, S_FIRST_TOKEN_S] = np.nan
            sf[head, S_BUSY_SHARE_S] = 0.0
            sf[head, S_COMPUTE_SHARE_S] = 0.0
            pre[r, admitted] = head
            admitted += 1
        if admitted > 0:
            ri[r, KV] = kv_cap - kv_free
            time_s, compute_s = prefill_cost(pp, cfg, prefill_tokens, positions)
            ri[r, KIND], ri[r, SIZE] = PREFILL, admitted
            rf[r, START_S], rf[r, END_S] = now, now + time_s
            rf[r, PREFILL_TIME_S], rf[r, COMPUTE_TOTAL_S] = time_s, compute_s
            return
    size = ri[r, DLEN]
    if size > 0:
        n_steps = dec[r, 0, D_STEP] - ri[r, STEPS]
        context = ri[r, CONTEXT]
        ri[r, KIND], ri[r, SIZE], ri[r, CTX], ri[r, NSTEPS] = DECODE, size, context, n_steps
        rf[r, START_S] = now
        rf[r, END_S] = now + run_time_s(law, size, context, size, n_steps)
        rf[r, COMPUTE_TOTAL_S] = np.nan   # asked for when the run ends (a run cut early never needs its first value)
    else:
        ri[r, KIND] = IDLE
        rf[r, END_S] = np.inf


@_jit
def _compute_total_s(r, ri, rf, law):
    if ri[r, KIND] == PREFILL:
        return rf[r, COMPUTE_TOTAL_S]
    return run_compute_s(law, ri[r, SIZE], ri[r, CTX], ri[r, SIZE], ri[r, NSTEPS])


@_jit
def _process_change(r, ri, rf, si, sf, pre, dec, sv, svf, oreq, otok, free, ci, cf, cfg, pp, law):
    kind = ri[r, KIND]
    rf[r, NOW_S] = rf[r, END_S]
    total = _compute_total_s(r, ri, rf, law)
    rf[r, BUSY_CLOSED_S] += rf[r, END_S] - rf[r, START_S]
    rf[r, COMPUTE_CLOSED_S] += total
    ri[r, KIND] = IDLE
    if kind == PREFILL:
        _finish_prefill(r, ri, rf, si, sf, pre, dec, sv, svf, oreq, otok, free, ci, cf, cfg)
    else:
        _finish_decode(r, total, np.bool_(True), ri, rf, si, sf, dec, sv, svf, oreq, otok, free, ci, cf, cfg)
    _start_next(r, ri, rf, si, sf, pre, dec, cfg, pp, law)


@_jit
def _choose(prompt, output, cfg, sv, oreq, otok, active):
    """The router's pick among the serving replicas active[:sv[SV_NACTIVE]] (all of them without autoscaling)."""
    router = cfg[CFG_ROUTER]
    n = sv[SV_NACTIVE]
    if router == ROUTER_ROUND_ROBIN:
        chosen = sv[SV_RR]
        sv[SV_RR] = (chosen + 1) % n
        return active[chosen]
    counts = oreq if router == ROUTER_JSQ else otok
    best = 0
    for j in range(1, n):
        if counts[active[j]] < counts[active[best]]:
            best = j
    return active[best]


@_jit
def _enqueue(r, slot, ri, rf, si, sf, pre, dec, sv, svf, oreq, otok, free, ci, cf, cfg, pp, law):
    """`ContinuousBatchingReplica._enqueue_now` (the request is valid: checked by the caller)."""
    si[slot, S_NEXT] = -1
    if ri[r, WCOUNT] == 0:
        ri[r, WHEAD] = slot
    else:
        si[ri[r, WTAIL], S_NEXT] = slot
    ri[r, WTAIL] = slot
    ri[r, WCOUNT] += 1
    kind = ri[r, KIND]
    if kind == IDLE:
        _start_next(r, ri, rf, si, sf, pre, dec, cfg, pp, law)
        return
    if kind != DECODE:
        return
    head = ri[r, WHEAD]
    head_kv = si[head, S_PROMPT] + si[head, S_OUTPUT]
    if ri[r, DLEN] >= cfg[CFG_MAX_BATCH] or ri[r, KV] + head_kv > cfg[CFG_KV_CAP_TOKENS]:
        return
    # cut the decode run at the first step boundary at or after now (_DecodeRun.cut_after_step_in_progress)
    size, context, n_steps = ri[r, SIZE], ri[r, CTX], ri[r, NSTEPS]
    elapsed = rf[r, NOW_S] - rf[r, START_S]
    done = steps_within(law, size, context, size, elapsed, n_steps)
    at = run_time_s(law, size, context, size, done)
    if not (at >= elapsed or done >= n_steps):
        done += 1
        at = run_time_s(law, size, context, size, done)
    if done < n_steps:
        ri[r, NSTEPS] = done
        rf[r, END_S] = rf[r, START_S] + at
    if rf[r, END_S] <= rf[r, NOW_S]:  # exactly at a step boundary: admit now
        total = _compute_total_s(r, ri, rf, law)
        rf[r, BUSY_CLOSED_S] += rf[r, END_S] - rf[r, START_S]
        rf[r, COMPUTE_CLOSED_S] += total
        ri[r, KIND] = IDLE
        _finish_decode(r, total, np.bool_(False), ri, rf, si, sf, dec, sv, svf, oreq, otok, free, ci, cf, cfg)
        _start_next(r, ri, rf, si, sf, pre, dec, cfg, pp, law)


@_jit
def run_ahead(t_stop, t_last, i, base, no_more_chunks, window_s,
              arrival_s, prompt_tokens, output_tokens, rejected,
              ri, rf, si, sf, pre, dec, sv, svf, oreq, otok, active, free, ci, cf, xi, xf, cfg, pp, law):
    """Handle every arrival (from index i of the chunk) and replica change before t_stop, in time order
    (changes first at equal instants): `InferenceService._run_ahead`. Returns (status, i, t): STOPPED at
    t_stop (t: the last instant handled), DONE (t: when the service finished), or a request for the
    caller: NEED_CHUNK (the next chunk of arrivals, or no_more_chunks), NEED_SLOTS (more request slots),
    NEED_ROOM (drain the completion and rejection buffers), BAD_REQUEST or KV_TOO_BIG (request i), NO_REPLICA
    (no replica serves request i)."""
    n = arrival_s.shape[0]
    n_replicas = ri.shape[0]
    max_batch = cfg[CFG_MAX_BATCH]
    kv_cap = cfg[CFG_KV_CAP_TOKENS]
    while True:
        if i == n:
            if not no_more_chunks:
                return NEED_CHUNK, i, t_last
            if sv[SV_OUTSTANDING] == 0:
                done_at = _max(t_last, window_s)
                if done_at < t_stop:
                    return DONE, i, done_at
                return STOPPED, i, t_last
        r = np.int64(0)
        t_rep = rf[0, END_S]
        for q in range(1, n_replicas):
            if rf[q, END_S] < t_rep:
                r, t_rep = q, rf[q, END_S]
        t_arr = arrival_s[i] if i < n else np.inf
        if t_rep <= t_arr:
            if t_rep >= t_stop:
                return STOPPED, i, t_last
            if ci.shape[0] - sv[SV_NCOMP] < max_batch:
                return NEED_ROOM, i, t_last
            _process_change(r, ri, rf, si, sf, pre, dec, sv, svf, oreq, otok, free, ci, cf, cfg, pp, law)
            sv[SV_CHANGES] += 1
            t_last = t_rep
            continue
        if t_arr >= t_stop:
            return STOPPED, i, t_last
        prompt, output = prompt_tokens[i], output_tokens[i]
        if rejected[i]:
            k = sv[SV_NREJ]
            if k == xi.shape[0]:
                return NEED_ROOM, i, t_last
            xi[k, 0], xi[k, 1], xi[k, 2], xf[k] = base + i, prompt, output, t_arr
            sv[SV_NREJ] = k + 1
        else:
            if prompt < 1 or output < 0:
                return BAD_REQUEST, i, t_last
            if prompt + output > kv_cap:
                return KV_TOO_BIG, i, t_last
            if sv[SV_NFREE] == 0:
                return NEED_SLOTS, i, t_last
            if sv[SV_NACTIVE] == 0:
                return NO_REPLICA, i, t_last
            r = _choose(prompt, output, cfg, sv, oreq, otok, active)
            sv[SV_NFREE] -= 1
            slot = free[sv[SV_NFREE]]
            si[slot, S_ID], si[slot, S_PROMPT], si[slot, S_OUTPUT] = base + i, prompt, output
            sf[slot, S_ARRIVAL_S] = t_arr
            rf[r, NOW_S] = t_arr
            _enqueue(r, slot, ri, rf, si, sf, pre, dec, sv, svf, oreq, otok, free, ci, cf, cfg, pp, law)
            oreq[r] += 1
            otok[r] += prompt + output
            if cfg[CFG_SCALER]:
                _count_in_flight(t_arr, sv, svf)
            sv[SV_OUTSTANDING] += 1
        i += 1
        t_last = t_arr


@_jit
def replica_busy_compute_s(t_s, r, ri, rf, law):
    """`ContinuousBatchingReplica.busy_compute_s` of replica r; (-1, -1) if t_s lies outside its activity."""
    kind = ri[r, KIND]
    if kind == IDLE:
        return rf[r, BUSY_CLOSED_S], rf[r, COMPUTE_CLOSED_S]
    start, end = rf[r, START_S], rf[r, END_S]
    if t_s > end or t_s < start:
        return -1.0, -1.0
    if kind == PREFILL:
        fraction = (t_s - start) / (end - start)
        done = rf[r, COMPUTE_TOTAL_S] * _min(_max(fraction, 0.0), 1.0)
    else:
        size = ri[r, SIZE]
        done = compute_by_s(law, size, ri[r, CTX], size, t_s - start, ri[r, NSTEPS])
    return rf[r, BUSY_CLOSED_S] + (t_s - start), rf[r, COMPUTE_CLOSED_S] + done


@_jit
def busy_compute_s(t_s, ri, rf, law):
    """(busy, tensor-core) replica-seconds of all replicas from their start to t_s (each at most at its next
    change), summed in replica order as the service does; (-1, -1) if t_s lies outside an activity."""
    busy = 0.0
    compute = 0.0
    for r in range(ri.shape[0]):
        b, c = replica_busy_compute_s(t_s, r, ri, rf, law)
        if b < 0.0:
            return -1.0, -1.0
        busy += b
        compute += c
    return busy, compute


# ---- the Python side ---------------------------------------------------------------------------------
def supports(cost, router: str) -> bool:
    """Whether the compiled path reproduces this step cost model and router (else: the Python classes)."""
    from sim.physics.roofline import RooflineStepCost
    from sim.workloads.batching import FixedStepCost

    return type(cost) in (RooflineStepCost, FixedStepCost) and router in ROUTERS


def _prefill_constants(cost) -> tuple[np.ndarray, int, int, int, int]:
    """(pp, prefill kind, GPUs, hidden size, layers): the constants `prefill_cost` needs, computed with the
    expressions of `RooflineStepCost` / `FixedStepCost`, so they are the same floats."""
    from sim.physics.roofline import NVLINK_ALLREDUCE_LATENCY_S, allreduce_bus_bandwidth_bytes_per_s
    from sim.workloads.batching import FixedStepCost

    pp = np.zeros(N_PP)
    if isinstance(cost, FixedStepCost):
        step = cost.prefill_cost([1])
        pp[P_FIXED_TIME_S], pp[P_FIXED_COMPUTE_S] = step.time_s, step.compute_s
        return pp, PREFILL_FIXED, 1, 0, 0
    replica = cost.replica
    arch = replica.architecture
    pp[P_PER_TOKEN_S], pp[P_PER_POSITION_S] = cost._per_token_s, cost._per_position_s
    pp[P_KV_WRITE_S_PER_TOKEN] = cost._kv_write_s
    if cost._dense_weights_s is not None:
        kind = PREFILL_DENSE
        pp[P_DENSE_WEIGHTS_S] = cost._dense_weights_s
    else:
        kind = PREFILL_MOE
        per_layer_dense = arch.attention_params_per_layer + arch.router_params_per_layer + arch.norm_params_per_layer
        pp[P_MOE_BASE_PARAMS] = arch.n_layers * per_layer_dense + arch.hidden_size + arch.output_projection_params
        pp[P_MOE_EXPERT_PARAMS] = arch.expert_params
        pp[P_MOE_MISS] = 1.0 - arch.n_active_experts / arch.n_experts
        pp[P_BYTES_PER_ELEMENT] = replica.model.weights.bytes_per_element
        pp[P_HBM_BYTES_PER_S] = (replica.n_gpus * replica.gpu.hbm_bandwidth_bytes_per_s
                           * replica.efficiency.memory_bandwidth)
    if replica.n_gpus > 1:
        pp[P_ACTIVATION_BYTES] = replica.activation_bytes_per_element
        pp[P_ALLREDUCE_LATENCY_S] = NVLINK_ALLREDUCE_LATENCY_S
        pp[P_BUS_BYTES_PER_S] = allreduce_bus_bandwidth_bytes_per_s(replica.gpu)
    return pp, kind, replica.n_gpus, arch.hidden_size, arch.n_layers


class CompiledReplicas:
    """A service's replicas and router as arrays, run by `run_ahead`; what the service reads back."""

    _SLOTS = 1024            # request slots to start with (doubled when they run out)

    def __init__(self, cost, config, n_replicas: int, router: str, start_s: float, autoscaling: bool = False):
        max_batch = config.max_batch_size
        self.cfg = np.zeros(N_CFG, dtype=np.int64)
        self.pp, prefill_kind, n_gpus, hidden, layers = _prefill_constants(cost)
        self.cfg[CFG_MAX_BATCH], self.cfg[CFG_KV_CAP_TOKENS] = max_batch, config.kv_capacity_tokens
        self.cfg[CFG_MAX_PREFILL_TOKENS] = -1 if config.max_prefill_tokens is None else config.max_prefill_tokens
        self.cfg[CFG_ROUTER], self.cfg[CFG_PREFILL_KIND] = ROUTERS[router], prefill_kind
        self.cfg[CFG_N_GPUS], self.cfg[CFG_HIDDEN], self.cfg[CFG_LAYERS] = n_gpus, hidden, layers
        self.cfg[CFG_SCALER] = autoscaling
        self.law = np.zeros((max_batch + 1, 5))
        for b in range(1, max_batch + 1):
            law = cost.decode_step_law(b)
            self.law[b] = (law.compute_fixed_s, law.compute_per_token_s, law.memory_fixed_s, law.memory_per_token_s,
                           law.communication_s)
        self.ri = np.zeros((n_replicas, N_RI), dtype=np.int64)
        self.ri[:, WHEAD] = self.ri[:, WTAIL] = -1
        self.rf = np.zeros((n_replicas, N_RF))
        self.rf[:, NOW_S], self.rf[:, END_S] = start_s, np.inf
        self.pre = np.zeros((n_replicas, max_batch), dtype=np.int64)
        self.dec = np.zeros((n_replicas, max_batch, 3), dtype=np.int64)
        self.si = np.zeros((self._SLOTS, N_SI), dtype=np.int64)
        self.sf = np.zeros((self._SLOTS, N_SF))
        self.free = np.arange(self._SLOTS - 1, -1, -1, dtype=np.int64)
        self.sv = np.zeros(N_SV, dtype=np.int64)
        self.sv[SV_NFREE] = self._SLOTS
        self.svf = np.zeros(N_SVF)
        self.svf[SVF_IN_FLIGHT_T_S] = start_s
        self.active = np.arange(n_replicas, dtype=np.int64)
        self.sv[SV_NACTIVE] = n_replicas
        self.oreq = np.zeros(n_replicas, dtype=np.int64)
        self.otok = np.zeros(n_replicas, dtype=np.int64)
        room = max(4096, 4 * max_batch)
        self.ci = np.zeros((room, 4), dtype=np.int64)
        self.cf = np.zeros((room, 6))
        self.xi = np.zeros((room, 3), dtype=np.int64)
        self.xf = np.zeros(room)

    def run_ahead(self, t_stop: float, t_last: float, i: int, base: int, no_more_chunks: bool, window_s: float,
                  arrival_s: np.ndarray, prompt_tokens: np.ndarray, output_tokens: np.ndarray,
                  rejected: np.ndarray) -> tuple[int, int, float]:
        return run_ahead(float(t_stop), float(t_last), int(i), int(base), bool(no_more_chunks), float(window_s),
                         arrival_s, prompt_tokens, output_tokens,
                         rejected, self.ri, self.rf, self.si, self.sf, self.pre, self.dec, self.sv, self.svf,
                         self.oreq, self.otok, self.active, self.free, self.ci, self.cf, self.xi, self.xf, self.cfg,
                         self.pp, self.law)

    @property
    def outstanding_count(self) -> int:
        return int(self.sv[SV_OUTSTANDING])

    @property
    def changes(self) -> int:
        """Replica changes handled so far (a prefill step or a run of decode steps ending)."""
        return int(self.sv[SV_CHANGES])

    def grow_slots(self) -> None:
        """Twice the request slots (the new ones free)."""
        n = self.si.shape[0]
        self.si = np.concatenate((self.si, np.zeros_like(self.si)))
        self.sf = np.concatenate((self.sf, np.zeros_like(self.sf)))
        free = np.arange(2 * n - 1, n - 1, -1, dtype=np.int64)
        self.free = np.concatenate((free, np.zeros(n, dtype=np.int64)))
        self.sv[SV_NFREE] = n

    def take_completions(self) -> tuple[np.ndarray, np.ndarray]:
        """The completions since the last call, in completion order: (ints, floats), columns as C_*."""
        n = int(self.sv[SV_NCOMP])
        self.sv[SV_NCOMP] = 0
        return self.ci[:n].copy(), self.cf[:n].copy()

    def take_rejected(self) -> list[tuple[int, float, int, int]]:
        """The rejected arrivals since the last call: (request id, arrival s, prompt, output)."""
        n = int(self.sv[SV_NREJ])
        self.sv[SV_NREJ] = 0
        return [(k, t, p, o) for (k, p, o), t in zip(self.xi[:n].tolist(), self.xf[:n].tolist())]

    def busy_compute_s(self, t_s: float, replica: int | None = None) -> tuple[float, float]:
        """(busy, tensor-core) seconds up to t_s of every replica summed, or of one."""
        if replica is None:
            busy, compute = busy_compute_s(float(t_s), self.ri, self.rf, self.law)
        else:
            busy, compute = replica_busy_compute_s(float(t_s), int(replica), self.ri, self.rf, self.law)
        if busy < 0:
            raise ValueError(f"{t_s} s lies outside an activity in progress")
        return busy, compute

    def is_idle(self, r: int) -> bool:
        """Nothing running or queued on replica r."""
        return self.ri[r, KIND] == IDLE and self.ri[r, WCOUNT] == 0

    def set_serving(self, active: list[int]) -> None:
        """Route to these replicas from now on, round robin starting again from the first (a new router, as
        ReplicaScaler makes one); an empty list keeps the previous router, which then has no replica."""
        if active:
            self.active[:len(active)] = active
            self.sv[SV_RR] = 0
        self.sv[SV_NACTIVE] = len(active)

    def count_in_flight(self, t_s: float, in_flight: int) -> None:
        """ReplicaScaler.count_in_flight on the arrays (the same arithmetic)."""
        self.svf[SVF_IN_FLIGHT_REQUEST_S] += in_flight * (t_s - self.svf[SVF_IN_FLIGHT_T_S])
        self.svf[SVF_IN_FLIGHT_T_S] = t_s

    @property
    def in_flight_integral(self) -> float:
        return float(self.svf[SVF_IN_FLIGHT_REQUEST_S])

    def outstanding(self, r: int) -> list[tuple[int, float, int, int]]:
        """Replica r's requests not finished, as `ContinuousBatchingReplica.outstanding`: being prefilled,
        decoding (by request id), waiting; each (request id, arrival s, prompt, output)."""
        ri, si, sf = self.ri[r], self.si, self.sf

        def request(slot: int) -> tuple[int, float, int, int]:
            return int(si[slot, S_ID]), float(sf[slot, S_ARRIVAL_S]), int(si[slot, S_PROMPT]), int(si[slot, S_OUTPUT])

        prefilling = [request(s) for s in self.pre[r, :ri[SIZE]]] if ri[KIND] == PREFILL else []
        decoding = sorted((request(s) for s in self.dec[r, :ri[DLEN], D_SLOT]), key=lambda q: q[0])
        waiting, slot = [], int(ri[WHEAD])
        for _ in range(int(ri[WCOUNT])):
            waiting.append(request(slot))
            slot = int(si[slot, S_NEXT])
        return prefilling + decoding + waiting


def warm_up() -> None:
    """Load the compiled functions (from numba's cache; the first time, compile them: about 10 s) with a
    one-request run, so that a later run's timing does not include it (benchmarks call this)."""
    from sim.workloads.batching import FixedStepCost, SchedulerConfig

    replicas = CompiledReplicas(FixedStepCost(0.1, 0.01), SchedulerConfig(2, 100), 1, "round_robin", 0.0)
    replicas.run_ahead(10.0, 0.0, 0, 0, True, 1.0, np.array([0.5]), np.array([3], dtype=np.int64),
                       np.array([2], dtype=np.int64), np.zeros(1, dtype=bool))
    replicas.busy_compute_s(replicas.rf[0, NOW_S])


def needs_compiling() -> bool:
    """Whether the next use compiles rather than loads from numba's cache (no index for run_ahead, or one older
    than this file). A guess from numba's cache layout: False when it cannot tell."""
    try:
        index = Path(run_ahead._cache._cache_file._index_path)
        return not index.exists() or index.stat().st_mtime < Path(__file__).stat().st_mtime
    except (AttributeError, OSError):
        return False
