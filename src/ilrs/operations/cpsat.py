"""CP-SAT planning: the exact model on rolling windows, seeded with the current plan (large-neighbourhood search).

For each window of the horizon in turn, the blocks that start in it are taken out of the plan and the window is
solved exactly with everything else fixed: every candidate start of a block is an optional interval
(``new_optional_fixed_size_interval_var``, presence = "block starts here"), exclusive resources are ``NoOverlap``,
power is a ``Cumulative`` against the residual capacity (a fixed blocker interval per run of constant residual),
energy and data cycles, precedence and fairness are linear constraints, and the objective is the
priority-weighted value. The current placements are the solver's hint and a feasible solution, so no window ever
ends worse than it started: the plan is never worse than its seed (the greedy baseline).

Reproducible by default (``deterministic=True``): one search worker with a fixed seed, and each window's budget
in CP-SAT's deterministic time (``max_deterministic_time``, a count of work that does not depend on the machine's
load) shared out by the deterministic time the earlier windows used, so the same inputs give the same plan bit
for bit. A wall-clock cap (:data:`WALL_CAP_FACTOR` times the budget) only guards against a runaway window; a
window stopped by it is named in the statistics. ``deterministic=False`` is the faster parallel search under a
wall-clock limit (:data:`PARALLEL_WORKERS` workers), whose placements may differ from run to run.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, overload

import numpy as np
from ortools.sat.python import cp_model

from ilrs.operations.greedy import FAIR_SCALE, alloc_slots, fair_numerators, first_fit, order_blocks, prefilter
from ilrs.operations.problem import PlanState

#: Candidate starts per block per window (evenly thinned, always keeping the hint's start).
MAX_CANDIDATES = 24
#: repair_hint=True crashes OR-Tools 9.15 ("Check failed: heuristics.fixed_search") on some windows
REPAIR_HINT = False
#: Presolve of short windows (off: the search starts from the hint at once; presolve can eat the whole budget)
PRESOLVE = False
#: CP-SAT's random seed (any fixed value: it makes the single-worker search repeatable).
SEED = 2035
#: Workers of the non-deterministic parallel search.
PARALLEL_WORKERS = 2
#: Wall-clock cap of a deterministic window, as a multiple of its deterministic budget plus one second: deterministic
#: time runs at about a second per second on an idle core, so only a window on a machine loaded many times over
#: reaches it (and then the plan may differ from run to run; :attr:`WindowStat.status` says so).
WALL_CAP_FACTOR = 10.0
#: Integer scales: energy in mWh, data in kbit.
E_SCALE = 1000.0
D_SCALE = 1e-3


@dataclass
class WindowStat:
    start: int
    stop: int
    blocks: int
    before: float
    after: float
    bound: float
    status: str
    seconds: float
    deterministic_time: float = 0.0  #: CP-SAT's deterministic time the window used


@dataclass
class SolveStats:
    windows: list[WindowStat]
    value: float
    bound: float  #: sum over windows of the solver's bound on the window's value plus the value fixed outside it
    seconds: float


def _thin(starts: np.ndarray, keep: int | None, k: int) -> np.ndarray:
    if starts.size > k:
        idx = np.unique(np.linspace(0, starts.size - 1, k).round().astype(np.int64))
        starts = starts[idx]
    if keep is not None and keep >= 0 and keep not in starts:
        starts = np.sort(np.concatenate([starts, [keep]]))
    return starts


def _candidates(state: PlanState, b: int, lo: int, hi: int, hint: int | None, in_window: set[int]) -> np.ndarray:
    """Starts of ``b`` in [lo, hi] that fit the residual power and resources on their own (the window's other
    blocks are the model's business), precedence against fixed blocks included."""
    pr = state.prob
    lo_p = 0
    for j in pr.preds[b]:
        if state.start[j] >= 0:
            lo_p = max(lo_p, int(state.start[j] + pr.dur[j]))
        elif j not in in_window:
            return np.empty(0, dtype=np.int64)
    hi_s = state.succ_bound(b) - int(pr.dur[b])
    st = pr.starts(b, max(lo, lo_p), min(hi, hi_s))
    if st.size == 0:
        return st
    ok = prefilter(state, b, st)
    return _thin(st[ok], hint, MAX_CANDIDATES)


def solve_window(
    state: PlanState,
    lo: int,
    hi: int,
    time_limit: float,
    workers: int = PARALLEL_WORKERS,
    free: np.ndarray | None = None,
    deterministic: bool = True,
) -> WindowStat:
    """Re-plan the blocks that start in [lo, hi) exactly, everything else fixed; ``state`` is updated.

    ``deterministic``: ``time_limit`` is a budget of CP-SAT deterministic time, searched by one worker with a
    fixed seed (``workers`` is ignored); otherwise wall-clock seconds for ``workers`` workers."""
    t_start = time.perf_counter()
    pr = state.prob
    lim = pr.limits
    h = state.h
    if free is None:
        free = np.flatnonzero((state.start >= lo) & (state.start < hi))
    hint = {int(b): int(state.start[b]) for b in free}
    before = float(pr.value[list(hint)].sum()) if hint else 0.0
    for b in hint:
        state.remove(b)
    # eligible: unplaced blocks whose window meets [lo, hi): the window's own blocks and, of the others, the most
    # valuable per slot (then the tightest windows) up to MAX_NEW_BLOCKS (the neighbourhood stays solvable)
    elig = np.flatnonzero((state.start < 0) & (pr.last >= pr.first) & (pr.first < hi) & (pr.last >= lo))
    others = np.array([b for b in elig if int(b) not in hint], dtype=np.int64)
    if others.size > MAX_NEW_BLOCKS:
        keep = order_blocks(pr, others)[:MAX_NEW_BLOCKS]
        elig = np.concatenate([np.array(sorted(hint), dtype=np.int64), keep])
    in_window = {int(b) for b in elig}
    cands: dict[int, np.ndarray] = {}
    for e in elig:
        c = _candidates(state, int(e), lo, hi - 1, hint.get(int(e)), in_window)
        if c.size:
            cands[int(e)] = c
    # a block whose unplaced predecessor has no candidate start here cannot be placed in this window either
    changed = True
    while changed:
        changed = False
        for b in list(cands):
            if any(state.start[j] < 0 and j not in cands for j in pr.preds[b]):
                del cands[b]
                changed = True
    if not cands:
        return WindowStat(lo, hi, 0, before, before, before, "empty", time.perf_counter() - t_start)

    m = cp_model.CpModel()
    x: dict[tuple[int, int], cp_model.IntVar] = {}
    pres: dict[int, cp_model.LinearExpr | int] = {}
    horizon_end = lo
    for b, cs in cands.items():
        d = int(pr.dur[b])
        lits = []
        for s in cs:
            v = m.new_bool_var(f"x{b}_{s}")
            x[b, int(s)] = v
            lits.append(v)
            horizon_end = max(horizon_end, int(s) + d)
        m.add_at_most_one(lits)
        pres[b] = sum(lits)
    # exclusive resources
    for r in range(len(pr.resources)):
        ivs = [
            m.new_optional_fixed_size_interval_var(s, int(pr.dur[b]), x[b, s], f"r{r}_{b}_{s}")
            for (b, s) in x
            if r in pr.res_of[b]
        ]
        if len(ivs) > 1:
            m.add_no_overlap(ivs)
    # power: Cumulative against the residual, as blockers where the residual is below the window's maximum
    pw = [(b, s) for (b, s) in x if pr.power[b] > 0]
    if pw:
        res = state.power_left[lo:horizon_end]
        cap = int(res.max())
        ivs = [m.new_optional_fixed_size_interval_var(s, int(pr.dur[b]), x[b, s], f"p{b}_{s}") for (b, s) in pw]
        dem = [int(pr.power[b]) for (b, s) in pw]
        change = np.flatnonzero(np.diff(res)) + 1
        edges = np.concatenate([[0], change, [res.size]])
        for a, z in zip(edges[:-1], edges[1:], strict=True):
            gap = cap - int(res[a])
            if gap > 0:
                ivs.append(m.new_fixed_size_interval_var(lo + int(a), int(z - a), f"blk{a}"))
                dem.append(gap)
        m.add_cumulative(ivs, dem, max(cap, 0))
    # energy cycles
    terms: dict[int, list[tuple[cp_model.IntVar, float, float]]] = {}
    for (b, s), v in x.items():
        if pr.power[b] <= 0:
            continue
        ks, dd, ee = state.energy_terms(b, s)
        for k, dk, ek in zip(ks, dd, ee, strict=True):
            terms.setdefault(int(k), []).append((v, dk, ek))
    for k, lst in terms.items():
        d_left = lim.deficit_budget_wh[k] - state.deficit[k]
        r_left = lim.recharge_wh[k] - state.deficit[k]
        p_left = lim.payback_wh[k] - state.deficit[k] / lim.eta_c - state.surplus_used[k]
        if any(dk > 0 for _, dk, _ in lst):
            dsum = sum(int(np.ceil(dk * E_SCALE)) * v for v, dk, _ in lst if dk > 0)
            m.add(dsum <= int(np.floor(min(d_left, r_left) * E_SCALE)))
        m.add(
            sum(int(np.ceil((dk / lim.eta_c + ek) * E_SCALE)) * v for v, dk, ek in lst)
            <= int(np.floor(p_left * E_SCALE))
        )
    # data: Lindley's backlog over the data cycles the window's candidates end in, everything else fixed
    dterms: dict[int, list[tuple[cp_model.IntVar, float]]] = {}
    for (b, s), v in x.items():
        if pr.data[b] > 0:
            dterms.setdefault(int(lim.dcycle[s + int(pr.dur[b]) - 1]), []).append((v, pr.data[b]))
    if dterms:
        a_c, b_c = min(dterms), max(dterms)
        b_in, t_out = state.data_window(a_c, b_c)
        big = int(np.ceil((float(lim.data_free_bits[a_c : b_c + 1].max()) + b_in) * D_SCALE)) + 1
        prev: cp_model.LinearExpr | int = int(np.ceil(b_in * D_SCALE))
        for j in range(a_c, b_c + 1):
            load = int(np.ceil(state.data_used[j] * D_SCALE)) + sum(
                int(np.ceil(bits * D_SCALE)) * v for v, bits in dterms.get(j, [])
            )
            m.add(prev + load <= int(np.floor(lim.data_free_bits[j] * D_SCALE)))
            backlog = m.new_int_var(0, max(big, 0), f"B{j}")
            m.add(backlog >= prev + load - int(np.floor(lim.data_unused_bits[j] * D_SCALE)))
            prev = backlog
        if np.isfinite(t_out):
            m.add(prev <= int(np.floor(t_out * D_SCALE)))
    # precedence inside the window; a block whose successor is placed outside the window must stay planned
    succ = state._succ()
    for b in cands:
        if any(state.start[j] >= 0 for j in succ.get(b, ())):
            m.add(pres[b] == 1)
        for j in pr.preds[b]:
            if j in cands:
                m.add(pres[j] >= pres[b])
                start_b = sum(int(s) * x[b, s] for s in cands[b])
                end_j = sum((int(s) + int(pr.dur[j])) * x[j, s] for s in cands[j])
                big = int(lim.n + 2 * pr.dur[j])
                m.add(start_b >= end_j - big * (1 - pres[b]))
    # fairness: every partner within its cap of the total (slots or Wh), totals include the fixed blocks
    num = fair_numerators(pr)
    base = alloc_slots(state)
    part_terms: dict[int, list[cp_model.LinearExpr | int]] = {}
    for (b, _s), v in x.items():
        part_terms.setdefault(int(pr.partner_of[b]), []).append(int(pr.metric[b]) * v)
    total = int(base.sum()) + sum(int(pr.metric[b]) * v for (b, _s), v in x.items())
    for p in range(len(pr.partners)):
        if num[p] >= FAIR_SCALE:
            continue
        mine = int(base[p]) + sum(part_terms.get(p, []))
        m.add(FAIR_SCALE * mine <= int(num[p]) * total)
    # objective: value (priority weight x slots, integer)
    m.maximize(sum(int(round(pr.value[b] / h)) * x[b, s] for (b, s) in x))
    for (b, s), v in x.items():
        m.add_hint(v, hint.get(b) == s)
    solver = cp_model.CpSolver()
    if deterministic:
        solver.parameters.num_workers = 1
        solver.parameters.random_seed = SEED
        solver.parameters.max_deterministic_time = max(time_limit, 0.05)
        solver.parameters.max_time_in_seconds = WALL_CAP_FACTOR * max(time_limit, 0.05) + 1.0
    else:
        solver.parameters.max_time_in_seconds = max(time_limit, 0.05)
        solver.parameters.num_workers = workers
    solver.parameters.repair_hint = REPAIR_HINT
    if time_limit < 2.0:  # short windows: no time for probing in presolve (it alone can take 0.2 s)
        solver.parameters.cp_model_probing_level = 0
        solver.parameters.symmetry_level = 0
        solver.parameters.cp_model_presolve = PRESOLVE
    status = solver.solve(m)
    name = solver.status_name(status)
    if deterministic and solver.wall_time >= solver.parameters.max_time_in_seconds * 0.99:
        name += " (stopped by the wall-clock cap: not reproducible)"
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE) and solver.objective_value * h >= before - 1e-6:
        chosen = [(b, s) for (b, s), v in x.items() if solver.boolean_value(v)]
        # place predecessors first so that the state's precedence bookkeeping stays consistent
        chosen.sort(key=lambda bs: bs[1])
        for b, s in chosen:
            state.place(b, s)
        after = float(sum(pr.value[b] for b, _ in chosen))
        bound = float(solver.best_objective_bound * h)
    else:
        for b, s in hint.items():
            state.place(b, s)
        after = before
        bound = float(solver.best_objective_bound * h) if status != cp_model.MODEL_INVALID else before
        name = name + " (kept seed)"
    return WindowStat(
        lo,
        hi,
        len(cands),
        before,
        after,
        max(bound, after),
        name,
        time.perf_counter() - t_start,
        float(solver.deterministic_time),
    )


