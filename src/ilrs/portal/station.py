"""What the portal needs from the station: the resources a call can offer (from the scenario's roadmap and a short
run of the twin over the call's cycle), the station status charts, and the schedule of accepted activities."""

from __future__ import annotations

import datetime as dt
import functools
import json
import threading
from collections import OrderedDict
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass

import numpy as np

from ilrs.operations.requests import ActivityRequest, RequestSet
from ilrs.portal.rules import OfferLine


@dataclass(frozen=True)
class CallPolicy:
    """How much of the station a call opens to partners. These are programme decisions, not physics: the shares
    are the portal's defaults and any call may set its own."""

    #: Share of each mission's trans-lunar injected mass offered to partner payloads [-].
    payload_mass_share: float = 0.02
    #: Mean packed density of partner payloads, to offer volume beside mass [kg/L].
    payload_density_kg_per_l: float = 0.5
    #: Share of the energy the twin curtails (surplus) offered to partner activities [-].
    energy_share: float = 0.5
    #: Share of the downlink capacity (direct-to-Earth + relay) offered to partner data [-].
    data_share: float = 0.1
    #: Share of the cycle's hours offered on each robot (rover, arm, drill) [-].
    robot_share: float = 0.25
    #: Share of the direct-to-Earth contact hours offered as antenna time [-].
    antenna_share: float = 0.2


#: Longest call cycle whose offer the portal computes with the twin (a quarter: seconds of engine time).
MAX_CYCLE = dt.timedelta(days=92)


def check_call_window(name: str, cycle_start: dt.datetime, cycle_end: dt.datetime) -> None:
    """A call refers to a built-in scenario, and its cycle lies inside the scenario's period, at most a quarter
    long (the portal never opens arbitrary files nor runs the twin over years on request)."""
    from ilrs.portal.rules import Invalid
    from ilrs.scenario.load import builtin_scenarios, load_scenario

    if name not in builtin_scenarios():
        raise Invalid(
            f"unknown scenario {name!r}",
            source="scenario",
            hint="built-in scenarios: " + ", ".join(builtin_scenarios()),
        )
    s = load_scenario(name)
    start, end = s.start.replace(tzinfo=None), s.end.replace(tzinfo=None)
    if not (start <= cycle_start < cycle_end <= end) or cycle_end - cycle_start > MAX_CYCLE:
        raise Invalid(
            f"the cycle must lie within the scenario's period {start:%Y-%m-%d} .. {end:%Y-%m-%d} and "
            f"last at most {MAX_CYCLE.days} days",
            source="cycle_start",
        )


def _short_scenario(name: str, start: dt.datetime, end: dt.datetime, step: str):
    from ilrs.services.scenarios import validated_scenario

    return validated_scenario(name).model_copy(update={"start": start, "end": end, "step": step})


@functools.lru_cache(maxsize=8)
def short_twin(name: str, start: dt.datetime, end: dt.datetime, step: str = "1h"):
    """The twin over a short window (a call's cycle, the status page's month), kept in memory; the costly site
    products under it are cached on disk by the services that make them."""
    from ilrs.services.pipeline import run_scenario

    return run_scenario(_short_scenario(name, start, end, step), stages=("twin",)).twin


def offer_from_scenario(
    name: str, cycle_start: dt.datetime, cycle_end: dt.datetime, policy: CallPolicy = CallPolicy()
) -> list[OfferLine]:
    """The resources on offer in a cycle: payload mass and volume on the scenario's missions that launch after the
    cycle starts, and energy, data volume, robot and antenna time from the twin over the cycle."""
    from ilrs.campaign.roadmap import scenario_roadmap
    from ilrs.services.scenarios import validated_scenario

    lines: list[OfferLine] = []
    missions, _ = scenario_roadmap(validated_scenario(name))
    for m in missions:
        if m.launch >= cycle_start.date():
            mass = round(m.mass_kg * policy.payload_mass_share, 1)
            lines.append(OfferLine(f"payload_mass_kg:{m.name}", f"payload mass on {m.name}", "kg", mass))
            lines.append(
                OfferLine(
                    f"payload_volume_l:{m.name}",
                    f"payload volume on {m.name}",
                    "L",
                    round(mass / policy.payload_density_kg_per_l, 1),
                )
            )
    run = short_twin(name, cycle_start, cycle_end, "1h")
    h = run.series.step_s / 3600.0
    hours = run.series.et.size * h
    lines.append(
        OfferLine(
            "energy_kwh", "energy for partner activities", "kWh", round(run.kpis.curtailed_kwh * policy.energy_share, 1)
        )
    )
    capacity_gbit = float(run.series.downlink_bps.sum() * run.series.step_s / 1e9)
    lines.append(OfferLine("data_gbit", "downlinked data volume", "Gbit", round(capacity_gbit * policy.data_share, 1)))
    for key, label in (("rover_hours", "rover time"), ("arm_hours", "robotic arm time"), ("drill_hours", "drill time")):
        lines.append(OfferLine(key, label, "h", round(hours * policy.robot_share, 1)))
    dte_hours = float((run.series.dte_bps > 0).sum() * h)
    lines.append(OfferLine("antenna_hours", "high-gain antenna time", "h", round(dte_hours * policy.antenna_share, 1)))
    return lines


