"""The planner's entry points: plan a request set against the station's limits, and re-plan after an event."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ilrs.operations.cpsat import PARALLEL_WORKERS, SolveStats, improve
from ilrs.operations.greedy import alloc_slots, fair_ok, first_fit, greedy_plan, order_blocks
from ilrs.operations.limits import StationLimits
from ilrs.operations.problem import PlanState, Problem, Rejected, build_problem
from ilrs.operations.requests import RequestSet, expand
from ilrs.operations.validate import PlannedActivity


@dataclass
class PlanResult:
    """A plan and how it was obtained (values are priority weight x hours)."""

    problem: Problem
    state: PlanState
    method: str
    value: float
    greedy_value: float
    bound: float
    seconds: float
    greedy_seconds: float
    stats: SolveStats | None = None
    notes: list[str] = field(default_factory=list)
    #: blocks the planner placed but the twin check took out again (their reason is the twin's, not a limit's)
    removed_by_twin: list[int] = field(default_factory=list)
    #: the same inputs give the same plan (CP-SAT on one worker with a fixed seed and deterministic time)
    deterministic: bool = True

    @property
    def gap(self) -> float:
        return (self.bound - self.value) / self.bound if self.bound > 0 else 0.0

    @property
    def rejected(self) -> list[Rejected]:
        return self.problem.rejected

    def activities(self) -> list[PlannedActivity]:
        pr, lim = self.problem, self.problem.limits
        out = []
        for b in np.flatnonzero(self.state.start >= 0):
            blk = pr.blocks[b]
            s = int(self.state.start[b])
            out.append(PlannedActivity(blk.request, blk.occurrence, lim.time_of(s), lim.time_of(s + int(pr.dur[b]))))
        out.sort(key=lambda a: (a.start, a.request, a.occurrence))
        return out

    def unplanned(self) -> list[tuple[str, int]]:
        pr = self.problem
        return [
            (pr.blocks[b].request, pr.blocks[b].occurrence)
            for b in np.flatnonzero((self.state.start < 0) & (pr.last >= pr.first))
        ]

    def unplaced_reasons(self) -> list[Rejected]:
        """Every occurrence that could be placed on its own but is not in the plan, with why (:func:`why_unplaced`)."""
        pr = self.problem
        twin = set(self.removed_by_twin)
        return [
            Rejected(
                pr.blocks[b].request,
                pr.blocks[b].occurrence,
                TWIN_REASON if int(b) in twin else why_unplaced(self.state, int(b)),
            )
            for b in np.flatnonzero((self.state.start < 0) & (pr.last >= pr.first))
        ]

    def shares(self) -> dict[str, float]:
        a = alloc_slots(self.state)
        total = max(int(a.sum()), 1)
        return {p: float(a[i] / total) for i, p in enumerate(self.problem.partners)}


#: Why an occurrence the twin check removed is not planned.
TWIN_REASON = (
    "planned, then removed: the station twin re-run with the plan showed load shed or data lost in its energy or "
    "data cycle (limits the planner's linear model does not see)"
)
#: Starts examined per unplaced occurrence when explaining it (evenly spread over its window).
MAX_EXPLAINED_STARTS = 2000


def why_unplaced(state: PlanState, b: int) -> str:
    """Why block ``b`` is not in the plan: for every start its window and conditions allow, the first limit the
    plan already in place leaves no room in (as :meth:`PlanState.fits` checks them), counted over the starts."""
    pr = state.prob
    name = {j: f"{pr.blocks[j].request}#{pr.blocks[j].occurrence}" for j in pr.preds[b]}
    missing = [name[j] for j in pr.preds[b] if state.start[j] < 0]
    if missing:
        return f"it must come after {', '.join(missing)}, which is not planned"
    d = int(pr.dur[b])
    lo = max(int(state.pred_bound(b) or 0), int(pr.first[b]))
    hi = min(state.succ_bound(b) - d, int(pr.last[b]))
    st = pr.starts(b, lo, hi)
    if st.size == 0:
        return "no start between its predecessors' ends and its successors' starts where its conditions hold"
    if st.size > MAX_EXPLAINED_STARTS:
        st = st[np.unique(np.linspace(0, st.size - 1, MAX_EXPLAINED_STARTS).round().astype(np.int64))]
    counts: dict[str, int] = {}
    slack = state.data_slack() if pr.data[b] > 0 else None
    fit = 0
    for s in map(int, st):
        sl = slice(s, s + d)
        if pr.power[b] > 0 and state.power_left[sl].min() < pr.power[b]:
            why = "spare power short"
        elif busy := [pr.resources[r] for r in pr.res_of[b] if state.res_busy[r, sl].any()]:
            why = f"{', '.join(busy)} in use"
        elif slack is not None and slack[pr.limits.dcycle[s + d - 1]] < pr.data[b] - 1e-6:
            why = "no room for its data before the next downlink"
        elif pr.power[b] > 0 and not state.energy_ok(*state.energy_terms(b, s)):
            why = "the energy cycle's battery budget spent"
        else:
            fit += 1
            continue
        counts[why] = counts.get(why, 0) + 1
    if fit:
        partner = pr.partners[int(pr.partner_of[b])]
        if not fair_ok(pr, alloc_slots(state), int(pr.partner_of[b]), int(pr.metric[b])):
            return (
                f"it fits {fit} of {st.size} starts on its own, but would take partner {partner!r} beyond its fair "
                "share of the plan"
            )
        return (
            f"it fits {fit} of {st.size} starts, but the search did not reach it within its budget "
            "(a longer --time-limit may place it)"
        )
    parts = ", ".join(f"{why} at {n}" for why, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
    return f"none of the {st.size} starts its window and conditions allow fits: {parts}"


def trivial_bound(prob: Problem) -> float:
    """Every block that could be placed on its own placed: an upper bound on any plan's value."""
    return float(prob.value[prob.last >= prob.first].sum())