#: Unplaced blocks offered to a window besides its own (the most valuable per slot first).
MAX_NEW_BLOCKS = 80
#: A window with more blocks than this is halved (down to a day): CP-SAT proves small windows optimal quickly.
MAX_WINDOW_BLOCKS = 250


@overload
def split_windows(
    state: PlanState, lo: int, hi: int, window_slots: int, with_counts: Literal[False] = False
) -> list[tuple[int, int]]: ...
@overload
def split_windows(
    state: PlanState, lo: int, hi: int, window_slots: int, with_counts: Literal[True]
) -> list[tuple[int, int, int]]: ...
def split_windows(
    state: PlanState, lo: int, hi: int, window_slots: int, with_counts: bool = False
) -> list[tuple[int, int]] | list[tuple[int, int, int]]:
    """Windows of ``window_slots`` over [lo, hi), halved while they hold too many blocks (``with_counts``: each
    window with the number of blocks that may start in it)."""
    pr = state.prob
    ok = pr.last >= pr.first
    min_len = max(1, int(round(86400.0 / pr.limits.step_s)))
    todo = [(a, min(a + window_slots, hi)) for a in range(lo, hi, window_slots)]
    out: list[Any] = []  # (a, z) or (a, z, count) throughout, as the overloads say
    while todo:
        a, z = todo.pop(0)
        count = int((ok & (pr.first < z) & (pr.last >= a)).sum())
        if count > MAX_WINDOW_BLOCKS and z - a >= 2 * min_len:
            mid = (a + z) // 2
            todo[:0] = [(a, mid), (mid, z)]
        else:
            out.append((a, z, count) if with_counts else (a, z))
    return out


