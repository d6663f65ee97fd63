"""Operations planning use cases: a scenario's twin gives the limits, the planner places partner activities,
the twin re-runs with the plan to show it causes no loss of load, and events trigger re-planning."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path

import numpy as np

from ilrs.errors import IlrsError
from ilrs.operations.limits import StationLimits, build_limits
from ilrs.operations.planner import PlanResult, ReplanResult, trivial_bound
from ilrs.operations.requests import Block, RequestSet, load_requests
from ilrs.operations.validate import Violation
from ilrs.scenario.schema import EVENT_ADAPTER, ElementFailure, Event, Scenario
from ilrs.services.twin import run_twin, site_environment
from ilrs.station.engine import EngineResult, run_engine
from ilrs.station.environment import SiteEnvironment
from ilrs.station.twin import TwinRun, build_inputs, run_inputs

#: The engine class partner activities are charged to (3: science operations; base payloads are 4 and 5).
PLAN_PRIORITY = 3


def requests_for(scenario: Scenario, path: str | Path | None) -> RequestSet:
    """The activity requests in ``path``, else those the scenario declares (its ``requests`` field)."""
    if path is None:
        path = scenario.requests_path()
        if path is None:
            raise IlrsError(
                "no activity requests given and the scenario declares none",
                source=str(scenario.path or scenario.name),
                hint="pass --requests FILE (TOML or JSON; see docs/operations.md) or set requests = FILE in the "
                "scenario",
            )
    return load_requests(path)


def horizon_of(rs: RequestSet, scenario: Scenario, start=None, end=None) -> tuple[dt.datetime, dt.datetime]:
    """The planning horizon: given, else from the earliest request to the latest deadline, inside the run."""
    s0 = scenario.start.replace(tzinfo=None)
    s1 = scenario.end.replace(tzinfo=None)
    a = start or min((r.earliest for r in rs.requests), default=s0)
    b = end or max((r.deadline for r in rs.requests), default=s1)
    a, b = max(a, s0), min(b, s1)
    if b <= a:
        raise IlrsError(
            f"planning horizon {a} .. {b} is empty inside the scenario's run {s0} .. {s1}",
            source="requests",
            hint="move the requests' dates into the scenario's run",
        )
    return a, b


@dataclass
class Baseline:
    """The twin without partner activities, and the planning horizon's slots in it."""

    twin: TwinRun
    i0: int
    i1: int
    limits: StationLimits
    notes: list[str] = field(default_factory=list)


def baseline(scenario: Scenario, start: dt.datetime, end: dt.datetime, twin: TwinRun | None = None) -> Baseline:
    twin = twin or run_twin(scenario)
    s, r = twin.series, twin.result
    utc = s.utc.astype("datetime64[s]")
    i0 = int(np.searchsorted(utc, np.datetime64(start, "s")))
    i1 = int(np.searchsorted(utc, np.datetime64(end, "s")))
    if i1 <= i0:
        raise IlrsError("the planning horizon holds no step of the twin", source=scenario.name)
    sl = slice(i0, i1)
    t0 = utc[i0].astype(dt.datetime)
    lim = build_limits(
        t0,
        s.step_s,
        sun_fraction=s.sun_fraction_deck[sl],
        dte_bps=s.dte_bps[sl],
        relay_bps=s.relay_bps[sl],
        curtailed_w=r.curtailed_w[sl],
        charge_w=r.charge_w[sl],
        discharge_w=r.discharge_w[sl],
        stored_wh=r.stored_wh[1:][sl],
        capacity_wh=r.capacity_wh[sl],
        # partner activities draw on the battery only above every shedding threshold from their class down, so that
        # they never push the station into shedding its own lower-priority loads earlier than without them
        min_soc=max(s.min_soc, *s.shed_below_soc[PLAN_PRIORITY - 1 :]),
        max_charge_w=s.max_charge_w[sl],
        max_discharge_w=s.max_discharge_w[sl],
        eta_c=s.charge_efficiency,
        eta_d=s.discharge_efficiency,
        downlinked_bits=r.data_downlinked_bits[sl],
        data_stored_bits=r.data_stored_bits[1:][sl],
        storage_bits=s.storage_bits[sl],
    )
    return Baseline(twin, i0, i1, lim)


