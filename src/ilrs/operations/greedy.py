"""The greedy priority baseline: most valuable per hour first, each at its earliest start that fits.

Fairness is what greedy handles poorly: it places without looking at shares, then removes the least valuable
blocks of partners above their cap, then fills what is left while respecting the caps.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from ilrs.operations.problem import PlanState, Problem, fair_caps

#: Candidate starts examined exactly (data, energy, precedence) per block after the vectorised pre-filter.
MAX_EXACT_CHECKS = 64
#: Fairness caps use integer arithmetic in thousandths so that greedy, CP-SAT and the validator agree exactly.
FAIR_SCALE = 1000


def fair_numerators(prob: Problem) -> np.ndarray:
    """Per partner, the cap on its share of allocated slots in thousandths (>= FAIR_SCALE: no cap)."""
    eff = prob.eff_share
    if eff is None:
        eff = prob.shares
    return np.floor((eff + prob.tolerance) * FAIR_SCALE + 1e-9).astype(np.int64)


def fair_ok(prob: Problem, alloc_slots: np.ndarray, partner: int | None = None, add: int = 0) -> bool:
    """Every partner (or just ``partner`` after adding ``add`` slots) within its cap of the total."""
    num = fair_numerators(prob)
    alloc = alloc_slots.astype(np.int64).copy()
    if partner is not None:
        alloc[partner] += add
    total = int(alloc.sum())
    idx = range(len(alloc)) if partner is None else [partner]
    return all(num[p] >= FAIR_SCALE or alloc[p] * FAIR_SCALE <= num[p] * total for p in idx)


def alloc_slots(state: PlanState) -> np.ndarray:
    """Per partner, the fairness metric of its placed blocks (kept up to date by place/remove)."""
    return state.alloc.copy()


def order_blocks(prob: Problem, blocks: npt.ArrayLike | None = None) -> np.ndarray:
    """Value per slot first, then the tightest window, then the earliest."""
    idx = np.arange(prob.n_blocks) if blocks is None else np.asarray(blocks, dtype=np.int64)
    density = prob.value[idx] / prob.dur[idx]
    slack = prob.last[idx] - prob.first[idx]
    return idx[np.lexsort((prob.first[idx], slack, -density))]


def _window_ok(mask_bad: np.ndarray, starts: np.ndarray, lo: int, d: int) -> np.ndarray:
    """For each start, no bad slot in [start, start + d), with ``mask_bad`` covering slots from ``lo``."""
    c = np.concatenate([[0], np.cumsum(mask_bad)])
    ok: np.ndarray = (c[starts - lo + d] - c[starts - lo]) == 0
    return ok


def prefilter(state: PlanState, b: int, st: np.ndarray) -> np.ndarray:
    """Which of the starts ``st`` pass the vectorised necessary checks: spare power and free resources at every
    step, energy left in the cycle of every step for at least that step's draw, room for the data."""
    pr = state.prob
    lim = pr.limits
    d = int(pr.dur[b])
    a, z = int(st[0]), int(st[-1]) + d
    ok = np.ones(st.size, dtype=bool)
    p = float(pr.power[b])
    if p > 0:
        ok &= _window_ok(state.power_left[a:z] < p, st, a, d)
        k = lim.ecycle[a:z]
        pay = lim.payback_wh - state.deficit / lim.eta_c - state.surplus_used
        room_d = np.minimum(np.minimum(lim.deficit_budget_wh, lim.recharge_wh) - state.deficit, pay * lim.eta_c)
        need = np.where(lim.surplus[a:z], p * state.h, p * state.h / lim.eta_d)
        room = np.where(lim.surplus[a:z], pay[k], room_d[k])
        ok &= _window_ok(room < need - 1e-6, st, a, d)
    for r in pr.res_of[b]:
        ok &= _window_ok(state.res_busy[r, a:z], st, a, d)
    if pr.data[b] > 0:
        ok &= state.data_slack()[lim.dcycle[st + d - 1]] >= pr.data[b] - 1e-6
    return ok


def first_fit(
    state: PlanState, b: int, lo: int | None = None, hi: int | None = None, fairness: bool = False
) -> int | None:
    """The earliest start of block ``b`` in [lo, hi] that satisfies every limit, or None."""
    pr = state.prob
    if pr.last[b] < pr.first[b]:
        return None
    pb = state.pred_bound(b)
    if pb is None:
        return None
    lo = max(pb, pr.first[b] if lo is None else lo)
    hi_succ = state.succ_bound(b) - int(pr.dur[b])
    hi = min(hi_succ, pr.last[b] if hi is None else hi)
    st = pr.starts(b, lo, hi)
    if st.size == 0:
        return None
    if fairness and not fair_ok(pr, alloc_slots(state), int(pr.partner_of[b]), int(pr.metric[b])):
        return None
    ok = prefilter(state, b, st)
    for s in st[ok][:MAX_EXACT_CHECKS]:
        if state.fits(b, int(s)):
            return int(s)
    return None