def improve(
    state: PlanState,
    window_slots: int,
    time_limit: float,
    workers: int = PARALLEL_WORKERS,
    lo: int = 0,
    hi: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    deterministic: bool = True,
) -> SolveStats:
    """One sweep of exact windows over [lo, hi) within ``time_limit`` in all: units of CP-SAT deterministic time
    when ``deterministic`` (the same plan on every run), else wall-clock seconds."""
    t0 = time.perf_counter()
    hi = state.prob.limits.n if hi is None else hi
    windows = split_windows(state, lo, hi, window_slots, with_counts=True)
    stats = []
    nwin = len(windows)
    # time in proportion to each window's blocks (an empty window still gets a little)
    weight = np.array([max(c, 5) for _, _, c in windows], dtype=float)
    spent = 0.0  # deterministic time used so far (deterministic) or wall-clock seconds
    for i, (a, z, _) in enumerate(windows):
        if not deterministic:
            spent = time.perf_counter() - t0
        per = (time_limit - spent) * weight[i] / weight[i:].sum()
        if per < 0.02:
            break
        w = solve_window(state, a, z, per, workers, deterministic=deterministic)
        stats.append(w)
        spent += w.deterministic_time if deterministic else 0.0
        if progress:
            progress(i + 1, nwin)
    # what the windows freed but could not use: a last greedy pass (within the time limit unless deterministic: it
    # is quick, and a wall-clock stop would make the plan depend on the machine's load)
    for b in np.flatnonzero((state.start < 0) & (state.prob.last >= state.prob.first)):
        if not deterministic and time.perf_counter() - t0 > time_limit:
            break
        s = first_fit(state, int(b), lo=lo, fairness=True)
        if s is not None:
            state.place(int(b), s)
    value = state.total_value()
    fixed_out = value - sum(w.after for w in stats)
    bound = fixed_out + sum(w.bound for w in stats)
    return SolveStats(stats, value, max(bound, value), time.perf_counter() - t0)