def plan_loads(base: Baseline, blocks: list[Block], starts: np.ndarray, durations: np.ndarray) -> tuple:
    """Per-step power [W] and data rate [bit/s] of a plan over the whole twin run. An activity's data reaches
    the station's store in its last step (instruments buffer while they run), as the planner counts it."""
    n = base.twin.series.et.size
    p = np.zeros(n)
    d = np.zeros(n)
    for b, s, k in zip(blocks, starts, durations, strict=True):
        if s < 0:
            continue
        a = base.i0 + int(s)
        p[a : a + int(k)] += b.power_w
        d[a + int(k) - 1] += b.data_bits / base.twin.series.step_s
    return p, d


def twin_with_plan(base: Baseline, power_w: np.ndarray, data_bps: np.ndarray) -> EngineResult:
    """The engine re-run with the plan's activities added to the science-operations class."""
    inputs = base.twin.series
    load = inputs.load_w.copy()
    rate = inputs.data_rate_bps.copy()
    load[PLAN_PRIORITY - 1] += power_w
    rate[PLAN_PRIORITY - 1] += data_bps
    return run_engine(replace(inputs, load_w=load, data_rate_bps=rate))


@dataclass
class TwinCheck:
    """The twin re-run with the plan: what the plan changes in load shed, data lost and state of charge."""

    extra_shed_kwh: float
    extra_shed_steps: int
    extra_data_lost_gbit: float
    min_soc_baseline: float
    min_soc_with_plan: float
    plan_energy_kwh: float
    plan_data_gbit: float

    @property
    def ok(self) -> bool:
        return self.extra_shed_steps == 0 and self.extra_data_lost_gbit <= 1e-9


def _reference(base: Baseline, res, before: int | None) -> EngineResult:
    """The run the plan is judged against: the baseline, plus the activities that started before ``before``."""
    if before is None:
        return base.twin.result
    pr = res.problem
    past = np.where((res.state.start >= 0) & (res.state.start < before), res.state.start, -1)
    return twin_with_plan(base, *plan_loads(base, pr.blocks, past, pr.dur))


def twin_check(
    base: Baseline, res, before: int | None = None, reference: EngineResult | None = None
) -> tuple[TwinCheck, np.ndarray]:
    """Re-run the twin with ``res``'s activities; also returns, per step, the load shed the plan caused [W].

    ``before`` (a slot of the horizon): activities that started before it are history, and the reference run
    includes them, so that only what the plan does from then on is judged (after an event, what was done before
    it may well leave the station short: nothing can undo it)."""
    pr = res.problem
    power, rate = plan_loads(base, pr.blocks, res.state.start, pr.dur)
    r0 = reference if reference is not None else _reference(base, res, before)
    r1 = twin_with_plan(base, power, rate)
    s = base.twin.series
    h = s.step_s / 3600.0
    # shed beyond the baseline in any class, counted at the bus (the plan's own load is served or not, too)
    extra = np.maximum(r1.shed_w.sum(axis=0) - r0.shed_w.sum(axis=0), 0.0)
    extra_steps = int((extra > 1e-6).sum())
    lost = float((r1.data_lost_bits.sum() - r0.data_lost_bits.sum()) / 1e9)
    cap = np.maximum(s.battery_capacity_wh, 1e-9)
    has = s.battery_capacity_wh > 0
    soc0 = float((r0.stored_wh[1:][has] / cap[has]).min()) if has.any() else float("nan")
    soc1 = float((r1.stored_wh[1:][has] / cap[has]).min()) if has.any() else float("nan")
    return TwinCheck(
        float(extra.sum() * h / 1e3),
        extra_steps,
        max(lost, 0.0),
        soc0,
        soc1,
        float(power.sum() * h / 1e3),
        float(rate.sum() * s.step_s / 1e9),
    ), extra


