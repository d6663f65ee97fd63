"""An independent plan validator: every constraint re-checked from the requests and the station's limits.

It shares nothing with the planner but the request format and the limits' arrays: occurrence windows, slots,
durations and each constraint's sums are recomputed here from the request text, per slot, with plain loops
and ``numpy`` sums (no residual bookkeeping). The twin re-run (``ilrs.services.plan``) checks the rest: that
the station sheds no load and loses no data because of the plan.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ilrs.operations.limits import CONDITION_BITS, StationLimits
from ilrs.operations.requests import RequestSet


@dataclass(frozen=True)
class PlannedActivity:
    """One placed occurrence of a request."""

    request: str
    occurrence: int
    start: dt.datetime
    end: dt.datetime


@dataclass(frozen=True)
class Violation:
    request: str
    occurrence: int | None
    constraint: str
    detail: str


def validate_plan(
    plan: list[PlannedActivity],
    rs: RequestSet,
    lim: StationLimits,
    check_fairness: bool = True,
    eff_share: np.ndarray | None = None,
    partners: list[str] | None = None,
    done: Sequence[PlannedActivity] = (),
) -> list[Violation]:
    """All violations of ``plan`` (empty: valid). ``done``: activities already carried out (before a re-plan),
    which count only as predecessors."""
    out: list[Violation] = []
    req = {r.id: r for r in rs.requests}
    step = lim.step_s
    h = step / 3600.0
    n = lim.n
    power = np.zeros(n)
    seen: set[tuple[str, int]] = set()
    busy: dict[str, list[tuple[int, int, str, int]]] = {}
    ends: dict[str, list[int]] = {}
    starts: dict[str, list[int]] = {}
    data_by_cycle = np.zeros(lim.data_free_bits.size)
    slots_by_partner: dict[str, int] = {}
    for a in plan:
        r = req.get(a.request)
        if r is None:
            out.append(Violation(a.request, a.occurrence, "request", "no such request"))
            continue
        key = (a.request, a.occurrence)
        if key in seen:
            out.append(Violation(a.request, a.occurrence, "duplicate", "occurrence planned twice"))
            continue
        seen.add(key)
        if not 0 <= a.occurrence < r.repeat_count:
            out.append(Violation(a.request, a.occurrence, "occurrence", f"request has {r.repeat_count}"))
            continue
        every = r.every_s
        w0 = r.earliest + dt.timedelta(seconds=a.occurrence * every if every else 0.0)
        w1 = min(r.deadline, w0 + dt.timedelta(seconds=every)) if every else r.deadline
        if a.start < w0 or a.end > w1:
            out.append(Violation(a.request, a.occurrence, "window", f"{a.start}..{a.end} outside {w0}..{w1}"))
        if (a.end - a.start).total_seconds() + 1e-6 < r.duration_s:
            out.append(
                Violation(
                    a.request, a.occurrence, "duration", f"{(a.end - a.start).total_seconds()} s < {r.duration_s} s"
                )
            )
        s0 = (a.start - lim.t0).total_seconds() / step
        s1 = (a.end - lim.t0).total_seconds() / step
        if abs(s0 - round(s0)) > 1e-6 or abs(s1 - round(s1)) > 1e-6 or s0 < 0 or s1 > n:
            out.append(Violation(a.request, a.occurrence, "grid", "not on the twin's time grid or outside it"))
            continue
        i0, i1 = int(round(s0)), int(round(s1))
        for c in r.conditions:
            bit = CONDITION_BITS[c]
            bad = np.flatnonzero((lim.cond[i0:i1] & bit) == 0)
            if bad.size:
                out.append(
                    Violation(a.request, a.occurrence, f"condition:{c}", f"not met at {lim.time_of(i0 + int(bad[0]))}")
                )
        power[i0:i1] += math.ceil(r.power_w - 1e-9)
        for res in r.resources:
            if res not in rs.resources:
                out.append(Violation(a.request, a.occurrence, "resource", f"unknown resource {res!r}"))
            busy.setdefault(res, []).append((i0, i1, a.request, a.occurrence))
        if r.data_mbit > 0:
            data_by_cycle[lim.dcycle[i1 - 1]] += r.data_mbit * 1e6
        ends.setdefault(a.request, []).append(i1)
        starts.setdefault(a.request, []).append(i0)
        amount = (
            (i1 - i0) if rs.fairness_metric == "time" else math.ceil(math.ceil(r.power_w - 1e-9) * (i1 - i0) * h - 1e-9)
        )
        slots_by_partner[r.partner] = slots_by_partner.get(r.partner, 0) + amount
    # exclusive resources: sorted sweep
    for res, ivs in busy.items():
        ivs.sort()
        reach, holder = -1, ("", 0)
        for b0, b1, rb, ob in ivs:
            if b0 < reach:
                out.append(Violation(rb, ob, f"resource:{res}", f"overlaps {holder[0]}#{holder[1]}"))
            if b1 > reach:
                reach, holder = b1, (rb, ob)
    # power per slot
    over = np.flatnonzero(power > np.floor(lim.cap_w + 1e-9) + 1e-6)
    if over.size:
        out.append(
            Violation(
                "*",
                None,
                "power",
                f"{over.size} slots above the spare power, first at "
                f"{lim.time_of(int(over[0]))}: {power[over[0]]:.0f} W > "
                f"{lim.cap_w[over[0]]:.0f} W",
            )
        )
    # energy cycles, from the per-slot power
    k = lim.deficit_budget_wh.size
    deficit = np.bincount(lim.ecycle, weights=np.where(~lim.surplus, power * h / lim.eta_d, 0.0), minlength=k)
    used = np.bincount(lim.ecycle, weights=np.where(lim.surplus, power * h, 0.0), minlength=k)
    tol = 1e-3 + 1e-6 * np.maximum(lim.payback_wh, 1.0)
    for cyc in np.flatnonzero(deficit > np.minimum(lim.deficit_budget_wh, lim.recharge_wh) + tol):
        out.append(
            Violation(
                "*",
                None,
                "energy:reserve",
                f"cycle {cyc}: {deficit[cyc]:.1f} Wh drawn from the battery, "
                f"{min(lim.deficit_budget_wh[cyc], lim.recharge_wh[cyc]):.1f} Wh allowed",
            )
        )
    for cyc in np.flatnonzero(deficit / lim.eta_c + used > lim.payback_wh + tol):
        out.append(
            Violation(
                "*",
                None,
                "energy:payback",
                f"cycle {cyc}: {deficit[cyc] / lim.eta_c + used[cyc]:.1f} Wh "
                f"> {lim.payback_wh[cyc]:.1f} Wh of curtailed energy",
            )
        )
    # data: the backlog of partner data, cycle by cycle (Lindley's recursion), never above the free storage
    backlog = 0.0
    for j in range(data_by_cycle.size):
        held = backlog + data_by_cycle[j]
        if held > lim.data_free_bits[j] + 1e-3 * max(lim.data_free_bits[j], 1.0) + 1.0:
            out.append(
                Violation(
                    "*",
                    None,
                    "data",
                    f"data cycle {j}: {held / 1e9:.3f} Gbit of partner data waiting, "
                    f"{lim.data_free_bits[j] / 1e9:.3f} Gbit of storage free",
                )
            )
        backlog = max(0.0, held - lim.data_unused_bits[j])
    for a in done:
        if a.request in req:
            ends.setdefault(a.request, []).append(int(round((a.end - lim.t0).total_seconds() / step)))
    # precedence: every occurrence of each predecessor planned and ended before any occurrence starts
    for rid, st in starts.items():
        for p in req[rid].after:
            pe = ends.get(p, [])
            if len(pe) < req[p].repeat_count if p in req else True:
                out.append(Violation(rid, None, "precedence", f"not every occurrence of {p!r} is planned"))
            elif max(pe) > min(st):
                out.append(Violation(rid, None, "precedence", f"starts before {p!r} ends"))
    # fairness: no partner above its (effective) share plus the tolerance of all allocated slots
    if check_fairness and slots_by_partner:
        total = sum(slots_by_partner.values())
        names = partners or sorted({r.partner for r in rs.requests})
        if eff_share is None:
            raw = np.array([rs.shares.get(p, 1.0 if not rs.shares else 0.0) for p in names])
            eff_share = raw / raw.sum()
        for p, s in zip(names, eff_share, strict=True):
            num = math.floor((s + rs.fairness_tolerance) * 1000 + 1e-9)
            if num < 1000 and slots_by_partner.get(p, 0) * 1000 > num * total:
                out.append(
                    Violation(
                        "*",
                        None,
                        "fairness",
                        f"{p}: {slots_by_partner[p] / total:.3f} of the allocated "
                        f"{rs.fairness_metric} > share {s:.3f} + tolerance",
                    )
                )
    return out
