"""The planning problem on the slot grid, and the mutable state of a plan (what each constraint has left).

Blocks (:class:`ilrs.operations.requests.Block`) become slot windows here; :class:`PlanState` holds the placed
blocks and the residual of every linear limit (power per slot, exclusive resources per slot, energy per cycle,
data per cycle, fairness totals). The greedy baseline, the CP-SAT windows and re-planning all change a plan
only through :meth:`PlanState.place` and :meth:`PlanState.remove`, and ask :meth:`PlanState.fits`.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from ilrs.operations.limits import StationLimits, condition_mask
from ilrs.operations.requests import Block, RequestSet, priority_weight

#: Power is handled in whole watts (CP-SAT is integer); the planner rounds demand up and capacity down.
EPS = 1e-9


@dataclass
class Rejected:
    request: str
    occurrence: int | None
    reason: str


@dataclass
class Problem:
    """Blocks on the slot grid with their feasible windows, exclusive resources and precedence."""

    limits: StationLimits
    blocks: list[Block]
    first: np.ndarray  #: (B,) first slot a start may take
    last: np.ndarray  #: (B,) last slot a start may take (inclusive); < first: cannot be placed
    dur: np.ndarray  #: (B,) duration [slots]
    power: np.ndarray  #: (B,) [W], integer-valued
    data: np.ndarray  #: (B,) [bit]
    value: np.ndarray  #: (B,) priority weight x hours
    metric: np.ndarray  #: (B,) what fairness counts, an integer: slots (time) or Wh (energy)
    cmask: np.ndarray  #: (B,) condition bits required at every slot
    resources: list[str]
    res_of: list[tuple[int, ...]]  #: per block, indices into ``resources``
    preds: list[list[int]]  #: per block, blocks that must end before it starts
    partners: list[str]
    partner_of: np.ndarray  #: (B,) partner index
    shares: np.ndarray  #: (P,) nominal shares (sum 1)
    tolerance: float
    rejected: list[Rejected] = field(default_factory=list)
    request_set: RequestSet | None = None
    eff_share: np.ndarray | None = None  #: water-filled shares (set by the greedy baseline)
    _okrun: dict[int, np.ndarray] = field(default_factory=dict, repr=False)

    @property
    def n_blocks(self) -> int:
        return len(self.blocks)

    def okrun(self, mask: int) -> np.ndarray:
        """For each slot, how many consecutive slots from it satisfy the condition bits ``mask``."""
        if mask not in self._okrun:
            ok = (self.limits.cond & mask) == mask
            # run length from each slot to the next failing slot
            idx = np.arange(ok.size)
            nxt_bad = np.minimum.accumulate(np.where(~ok, idx, ok.size)[::-1])[::-1]
            self._okrun[mask] = nxt_bad - idx
        return self._okrun[mask]

    def starts(self, b: int, lo: int | None = None, hi: int | None = None) -> np.ndarray:
        """All feasible starts of block ``b`` by conditions and window (ignoring the other blocks)."""
        a = self.first[b] if lo is None else max(self.first[b], lo)
        z = self.last[b] if hi is None else min(self.last[b], hi)
        if z < a:
            return np.empty(0, dtype=np.int64)
        run = self.okrun(int(self.cmask[b]))[a : z + 1]
        starts: np.ndarray = a + np.flatnonzero(run >= self.dur[b])
        return starts


def build_problem(
    rs: RequestSet, blocks: list[Block], limits: StationLimits, resources_known: Iterable[str] | None = None
) -> Problem:
    """Blocks on the slot grid; requests that can never be placed go to ``rejected`` with the reason."""
    step = limits.step_s
    n = limits.n
    nb = len(blocks)
    known = list(rs.resources) if resources_known is None else list(resources_known)
    res_index = {r: i for i, r in enumerate(known)}
    first = np.zeros(nb, dtype=np.int64)
    last = np.full(nb, -1, dtype=np.int64)
    dur = np.zeros(nb, dtype=np.int64)
    power = np.zeros(nb)
    data = np.zeros(nb)
    value = np.zeros(nb)
    cmask = np.zeros(nb, dtype=np.int64)
    res_of: list[tuple[int, ...]] = []
    rejected: list[Rejected] = []
    bad_request: dict[str, str] = {}
    for r in rs.requests:
        unknown = [x for x in r.resources if x not in res_index]
        if unknown:
            bad_request[r.id] = f"unknown resource(s) {unknown}; known: {sorted(res_index)}"
        elif r.deadline <= r.earliest:
            bad_request[r.id] = f"deadline {r.deadline} is not after earliest start {r.earliest}"
        elif r.duration_s > (r.deadline - r.earliest).total_seconds():
            bad_request[r.id] = "duration is longer than the window from earliest start to deadline"
        elif r.every_s and r.duration_s > r.every_s:
            bad_request[r.id] = f"duration {r.duration} is longer than the repetition period {r.repeat_every}"
        elif "sun" in r.conditions and "dark" in r.conditions:
            bad_request[r.id] = "asks for both 'sun' and 'dark' at once"
    if rs.shares:
        for r in rs.requests:
            if r.partner not in rs.shares and r.id not in bad_request:
                bad_request[r.id] = (
                    f"partner {r.partner!r} has no share in [shares] (partners with a share: {sorted(rs.shares)})"
                )
    ids = [r.id for r in rs.requests]
    dupes = {i for i in ids if ids.count(i) > 1}
    for d in dupes:
        bad_request[d] = "request id used more than once"
    # precedence: unknown targets and cycles
    after = {r.id: list(r.after) for r in rs.requests}
    for rid, targets in after.items():
        missing = [p for p in targets if p not in after]
        if missing and rid not in bad_request:
            bad_request[rid] = f"'after' names unknown request(s) {missing}"
    for rid in _in_cycles(after):
        bad_request.setdefault(rid, "cyclic precedence ('after' links form a cycle)")
    # a request after a rejected one can never start
    changed = True
    while changed:
        changed = False
        for rid, targets in after.items():
            if rid not in bad_request and any(p in bad_request for p in targets):
                bad_request[rid] = f"depends on rejected request(s) {[p for p in targets if p in bad_request]}"
                changed = True
    for rid, why in bad_request.items():
        rejected.append(Rejected(rid, None, why))

    for i, b in enumerate(blocks):
        dur[i] = max(1, math.ceil(b.duration_s / step - EPS))
        first[i] = max(0, math.ceil(b.window_start_s / step - EPS))
        last[i] = min(n, math.floor(b.window_end_s / step + EPS)) - dur[i]
        power[i] = math.ceil(b.power_w - EPS)
        data[i] = b.data_bits
        value[i] = priority_weight(b.priority) * dur[i] * step / 3600.0
        cmask[i] = condition_mask(b.conditions)
        res_of.append(tuple(res_index[x] for x in b.resources if x in res_index))
        if b.request in bad_request:
            last[i] = first[i] - 1
    partners = sorted({b.partner for b in blocks})
    pidx = {p: i for i, p in enumerate(partners)}
    partner_of = np.array([pidx[b.partner] for b in blocks], dtype=np.int64)
    raw = np.array([rs.shares.get(p, 1.0 if not rs.shares else 0.0) for p in partners], dtype=float)
    if raw.sum() <= 0:
        raw = np.ones(len(partners))
    by_request: dict[str, list[int]] = defaultdict(list)
    for i, b in enumerate(blocks):
        by_request[b.request].append(i)
    preds = [[j for p in after.get(b.request, []) for j in by_request.get(p, [])] for b in blocks]
    prob = Problem(
        limits=limits,
        blocks=blocks,
        first=first,
        last=last,
        dur=dur,
        power=power,
        data=data,
        value=value,
        metric=fair_metric(rs.fairness_metric, dur, power, step),
        cmask=cmask,
        resources=known,
        res_of=res_of,
        preds=preds,
        partners=partners,
        partner_of=partner_of,
        shares=raw / raw.sum() if len(partners) else raw,
        tolerance=rs.fairness_tolerance,
        rejected=rejected,
        request_set=rs,
    )
    # occurrences that can never fit their own window (conditions never hold long enough)
    for i, b in enumerate(blocks):
        if b.request in bad_request:
            continue
        if last[i] < first[i]:
            outside = b.window_end_s <= 0 or b.window_start_s >= n * step
            why = (
                "its window lies outside the planning horizon"
                if outside
                else "its window inside the planning horizon is shorter than its duration"
            )
            rejected.append(Rejected(b.request, b.occurrence, why))
            continue
        if prob.starts(i).size == 0:
            rejected.append(
                Rejected(
                    b.request,
                    b.occurrence,
                    f"conditions {list(b.conditions)} never hold for {b.duration_s / 3600:g} h "
                    "in a row inside its window",
                )
            )
            last[i] = first[i] - 1
        elif power[i] > limits.cap_w.max() + EPS:
            rejected.append(
                Rejected(
                    b.request,
                    b.occurrence,
                    f"draws {b.power_w:g} W, more than the station ever has spare ({limits.cap_w.max():.0f} W)",
                )
            )
            last[i] = first[i] - 1
    return prob


def fair_metric(kind: str, slots: npt.ArrayLike, power_w: npt.ArrayLike, step_s: float) -> np.ndarray:
    """What fairness counts per activity, as integers: slots of time, or whole Wh drawn (rounded up)."""
    slots = np.asarray(slots, dtype=np.int64)
    if kind == "energy":
        wh: np.ndarray = np.ceil(np.asarray(power_w, dtype=np.float64) * slots * step_s / 3600.0 - 1e-9).astype(
            np.int64
        )
        return wh
    return slots


def _in_cycles(after: dict[str, list[str]]) -> set[str]:
    """Requests on a precedence cycle (Tarjan's strongly connected components, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on: set[str] = set()
    stack: list[str] = []
    out: set[str] = set()
    counter = 0
    for root in after:
        if root in index:
            continue
        work = [(root, iter(after.get(root, [])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on.add(root)
        while work:
            v, it = work[-1]
            nxt = next((w for w in it if w in after), None)
            if nxt is not None:
                if nxt not in index:
                    index[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on.add(nxt)
                    work.append((nxt, iter(after.get(nxt, []))))
                elif nxt in on:
                    low[v] = min(low[v], index[nxt])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                if len(comp) > 1 or v in after.get(v, []):
                    out.update(comp)
    return out


class PlanState:
    """Placed blocks and the residual of every limit; O(duration) place/remove."""

    def __init__(self, prob: Problem):
        self.prob = prob
        lim = prob.limits
        self.start = np.full(prob.n_blocks, -1, dtype=np.int64)
        self.power_left = np.floor(lim.cap_w + EPS).astype(np.int64)
        self.res_busy = np.zeros((max(len(prob.resources), 1), lim.n), dtype=bool)
        self.deficit = np.zeros(lim.deficit_budget_wh.size)  # D_k [Wh drawn from the battery]
        self.surplus_used = np.zeros(lim.deficit_budget_wh.size)  # E_k [Wh]
        self.data_used = np.zeros(lim.data_free_bits.size)  # partner data ending in each data cycle [bit]
        self._data_slack: np.ndarray | None = None
        self.alloc = np.zeros(len(prob.partners), dtype=np.int64)  # fairness metric placed per partner
        self.h = lim.step_s / 3600.0

    @property
    def placed(self) -> np.ndarray:
        return np.flatnonzero(self.start >= 0)

    def total_value(self) -> float:
        return float(self.prob.value[self.start >= 0].sum())

    def energy_terms(self, b: int, s: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Cycles touched by block ``b`` at start ``s`` and its deficit/surplus energy in each [Wh]."""
        lim, p = self.prob.limits, self.prob.power[b]
        sl = slice(s, s + int(self.prob.dur[b]))
        cyc = lim.ecycle[sl]
        sur = lim.surplus[sl]
        ks = np.unique(cyc)
        if p <= 0:
            z = np.zeros(ks.size)
            return ks, z, z
        d = np.bincount(cyc - ks[0], weights=np.where(~sur, p * self.h / lim.eta_d, 0.0))[ks - ks[0]]
        e = np.bincount(cyc - ks[0], weights=np.where(sur, p * self.h, 0.0))[ks - ks[0]]
        return ks, d, e

    def energy_ok(self, ks: np.ndarray, d: np.ndarray, e: np.ndarray) -> bool:
        lim = self.prob.limits
        dn = self.deficit[ks] + d
        en = self.surplus_used[ks] + e
        return bool(
            np.all(dn <= lim.deficit_budget_wh[ks] + 1e-6)
            and np.all(dn / lim.eta_c + en <= lim.payback_wh[ks] + 1e-6)
            and np.all(dn <= lim.recharge_wh[ks] + 1e-6)
        )

    def data_slack(self) -> np.ndarray:
        """Per data cycle ``c``, how many more bits may end there with the store never overflowing.

        Adding ``x`` to cycle ``c`` raises ``sum_{m=i..j} P_m - sum_{m=i..j-1} U_m`` by ``x`` for every
        ``i <= c <= j``; with prefix sums ``SP``, ``SU`` the room is
        ``min_{j >= c} (F_j - SP_{j+1} + SU_j) + min_{i <= c} (SP_i - SU_i)`` (separable, so O(J) for all ``c``).
        """
        if self._data_slack is None:
            lim = self.prob.limits
            sp = np.concatenate([[0.0], np.cumsum(self.data_used)])
            su = np.concatenate([[0.0], np.cumsum(lim.data_unused_bits)])
            g = lim.data_free_bits - sp[1:] + su[:-1]
            h = sp[:-1] - su[:-1]
            self._data_slack = np.minimum.accumulate(g[::-1])[::-1] + np.minimum.accumulate(h)
        return self._data_slack

    def data_window(self, a: int, b: int) -> tuple[float, float]:
        """For re-planning data cycles ``a..b`` with everything else fixed: the backlog entering cycle ``a`` and the
        largest backlog that may leave cycle ``b`` without overflowing the store later [bit]."""
        lim = self.prob.limits
        net = np.concatenate([[0.0], np.cumsum(self.data_used - lim.data_unused_bits)])  # S_k = sum_{m<k} (D-U)
        b_in = float(net[a] - net[: a + 1].min()) if a > 0 else 0.0
        if b + 1 >= lim.data_free_bits.size:
            return b_in, float("inf")
        m = np.arange(b + 1, lim.data_free_bits.size)
        t_out = lim.data_free_bits[m] - self.data_used[m] - (net[m] - net[b + 1])
        return b_in, float(t_out.min())

    def pred_bound(self, b: int) -> int | None:
        """Earliest start allowed by precedence, or None if a predecessor is not placed."""
        lo = 0
        for j in self.prob.preds[b]:
            if self.start[j] < 0:
                return None
            lo = max(lo, int(self.start[j] + self.prob.dur[j]))
        return lo

    def succ_bound(self, b: int) -> int:
        """Latest end allowed by placed successors (a block moved by re-planning must not pass them)."""
        hi = self.prob.limits.n
        for j in self._succ().get(b, ()):
            if self.start[j] >= 0:
                hi = min(hi, int(self.start[j]))
        return hi

    def _succ(self) -> dict[int, list[int]]:
        if not hasattr(self, "_succ_map"):
            m: dict[int, list[int]] = defaultdict(list)
            for b, ps in enumerate(self.prob.preds):
                for j in ps:
                    m[j].append(b)
            self._succ_map = m
        return self._succ_map

    def fits(self, b: int, s: int, check_fair: bool = False) -> bool:
        """Can block ``b`` start at slot ``s`` given everything placed (conditions are the caller's)?"""
        pr = self.prob
        d = int(pr.dur[b])
        if s < pr.first[b] or s > pr.last[b]:
            return False
        sl = slice(s, s + d)
        if pr.power[b] > 0 and self.power_left[sl].min() < pr.power[b]:
            return False
        for r in pr.res_of[b]:
            if self.res_busy[r, sl].any():
                return False
        if pr.data[b] > 0 and self.data_slack()[pr.limits.dcycle[s + d - 1]] < pr.data[b] - 1e-6:
            return False
        if pr.power[b] > 0 and not self.energy_ok(*self.energy_terms(b, s)):
            return False
        lo = self.pred_bound(b)
        if lo is None or s < lo or s + d > self.succ_bound(b):
            return False
        return True

    def place(self, b: int, s: int) -> None:
        pr = self.prob
        d = int(pr.dur[b])
        sl = slice(s, s + d)
        self.power_left[sl] -= int(pr.power[b])
        for r in pr.res_of[b]:
            self.res_busy[r, sl] = True
        if pr.data[b] > 0:
            self.data_used[pr.limits.dcycle[s + d - 1]] += pr.data[b]
            self._data_slack = None
        ks, dd, ee = self.energy_terms(b, s)
        self.deficit[ks] += dd
        self.surplus_used[ks] += ee
        self.alloc[pr.partner_of[b]] += pr.metric[b]
        self.start[b] = s

    def remove(self, b: int) -> None:
        pr = self.prob
        s = int(self.start[b])
        if s < 0:
            return
        d = int(pr.dur[b])
        sl = slice(s, s + d)
        self.power_left[sl] += int(pr.power[b])
        for r in pr.res_of[b]:
            self.res_busy[r, sl] = False
        if pr.data[b] > 0:
            self.data_used[pr.limits.dcycle[s + d - 1]] -= pr.data[b]
            self._data_slack = None
        ks, dd, ee = self.energy_terms(b, s)
        self.deficit[ks] -= dd
        self.surplus_used[ks] -= ee
        self.alloc[pr.partner_of[b]] -= pr.metric[b]
        self.start[b] = -1

    def remove_with_successors(self, b: int) -> int:
        """Remove ``b`` and every placed activity that must come after it (transitively); how many went."""
        todo, n = [int(b)], 0
        while todo:
            q = todo.pop()
            if self.start[q] >= 0:
                self.remove(q)
                n += 1
                todo += [int(x) for x in self._succ().get(q, ())]
        return n

    def copy(self) -> PlanState:
        new = PlanState.__new__(PlanState)
        new.__dict__.update({k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in self.__dict__.items()})
        return new


def fair_caps(prob: Problem, demand: np.ndarray, capacity: float) -> np.ndarray:
    """Each partner's effective share by weighted water-filling: partners asking for less than their share of
    ``capacity`` get what they ask; the rest is split among the others in proportion to their shares."""
    p = len(prob.partners)
    eff = np.zeros(p)
    if p == 0 or capacity <= 0:
        return eff
    left = capacity
    active = np.ones(p, dtype=bool)
    d = np.asarray(demand, dtype=float)
    while active.any():
        w = prob.shares * active
        if w.sum() <= 0:  # only partners with no share left: they get nothing
            break
        lam = left / w.sum()
        small = active & (d <= lam * prob.shares + 1e-12)
        if not small.any():
            eff[active] = lam * prob.shares[active]
            break
        eff[small] = d[small]
        left -= d[small].sum()
        active &= ~small
    shares: np.ndarray = eff / max(eff.sum(), 1e-12)
    return shares