def repair_with_twin(base: Baseline, res, max_rounds: int = 50, before: int | None = None) -> tuple[TwinCheck, int]:
    """Until the twin shows no load shed or data lost caused by the plan: drop the least valuable activity
    running in the energy cycle of the first extra shed (the linear limits make this rare). ``before``: as for
    :func:`twin_check`; activities that started before it are never removed."""
    removed = 0
    placed_before = res.state.start >= 0
    ref = _reference(base, res, before)
    check, extra = twin_check(base, res, reference=ref)
    pr = res.problem
    for _ in range(max_rounds):
        if check.ok:
            break
        st = res.state
        placed = np.flatnonzero(st.start >= (0 if before is None else before))
        if extra.any():
            t = int(np.flatnonzero(extra > 1e-6)[0]) - base.i0
            k = pr.limits.ecycle[min(max(t, 0), pr.limits.n - 1)]
            # activities drawing power in that cycle or the one before, up to the failing step
            cands = [
                b
                for b in placed
                if pr.power[b] > 0 and st.start[b] <= t and pr.limits.ecycle[st.start[b]] in (k, k - 1)
            ]
        else:
            # data lost: the activities whose data is still in storage, beyond the baseline's, when it overflows
            r0 = ref
            r1 = twin_with_plan(base, *plan_loads(base, pr.blocks, st.start, pr.dur))
            more = r1.data_lost_bits - r0.data_lost_bits
            t = int(np.flatnonzero(more > 1e-3)[0]) if (more > 1e-3).any() else int(np.argmax(more))
            calm = np.flatnonzero(r1.data_stored_bits[1 : t + 1] - r0.data_stored_bits[1 : t + 1] <= 1e-3)
            a = (int(calm[-1]) + 1 if calm.size else 0) - base.i0
            t -= base.i0
            cands = [b for b in placed if pr.data[b] > 0 and st.start[b] <= t and st.start[b] + pr.dur[b] > a]
            # enough of the least valuable of them at once to cover the first overflow (one twin run per round)
            episode = more[t + base.i0 :]
            stop = np.flatnonzero(episode <= 1e-3)
            need = float(episode[: stop[0] if stop.size else episode.size].sum())
            cands.sort(key=lambda q: (pr.value[q] / pr.dur[q], -st.start[q]))
            take = np.searchsorted(np.cumsum([pr.data[q] for q in cands]), need) + 1
            cands = cands[: max(int(take), 1)]
        if not cands:
            break
        if extra.any():
            cands = [min(cands, key=lambda q: (pr.value[q] / pr.dur[q], -st.start[q]))]
        for b in cands:
            removed += st.remove_with_successors(int(b))  # what must come after it goes too
        check, extra = twin_check(base, res, reference=ref)
    res.value = res.state.total_value()
    res.removed_by_twin = sorted(
        set(res.removed_by_twin) | set(np.flatnonzero(placed_before & (res.state.start < 0)).tolist())
    )
    return check, removed


@dataclass
class ScenarioPlan:
    """A plan on a scenario's station: the baseline it was made against, the planner's result, the twin's check
    of it (after any repair) and the independent validator's violations (none when all is well)."""

    scenario: Scenario
    requests: RequestSet
    base: Baseline
    result: PlanResult
    check: TwinCheck
    repaired: int
    violations: list[Violation]
    env: SiteEnvironment | None = field(default=None, repr=False)

    @cached_property
    def environment(self) -> SiteEnvironment:
        """The site environment the baseline twin ran in (for re-running it after an event)."""
        return self.env if self.env is not None else site_environment(self.scenario)


def plan_scenario(
    scenario: Scenario,
    rs: RequestSet,
    *,
    start=None,
    end=None,
    method: str = "cpsat",
    time_limit: float = 30.0,
    window_days: float = 7.0,
    twin: TwinRun | None = None,
    env: SiteEnvironment | None = None,
    progress=None,
    deterministic: bool = True,
) -> ScenarioPlan:
    """Plan a request set on a scenario's station: limits from the baseline twin, the plan, the twin re-run
    (with repair if it shows any harm), and the independent validator's verdict."""
    from ilrs.operations.planner import plan
    from ilrs.operations.validate import validate_plan

    a, b = horizon_of(rs, scenario, start, end)
    if twin is None:
        env = env if env is not None else site_environment(scenario)
        twin = run_twin(scenario, env)
    base = baseline(scenario, a, b, twin)
    res = plan(
        rs,
        base.limits,
        method=method,
        time_limit=time_limit,
        window_days=window_days,
        progress=progress,
        deterministic=deterministic,
    )
    check, repaired = repair_with_twin(base, res)
    bad = validate_plan(
        res.activities(), rs, base.limits, eff_share=res.problem.eff_share, partners=res.problem.partners
    )
    return ScenarioPlan(scenario, rs, base, res, check, repaired, bad, env)