def greedy_plan(
    prob: Problem, state: PlanState | None = None, blocks: npt.ArrayLike | None = None, fairness: bool = True
) -> PlanState:
    """Place blocks greedily into ``state`` (a new empty plan by default)."""
    state = PlanState(prob) if state is None else state
    todo = [int(b) for b in order_blocks(prob, blocks) if state.start[b] < 0]
    if not fairness:
        _fill(state, todo, fairness=False)
        return state
    if prob.eff_share is None:
        _fill(state, todo, fairness=False)
        set_effective_shares(prob, state)
        _repair_fairness(state)
        todo = [b for b in todo if state.start[b] < 0]
    _fill(state, todo, fairness=True)
    return state


def _fill(state: PlanState, todo: list[int], fairness: bool) -> None:
    # blocks whose predecessors are not placed yet are retried after the others (precedence chains)
    for _ in range(3):
        deferred = []
        for b in todo:
            if state.start[b] >= 0:
                continue
            if state.pred_bound(b) is None:
                deferred.append(b)
                continue
            s = first_fit(state, b, fairness=fairness)
            if s is not None:
                state.place(b, s)
        if not deferred or len(deferred) == len(todo):
            break
        todo = deferred


def set_effective_shares(prob: Problem, state: PlanState) -> None:
    """Water-filled shares from each partner's demand and what an unconstrained greedy plan achieved in total (the
    station's capacity for these requests). A partner's demand counts the occurrences that could run on the
    station on its own (some start passes the power, energy, data and resource checks with nothing else planned):
    what can never run must not raise a partner's share and squeeze the others'."""
    empty = PlanState(prob)
    placeable = np.zeros(prob.n_blocks, dtype=bool)
    for b in np.flatnonzero(prob.last >= prob.first):
        st = prob.starts(int(b))
        placeable[b] = st.size > 0 and bool(prefilter(empty, int(b), st).any())
    demand = np.bincount(prob.partner_of[placeable], weights=prob.metric[placeable], minlength=len(prob.partners))
    total = float(alloc_slots(state).sum())
    prob.eff_share = fair_caps(prob, demand, total if total > 0 else float(demand.sum()))


def _repair_fairness(state: PlanState) -> None:
    """Remove the least valuable blocks of partners above their cap until every partner is within it; the room
    each removal frees goes to the other partners' unplaced blocks (within their caps), so that a partner who
    took everything in the unconstrained plan is traded down rather than removed altogether."""
    pr = state.prob
    num = fair_numerators(pr)
    dropped: set[int] = set()  # never placed again: the exchange terminates
    while True:
        alloc = alloc_slots(state)
        total = int(alloc.sum())
        over = [p for p in range(len(alloc)) if num[p] < FAIR_SCALE and alloc[p] * FAIR_SCALE > num[p] * total]
        if not over:
            return
        # the partner furthest above its cap gives up its least valuable block (latest first among equals)
        p = max(over, key=lambda q: alloc[q] * FAIR_SCALE - num[q] * total)
        mine = np.flatnonzero((state.start >= 0) & (pr.partner_of == p))
        removable = [b for b in mine if not any(state.start[s] >= 0 for s in state._succ().get(int(b), ()))]
        # every block of p has placed successors: the least valuable goes with its successors
        b = int(min(removable or mine, key=lambda q: (pr.value[q] / pr.dur[q], -state.start[q])))
        s, d = int(state.start[b]), int(pr.dur[b])
        todo = [b]
        while todo:
            q = todo.pop()
            if state.start[q] >= 0:
                state.remove(q)
                dropped.add(q)
                todo += [int(x) for x in state._succ().get(q, ())]
        near = np.flatnonzero(
            (state.start < 0)
            & (pr.partner_of != p)
            & (pr.last >= pr.first)
            & (pr.first < s + d)
            & (pr.last + pr.dur > s)
        )
        for q in order_blocks(pr, np.array([q for q in near if int(q) not in dropped], dtype=np.int64)):
            t = first_fit(state, int(q), fairness=True)
            if t is not None:
                state.place(int(q), t)