def plan(
    rs: RequestSet,
    limits: StationLimits,
    *,
    method: str = "cpsat",
    time_limit: float = 30.0,
    window_days: float = 7.0,
    workers: int = PARALLEL_WORKERS,
    progress: Callable[[int, int], None] | None = None,
    deterministic: bool = True,
) -> PlanResult:
    """Plan ``rs`` on the slot grid of ``limits``: the greedy baseline, then (``method="cpsat"``) exact windows
    seeded with it within ``time_limit`` (deterministic: a budget of CP-SAT deterministic time, the same plan on
    every run; else wall-clock seconds including the greedy baseline's)."""
    t0 = time.perf_counter()
    prob = build_problem(rs, expand(rs, limits.t0), limits)
    state = greedy_plan(prob)
    tg = time.perf_counter() - t0
    gval = state.total_value()
    stats = None
    bound = trivial_bound(prob)
    if method == "cpsat":
        slots = max(1, int(round(window_days * 86400.0 / limits.step_s)))
        budget = time_limit if deterministic else max(time_limit - tg, 0.5)
        stats = improve(state, slots, budget, workers=workers, progress=progress, deterministic=deterministic)
        bound = min(bound, stats.bound)
    elif method != "greedy":
        raise ValueError(f"unknown planning method {method!r} (cpsat or greedy)")
    return PlanResult(
        prob,
        state,
        method,
        state.total_value(),
        gval,
        max(bound, state.total_value()),
        time.perf_counter() - t0,
        tg,
        stats,
        deterministic=deterministic,
    )


@dataclass
class ReplanResult:
    result: PlanResult
    kept: int
    moved_or_dropped: int
    added: int
    seconds: float


def replan(
    old: PlanResult,
    limits: StationLimits,
    from_time: dt.datetime,
    *,
    time_limit: float = 7.0,
    window_days: float = 7.0,
    workers: int = PARALLEL_WORKERS,
    deterministic: bool = True,
) -> ReplanResult:
    """Re-plan from ``from_time`` on new limits (after an event): what started before stays as it was, what is
    still valid afterwards is kept, the rest is re-planned (greedy, then exact windows near the event)."""
    t0 = time.perf_counter()
    from ilrs.operations.validate import validate_plan

    rs_blocks = old.problem.blocks
    prob = build_problem(_requests_of(old), rs_blocks, limits)
    prob.eff_share = old.problem.eff_share
    state = PlanState(prob)
    cut = int(np.ceil(limits.slot_of(from_time)))
    old_start = old.state.start
    # 1. the past and activities under way are kept as they were, whatever the new limits say
    past = [b for b in np.flatnonzero(old_start >= 0) if old_start[b] < cut]
    for b_past in past:
        state.place(int(b_past), int(old_start[b_past]))
    # 2. later activities: kept in value order while they still fit the new limits
    later = [int(b) for b in order_blocks(prob, np.flatnonzero(old_start >= cut))]
    dropped = []
    for b in later:
        if prob.last[b] >= prob.first[b] and _fits_now(state, b, int(old_start[b])):
            state.place(b, int(old_start[b]))
        else:
            dropped.append(b)
    kept = int((state.start >= cut).sum())
    # 3. what was dropped or never placed: greedy from the event on, then exact windows near the event
    res_note = None
    for b in order_blocks(prob, np.flatnonzero((state.start < 0) & (prob.last >= cut))):
        # leave the exact windows near the event some time (deterministic: no wall-clock stop, the fill is quick)
        if not deterministic and time.perf_counter() - t0 > 0.6 * time_limit:
            res_note = "the greedy re-fill stopped at 60 % of the time limit"
            break
        s = first_fit(state, int(b), lo=cut, fairness=True)
        if s is not None:
            state.place(int(b), s)
    slots = max(1, int(round(window_days * 86400.0 / limits.step_s)))
    left = time_limit if deterministic else time_limit - (time.perf_counter() - t0)
    stats = None
    if left > 0.5:
        hi = min(limits.n, cut + 4 * slots)
        stats = improve(state, slots, left, workers=workers, lo=cut, hi=hi, deterministic=deterministic)
    res = PlanResult(
        prob,
        state,
        "replan",
        state.total_value(),
        old.greedy_value,
        trivial_bound(prob),
        time.perf_counter() - t0,
        0.0,
        stats,
        deterministic=deterministic,
    )
    if res_note:
        res.notes.append(res_note)
    # the validator judges what the re-plan decides: activities from the event on (the twin check, with the past
    # in its reference run, judges their effect on top of what was already done)
    acts = res.activities()
    bad = validate_plan(
        [a for a in acts if a.start >= from_time],
        _requests_of(old),
        limits,
        eff_share=prob.eff_share,
        partners=prob.partners,
        check_fairness=False,
        done=[a for a in acts if a.start < from_time],
    )
    res.notes += [f"{v.constraint}: {v.detail}" for v in bad if v.request == "*"]
    added = int(((state.start >= cut) & (old_start < 0)).sum())
    moved = int(((state.start != old_start) & (old_start >= cut)).sum())
    return ReplanResult(res, kept, moved, added, time.perf_counter() - t0)


def _fits_now(state: PlanState, b: int, s: int) -> bool:
    pr = state.prob
    run = pr.okrun(int(pr.cmask[b]))
    return s <= pr.last[b] and s >= pr.first[b] and run[s] >= pr.dur[b] and state.fits(b, s)


def _requests_of(res: PlanResult) -> RequestSet:
    assert res.problem.request_set is not None
    return res.problem.request_set