def plan_rows(sp: ScenarioPlan) -> list[dict]:
    """One row per planned activity, with what it needs (the JSON output and the charts use these)."""
    req = {r.id: r for r in sp.requests.requests}
    rows = []
    for a in sp.result.activities():
        r = req[a.request]
        rows.append(
            {
                "request": a.request,
                "occurrence": a.occurrence,
                "partner": r.partner,
                "payload": r.payload,
                "start": a.start.isoformat(timespec="minutes") + "Z",
                "end": a.end.isoformat(timespec="minutes") + "Z",
                "power_w": r.power_w,
                "data_mbit": r.data_mbit,
                "resources": list(r.resources),
                "conditions": list(r.conditions),
                "priority": r.priority,
            }
        )
    return rows


def plan_summary(sp: ScenarioPlan) -> dict:
    """The plan's figures: sizes, value and bounds, shares, the twin check, the validator, rejections."""
    res = sp.result
    pr = res.problem
    reasons = Counter(x.reason for x in res.rejected)
    lim = pr.limits
    return {
        "scenario": sp.scenario.name,
        "horizon": [lim.t0.isoformat() + "Z", lim.time_of(lim.n).isoformat() + "Z"],
        "step_s": lim.step_s,
        "requests": len(sp.requests.requests),
        "blocks": pr.n_blocks,
        "planned": int((res.state.start >= 0).sum()),
        "rejected": len(res.rejected),
        "unplanned": len(res.unplanned()),
        "method": res.method,
        "value": res.value,
        "greedy_value": res.greedy_value,
        "bound": res.bound,
        "gap": res.gap,
        "bound_kind": "windows" if res.stats else "trivial",
        "trivial_bound": trivial_bound(pr),
        "seconds": res.seconds,
        "greedy_seconds": res.greedy_seconds,
        "windows": len(res.stats.windows) if res.stats else 0,
        "shares": res.shares(),
        "share_targets": dict(
            zip(pr.partners, map(float, pr.eff_share if pr.eff_share is not None else pr.shares), strict=True)
        ),
        "twin_check": {**sp.check.__dict__, "ok": sp.check.ok},
        "repaired": sp.repaired,
        "violations": [v.__dict__ for v in sp.violations],
        "rejected_reasons": [{"reason": k, "count": v} for k, v in reasons.most_common()],
        "unplanned_occurrences": [
            {"request": x.request, "occurrence": x.occurrence, "reason": x.reason} for x in res.unplaced_reasons()
        ],
        "deterministic": res.deterministic,
    }


@dataclass(frozen=True)
class Replan:
    """A re-plan after an event: how long it took, what it kept, moved and added, the value before and after."""

    event: str
    seconds: float
    kept: int
    moved: int
    added: int
    value_before: float
    value_after: float
    ok: bool  #: the twin shows no load shed or data lost caused by the new plan


def replan_for(sp: ScenarioPlan, event: Event, time_limit: float = 7.0) -> Replan:
    """:func:`replan_scenario` summarised (the plan ``sp`` itself is left as it was)."""
    rr, check, _ = replan_scenario(sp, event, time_limit=time_limit)
    return Replan(
        event=event.describe(),
        seconds=rr.seconds,
        kept=rr.kept,
        moved=rr.moved_or_dropped,
        added=rr.added,
        value_before=float(sp.result.value),
        value_after=float(rr.result.value),
        ok=check.ok,
    )


LINKS = {"earth": ("dte_bps",), "relay": ("relay_bps",), "downlink": ("dte_bps", "relay_bps")}


def event_limits(sp: ScenarioPlan, event: Event) -> tuple[Baseline, dt.datetime]:
    """The baseline after an event, and when it happens: an element failure (the element stops working at that
    time: its power, storage, loads or link are gone from then on) or a lost link (unavailable over a span).

    Either way the twin is re-run on the changed series, so that power, energy cycles, conditions and data cycles
    all follow."""
    sc = sp.scenario
    s_all = sp.base.twin.series
    utc = s_all.utc.astype("datetime64[s]")
    if isinstance(event, ElementFailure):
        name = event.element
        at = event.at.replace(tzinfo=None)
        names = [e.name for e in sc.elements]
        if name not in names:
            raise IlrsError(
                f"no element {name!r} in the scenario", source="event.element", hint=f"one of: {', '.join(names)}"
            )
        _inside(sp, at, "event.at")
        without = sc.model_copy(update={"elements": [e for e in sc.elements if e.name != name]})
        s_wo = build_inputs(without, sp.environment)
        cut = int(np.searchsorted(utc, np.datetime64(at, "s")))

        def change(f: str, arr: np.ndarray) -> None:
            arr[..., cut:] = getattr(s_wo, f)[..., cut:]

        failed = next(e for e in sc.elements if e.name == name)
        return _rebaseline(sp, change, f"{failed.kind} {name!r} failed at {at}"), at
    a, b = event.start.replace(tzinfo=None), event.end.replace(tzinfo=None)
    _inside(sp, a, "event.from")
    i0 = int(np.searchsorted(utc, np.datetime64(a, "s")))
    i1 = int(np.searchsorted(utc, np.datetime64(b, "s")))
    fields = LINKS[event.condition]

    def cut_link(f: str, arr: np.ndarray) -> None:
        if f in fields:
            arr[i0:i1] = 0.0

    return _rebaseline(sp, cut_link, f"{event.condition} link lost {a} .. {b}"), a