def twin_product(name: str, start: dt.datetime, end: dt.datetime) -> tuple[str, bytes]:
    """A data product made by the twin: its hourly run over ``start`` .. ``end`` as NetCDF (file name, bytes)."""
    import tempfile
    from pathlib import Path

    from ilrs.services.twin import save_netcdf

    run = short_twin(name, start, end, "1h")
    with tempfile.TemporaryDirectory() as tmp:
        path = save_netcdf(run, Path(tmp) / "twin.nc")
        data = path.read_bytes()
    return f"twin-{name}-{start:%Y%m%d}-{end:%Y%m%d}.nc", data


@functools.lru_cache(maxsize=16)
def site_of(name: str) -> tuple[float, float]:
    """The station's site in a built-in scenario: planetocentric latitude and east longitude [deg]."""
    from ilrs.scenario.load import load_scenario
    from ilrs.services.scenarios import site_latlon

    return site_latlon(load_scenario(name))


# ---- station status -----------------------------------------------------------------------------------------------


def _windows(mask: np.ndarray, utc: np.ndarray, step_s: float) -> list[tuple[str, str]]:
    from ilrs.core.runs import runs

    end_of = lambda b: utc[b] if b < utc.size else utc[-1] + np.timedelta64(int(step_s), "s")  # noqa: E731
    return [(str(utc[a]), str(end_of(b))) for a, b in runs(mask)]


def station_status(name: str, start: dt.datetime, days: int = 14) -> dict:
    """The twin's power, state of charge and communication windows over ``days`` from ``start``: the series and
    figures of the public status page (Plotly figure dictionaries from :mod:`ilrs.portal.figures`)."""
    from ilrs.portal.figures import status_figures

    run = short_twin(name, start, start + dt.timedelta(days=days), "1h")
    s, r = run.series, run.result
    t = [str(x) for x in s.utc]
    cap = s.battery_capacity_wh
    with np.errstate(invalid="ignore", divide="ignore"):
        soc = np.where(cap > 0, r.stored_wh[1:] / cap, np.nan)
    return {
        "scenario": name,
        "start": t[0],
        "end": t[-1],
        "step_s": s.step_s,
        "kpis": {k: float(v) for k, v in run.kpis.as_dict().items()},
        "dte_windows": _windows(s.dte_bps > 0, s.utc, s.step_s),
        "relay_windows": _windows(s.relay_bps > 0, s.utc, s.step_s),
        "figures": status_figures(
            t, s.generation_w, r.served_w.sum(axis=0), s.load_w.sum(axis=0), soc, s.dte_bps, s.relay_bps
        ),
    }


# ---- schedule -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScheduledActivity:
    """One row of a call's schedule: a planned occurrence (``planned``), or a request's window with the
    occurrences the planner did not place (``planned`` False, ``state`` says why)."""

    proposal_id: int
    request_id: str
    partner: str
    payload: str
    start: dt.datetime
    end: dt.datetime
    duration: str
    repeat_every: str | None
    repeat_count: int
    resources: tuple[str, ...]
    planned: bool
    occurrence: int | None = None
    state: str = "requested (unplanned)"


@dataclass(frozen=True)
class Schedule:
    rows: list[ScheduledActivity]
    #: How the rows were obtained: the planner's method, or why it could not run.
    note: str
    #: True while the planner is still at work: the rows are the requested windows, ask again shortly.
    pending: bool = False


#: The planner runs beside the server's request threads, one plan at a time (a cold twin costs 20-40 s on two
#: cores): a page asks for its schedule, waits a few seconds, and shows the requested windows until it is done.
_planner = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ilrs-schedule")
_jobs: OrderedDict[tuple[str, dt.datetime, dt.datetime, str], Future[Schedule]] = OrderedDict()
_jobs_lock = threading.Lock()
_MAX_JOBS = 32


def _key(pid: int, rid: str) -> str:
    return f"{pid}:{rid}"[:80]


