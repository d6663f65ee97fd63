"""Operations planning use cases: a scenario's twin gives the limits, the planner places partner activities,
the twin re-runs with the plan to show it causes no loss of load, and events trigger re-planning."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from ilrs.errors import IlrsError
from ilrs.operations.limits import StationLimits, build_limits
from ilrs.operations.requests import Block, RequestSet, expand, load_requests
from ilrs.scenario.schema import Scenario
from ilrs.services.twin import TwinRun, engine_inputs, run_twin
from ilrs.station.engine import EngineResult, run_engine

#: The engine class partner activities are charged to (3: science operations; base payloads are 4 and 5).
PLAN_PRIORITY = 3
REQUESTS_DIR = Path(__file__).resolve().parents[1] / "data" / "scenarios"


def default_requests_path(scenario: Scenario) -> Path:
    return REQUESTS_DIR / f"{scenario.name}-requests.toml"


def requests_for(scenario: Scenario, path: str | Path | None) -> RequestSet:
    if path is None:
        p = default_requests_path(scenario)
        if not p.is_file():
            raise IlrsError("no activity requests given and the scenario ships none", source=scenario.name,
                            hint="pass --requests FILE (TOML or JSON; see docs/operations.md)")
        path = p
    return load_requests(path)


def horizon_of(rs: RequestSet, scenario: Scenario, start=None, end=None) -> tuple[dt.datetime, dt.datetime]:
    """The planning horizon: given, else from the earliest request to the latest deadline, inside the run."""
    s0 = scenario.start.replace(tzinfo=None)
    s1 = scenario.end.replace(tzinfo=None)
    a = start or min((r.earliest for r in rs.requests), default=s0)
    b = end or max((r.deadline for r in rs.requests), default=s1)
    a, b = max(a, s0), min(b, s1)
    if b <= a:
        raise IlrsError(f"planning horizon {a} .. {b} is empty inside the scenario's run {s0} .. {s1}",
                        source="requests", hint="move the requests' dates into the scenario's run")
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
        t0, s.step_s, sun_fraction=s.sun_fraction_ground[sl], dte_bps=s.dte_bps[sl], relay_bps=s.relay_bps[sl],
        curtailed_w=r.curtailed_w[sl], charge_w=r.charge_w[sl], discharge_w=r.discharge_w[sl],
        stored_wh=r.stored_wh[1:][sl], capacity_wh=s.battery_capacity_wh[sl], min_soc=s.min_soc,
        max_charge_w=s.max_charge_w[sl], max_discharge_w=s.max_discharge_w[sl], eta_c=s.charge_efficiency,
        eta_d=s.discharge_efficiency, downlinked_bits=r.data_downlinked_bits[sl],
        data_stored_bits=r.data_stored_bits[1:][sl], storage_bits=s.storage_bits[sl])
    return Baseline(twin, i0, i1, lim)


def plan_loads(base: Baseline, blocks: list[Block], starts: np.ndarray, durations: np.ndarray) -> tuple:
    """Per-step power [W] and data rate [bit/s] of a plan over the whole twin run."""
    n = base.twin.series.et.size
    p = np.zeros(n)
    d = np.zeros(n)
    for b, s, k in zip(blocks, starts, durations, strict=True):
        if s < 0:
            continue
        a = base.i0 + int(s)
        p[a:a + int(k)] += b.power_w
        d[a:a + int(k)] += b.data_bits / (int(k) * base.twin.series.step_s)
    return p, d


def twin_with_plan(base: Baseline, power_w: np.ndarray, data_bps: np.ndarray) -> EngineResult:
    """The engine re-run with the plan's activities added to the science-operations class."""
    inputs = engine_inputs(base.twin.series)
    load = inputs.load_w.copy()
    rate = inputs.data_rate_bps.copy()
    load[PLAN_PRIORITY - 1] += power_w
    rate[PLAN_PRIORITY - 1] += data_bps
    return run_engine(replace(inputs, load_w=load, data_rate_bps=rate))


def plan_expand(rs: RequestSet, start: dt.datetime) -> list[Block]:
    return expand(rs, start)