def check_event_in(event: Event, start: dt.datetime, end: dt.datetime, source: str = "event") -> None:
    """Refuse an event outside the planning horizon [start, end) before any planning (see :func:`_inside`)."""
    if isinstance(event, ElementFailure):
        _inside_span(event.at.replace(tzinfo=None), start, end, f"{source}.at")
    else:
        _inside_span(event.start.replace(tzinfo=None), start, end, f"{source}.from")


def _inside(sp: ScenarioPlan, at: dt.datetime, where: str) -> None:
    """An event must fall inside the plan's horizon: before it nothing is planned yet, after it nothing is left."""
    lim = sp.base.limits
    _inside_span(at, lim.t0, lim.time_of(lim.n), where)


def _inside_span(at: dt.datetime, t0: dt.datetime, t1: dt.datetime, where: str) -> None:
    if not t0 <= at < t1:
        raise IlrsError(
            f"the event at {at:%Y-%m-%dT%H:%M} lies outside the plan's horizon {t0:%Y-%m-%d} .. {t1:%Y-%m-%d}",
            source=where,
            hint="give a time inside the planning horizon (--start/--end or the requests' dates)",
        )


def parse_event(value: object, source: str = "event") -> Event:
    """An event from a mapping (JSON or TOML), checked by the scenario schema's event types."""
    from pydantic import ValidationError

    try:
        return EVENT_ADAPTER.validate_python(value)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'][1:]) or 'kind'}: {e['msg']}" for e in exc.errors())
        raise IlrsError(
            f"invalid event: {problems}",
            source=source,
            hint='e.g. {"kind": "element_failure", "element": "ilrs1-array", "at": "2033-09-01"} or '
            '{"kind": "window_lost", "condition": "earth", "from": "2033-03-01", "to": "2033-03-15"}',
        ) from None


_CHANGED = (
    "generation_w",
    "solar_w",
    "nuclear_w",
    "load_w",
    "data_rate_bps",
    "battery_capacity_wh",
    "max_charge_w",
    "max_discharge_w",
    "storage_bits",
    "dte_bps",
    "relay_bps",
)


def _rebaseline(sp: ScenarioPlan, change: Callable[[str, np.ndarray], None], note: str) -> Baseline:
    """The baseline twin re-run on a copy of the series changed by ``change(field, array)``, same horizon (a lost
    link keeps its transmitter's load: conservative for the power left to partners)."""
    s_all = sp.base.twin.series
    changed = {}
    for f in _CHANGED:
        arr = getattr(s_all, f).copy()
        change(f, arr)
        changed[f] = arr
    twin = run_inputs(sp.scenario, s_all.with_series(**changed))
    lim = sp.base.limits
    b = baseline(sp.scenario, lim.t0, lim.time_of(lim.n), twin)
    b.notes.append(note)
    return b


def replan_scenario(
    sp: ScenarioPlan, event: Event, time_limit: float = 7.0
) -> tuple[ReplanResult, TwinCheck, Baseline]:
    """Re-plan after an event; returns (ReplanResult, TwinCheck on the new baseline, new Baseline)."""
    from ilrs.operations.planner import replan

    base2, at = event_limits(sp, event)
    rr = replan(sp.result, base2.limits, at, time_limit=time_limit, deterministic=sp.result.deterministic)
    cut = int(np.ceil(base2.limits.slot_of(at)))
    check, _ = repair_with_twin(base2, rr.result, before=cut)
    return rr, check, base2