def schedule_for_call(
    scenario: str,
    accepted: dict[int, RequestSet],
    cycle_start: dt.datetime,
    cycle_end: dt.datetime,
    shares: dict[str, float] | None = None,
    fairness_metric: str = "time",
    wait_s: float | None = None,
) -> Schedule:
    """The schedule of a call's accepted activities (``accepted``: proposal id -> its requests), planned together
    by the operations planner (:func:`ilrs.services.plan.plan_scenario`, CP-SAT against the scenario's twin) over
    the call's cycle. ``shares``: each partner's allocation from the review (in energy or in robot and antenna
    time, ``fairness_metric``), which the planner's fairness follows; default equal shares. Occurrences it does
    not place, and every request when the planner refuses the set (an :class:`IlrsError`), are listed with their
    requested window. Plans are kept in memory by their inputs and computed one at a time in a background thread;
    ``wait_s``: how long to wait for it (None: until done), after which the requested windows are returned with
    ``pending`` set."""
    if not accepted:
        return Schedule([], "no accepted activities")
    payload = json.dumps(
        {
            "sets": {str(pid): rs.model_dump(mode="json") for pid, rs in sorted(accepted.items())},
            "shares": {k: v for k, v in sorted((shares or {}).items()) if v > 0},
            "metric": fairness_metric,
        },
        sort_keys=True,
    )
    key = (scenario, cycle_start, cycle_end, payload)
    with _jobs_lock:
        job = _jobs.get(key)
        if job is None:
            job = _jobs[key] = _planner.submit(_planned, *key)
            while len(_jobs) > _MAX_JOBS and _jobs[next(iter(_jobs))].done():
                _jobs.popitem(last=False)
        _jobs.move_to_end(key)
    try:
        return job.result(timeout=wait_s)
    except FutureTimeout:
        rows = [_unplanned(pid, r, "being planned") for pid, rs in accepted.items() for r in rs.requests]
        note = "the operations planner is still planning this call's activities: their requested windows meanwhile"
        return Schedule(sorted(rows, key=_order), note, pending=True)
    except Exception:
        with _jobs_lock:  # a failed plan is not kept: the next request tries again
            if _jobs.get(key) is job:
                del _jobs[key]
        raise


@functools.lru_cache(maxsize=32)
def _planned(scenario: str, cycle_start: dt.datetime, cycle_end: dt.datetime, payload: str) -> Schedule:
    from ilrs.errors import IlrsError
    from ilrs.services.plan import plan_scenario
    from ilrs.services.scenarios import validated_scenario

    doc = json.loads(payload)
    accepted = {int(pid): RequestSet.model_validate(raw) for pid, raw in doc["sets"].items()}
    owner: dict[str, tuple[int, ActivityRequest]] = {}
    merged = []
    for pid, rs in accepted.items():
        for r in rs.requests:
            key = _key(pid, r.id)
            owner[key] = (pid, r)
            merged.append(r.model_copy(update={"id": key, "after": [_key(pid, a) for a in r.after]}))
    try:
        rs_all = RequestSet(requests=merged, shares=doc["shares"], fairness_metric=doc["metric"])
        sp = plan_scenario(
            validated_scenario(scenario), rs_all, start=cycle_start, end=cycle_end, method="cpsat", time_limit=10.0
        )
    except IlrsError as exc:
        unplanned = [_unplanned(pid, r, "requested (unplanned)") for pid, r in owner.values()]
        return Schedule(sorted(unplanned, key=_order), f"the planner could not plan these requests: {exc}")
    rows: list[ScheduledActivity] = []
    placed: dict[str, int] = {}
    for a in sp.result.activities():
        pid, r = owner[a.request]
        placed[a.request] = placed.get(a.request, 0) + 1
        rows.append(
            ScheduledActivity(
                pid,
                r.id,
                r.partner,
                r.payload,
                a.start,
                a.end,
                r.duration,
                r.repeat_every,
                r.repeat_count,
                tuple(r.resources),
                True,
                a.occurrence,
                "planned",
            )
        )
    for key, (pid, r) in owner.items():
        missing = r.repeat_count - placed.get(key, 0)
        if missing:
            rows.append(_unplanned(pid, r, f"{missing} of {r.repeat_count} occurrences not placed"))
    note = (
        f"planned by the operations planner (CP-SAT against the {scenario} twin): "
        f"{len(sp.result.activities())} occurrences placed, every partner's together"
    )
    return Schedule(sorted(rows, key=_order), note)


def _order(a: ScheduledActivity):
    return (a.start, a.proposal_id, a.request_id, a.occurrence or 0)


def _unplanned(pid: int, r: ActivityRequest, state: str) -> ScheduledActivity:
    return ScheduledActivity(
        pid,
        r.id,
        r.partner,
        r.payload,
        r.earliest,
        r.deadline,
        r.duration,
        r.repeat_every,
        r.repeat_count,
        tuple(r.resources),
        planned=False,
        state=state,
    )
