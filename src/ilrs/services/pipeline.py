"""The one end-to-end use case: a scenario -> site analysis, station twin, campaign, operations plan, re-plans.

``ilrs run`` and its report, and the portal, all call :func:`run_scenario`. The scenario drives every stage: its
``[analysis]`` (period, step, observer heights; by default its own period and array masts), its site and
elements, its roadmap, the requests file and the ``[[events]]`` it declares.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ilrs.ephem.time import parse_step
from ilrs.scenario.schema import Scenario
from ilrs.services.campaign import CampaignOverview, campaign_overview
from ilrs.services.data import nested_with_embedded
from ilrs.services.plan import Replan, ScenarioPlan, plan_rows, plan_scenario, replan_for, requests_for
from ilrs.services.scenarios import site_latlon
from ilrs.services.site import PointEnvironment, RescoredSite, point_environment, rescore_shortlist
from ilrs.services.site_maps import RankedSite, SiteMaps, rank_sites, scenario_site_maps
from ilrs.services.twin import MAST_HEIGHTS_M, MastOption, mast_options, run_twin, save_netcdf, site_environment
from ilrs.station import twin as station_twin
from ilrs.station.engine import CRITICAL_PRIORITIES
from ilrs.station.environment import SiteEnvironment
from ilrs.station.twin import ArraySizing, BatterySizing, TwinRun

if TYPE_CHECKING:
    from ilrs.services.trade import TradeResult

#: The stages of a run, in order.
STAGES = ("site", "twin", "sizing", "campaign", "plan", "trade")
#: How many of the map's best sites are re-scored at their own points (with the station's site).
RESCORE_TOP = 5
#: Solver time limits of the run's plan and of each re-plan [s].
PLAN_TIME_LIMIT_S = 15.0
REPLAN_TIME_LIMIT_S = 7.0

Progress = Callable[[str, float], None]


@dataclass
class RunProducts:
    """What a run produced, stage by stage (None for a stage not run or not applicable)."""

    scenario: Scenario
    maps: SiteMaps | None = None
    ranked: list[RankedSite] = field(default_factory=list)
    best: PointEnvironment | None = None  #: the year at the best-ranked site, at the highest mast
    station_site: PointEnvironment | None = None  #: the same year at the scenario's own site and mast
    #: the map's shortlist and the station's site re-scored over a nodal cycle on the finest DEM at each point
    rescored: list[RescoredSite] = field(default_factory=list)
    environment: SiteEnvironment | None = None
    twin: TwinRun | None = None
    battery_sizing: BatterySizing | None = None  #: what `ilrs size battery` would change
    array_sizing: ArraySizing | None = None  #: what `ilrs size arrays` would change
    #: what `ilrs size mast` would change: the station with every array's mast at each of ``MAST_HEIGHTS_M``
    mast_options: list[MastOption] = field(default_factory=list)
    campaign: CampaignOverview | None = None
    plan: ScenarioPlan | None = None
    replans: list[Replan] = field(default_factory=list)
    trade: TradeResult | None = None  #: the grid study of the scenario's ``[analysis] trade_space``
    timings: dict[str, float] = field(default_factory=dict)  #: wall time per stage [s]

    @property
    def point_year_end(self) -> str:
        """End of the point analyses' year (the best site's, the station's): a year after the analysis starts, or
        the analysis's end if sooner."""
        import datetime as dt

        a, b, _ = self.scenario.analysis_period()
        return f"{min(b, a + dt.timedelta(days=365)):%Y-%m-%d}"

    @property
    def analysis(self) -> tuple[str, str, float, float, float]:
        """(start, end, step [s], map height [m], mast height [m]) of the site analysis."""
        a, b, step = self.scenario.analysis_period()
        map_h, mast_h = self.scenario.array_heights_m()
        return f"{a:%Y-%m-%d}", f"{b:%Y-%m-%d}", parse_step(step), map_h, mast_h


def run_scenario(
    scenario: Scenario,
    *,
    stages: Collection[str] = STAGES,
    progress: Progress | None = None,
    plan_time_limit_s: float = PLAN_TIME_LIMIT_S,
    replan_time_limit_s: float = REPLAN_TIME_LIMIT_S,
    dems: list[str] | None = None,
) -> RunProducts:
    """Run the scenario's stages (``STAGES``, in that order); ``progress(stage, fraction)`` reports each.
    ``dems``: DEM files the user brings (finest first), nested over the embedded ones for the point analyses
    (the best site's and the station's year, the shortlist's re-scoring) and the station's twin; the ranking map
    stays on 240 m."""
    unknown = set(stages) - set(STAGES)
    if unknown:
        from ilrs.errors import IlrsError

        raise IlrsError(f"unknown stage(s) {sorted(unknown)}", source="stages", hint=f"any of {', '.join(STAGES)}")
    products = RunProducts(scenario)

    def report(stage: str, fraction: float) -> None:
        if progress is not None:
            progress(stage, fraction)

    if "site" in stages:
        t = time.perf_counter()
        mosaic = nested_with_embedded(dems)
        start, end, step_s, map_h, mast_h = products.analysis
        products.maps = scenario_site_maps(scenario, progress=progress)
        products.ranked = rank_sites(products.maps, top=10)
        best = products.ranked[0]
        year_end = products.point_year_end
        report(f"a year at the best site ({mast_h:g} m mast)", 0.0)
        products.best = point_environment(best.lat_deg, best.lon_deg, start, year_end, step_s, mast_h, mosaic)
        lat, lon = site_latlon(scenario)
        products.station_site = point_environment(lat, lon, start, year_end, step_s, mast_h, mosaic)
        report(f"a year at the best site ({mast_h:g} m mast)", 1.0)
        # the Sun seen from the arrays' highest mast, the Earth from the highest antenna (DTE and relay terminals)
        earth_h = scenario.antenna_height_m()
        label = (
            f"the shortlist over an 18.6-year nodal cycle on the finest DEM ({mast_h:g} m arrays, "
            f"{earth_h:g} m antennas)"
        )
        report(label, 0.0)
        shortlist = [(r.rank, r.lat_deg, r.lon_deg) for r in products.ranked[:RESCORE_TOP]] + [(0, lat, lon)]
        products.rescored = rescore_shortlist(shortlist, start, mast_h, earth_height_m=earth_h, dems=mosaic)
        report(label, 1.0)
        products.timings["site analysis"] = time.perf_counter() - t
    if "twin" in stages or "plan" in stages or "sizing" in stages:
        t = time.perf_counter()
        label = f"station twin {scenario.name} ({scenario.start:%Y}-{scenario.end:%Y}, {scenario.step})"
        report(label, 0.0)
        products.environment = site_environment(scenario, dems)
        products.twin = run_twin(scenario, products.environment)
        report(label, 1.0)
        products.timings["station twin"] = time.perf_counter() - t
    if "sizing" in stages and products.environment is not None:
        t = time.perf_counter()
        label = "sizing: the smallest batteries and arrays that keep priority 1-2, and other mast heights"
        report(label, 0.0)
        # sizing keeps the critical load: without one, any size does and there is nothing to size
        twin = products.twin
        critical = twin is not None and bool((twin.series.load_w[:CRITICAL_PRIORITIES] > 0).any())
        if critical and any(e.kind == "battery" for e in scenario.elements):
            products.battery_sizing = station_twin.size_battery(scenario, products.environment)
        report(label, 0.4)
        if any(e.kind == "solar_array" for e in scenario.elements):
            if critical:
                products.array_sizing = station_twin.size_arrays(scenario, products.environment)
            report(label, 0.6)
            # one twin per height in its own environment, on the run's own grid: on the built-in scenario (eight
            # years at 10 minutes) 0.8 s a height with its horizons cached, 3.4 s the first time, 4 s for the five
            # (2 cores at load 6; issue 12), so no coarser grid is needed
            products.mast_options = mast_options(scenario, list(MAST_HEIGHTS_M), dems)
        report(label, 1.0)
        products.timings["sizing"] = time.perf_counter() - t
    if "campaign" in stages:
        t = time.perf_counter()
        report("campaign Monte Carlo, launch windows, NRHO", 0.0)
        products.campaign = campaign_overview(scenario)
        report("campaign Monte Carlo, launch windows, NRHO", 1.0)
        products.timings["campaign and transport"] = time.perf_counter() - t
    if "plan" in stages and scenario.requests_path() is not None:
        t = time.perf_counter()
        rs = requests_for(scenario, None)
        label = f"operations plan ({len(rs.requests)} partner requests, CP-SAT)"
        products.plan = plan_scenario(
            scenario,
            rs,
            time_limit=plan_time_limit_s,
            twin=products.twin,
            env=products.environment,
            progress=lambda i, n: report(label, 0.9 * i / n),
        )
        products.replans = [replan_for(products.plan, ev, replan_time_limit_s) for ev in scenario.events]
        report(label, 1.0)
        products.timings["operations plan and re-plan"] = time.perf_counter() - t
    if "trade" in stages and scenario.analysis.trade_space:
        from ilrs.services.trade import run_trade

        t = time.perf_counter()
        space = scenario.analysis.trade_space
        if scenario.path is not None and (Path(scenario.path).parent / space).is_file():
            space = str(Path(scenario.path).parent / space)
        label = f"trade study {Path(space).stem} (grid)"
        report(label, 0.0)
        # in this process: a report's small study does not pay for starting a cluster (`ilrs trade` decides)
        products.trade = run_trade(
            scenario.path or scenario.name,
            space,
            method="grid",
            workers=0,
            progress=lambda i, n: report(label, i / max(n, 1)),
        )
        report(label, 1.0)
        products.timings["trade study"] = time.perf_counter() - t
    return products


def save_products(products: RunProducts, out_dir: str | Path) -> dict[str, Path]:
    """The run's data products in ``out_dir`` (atomic writes): the twin's time series (NetCDF) and the plan
    (JSON, one row per activity)."""
    from ilrs.iotools.atomic import atomic_write_text

    out = Path(out_dir)
    paths: dict[str, Path] = {}
    if products.twin is not None:
        paths["twin"] = save_netcdf(products.twin, out / "twin.nc")
    if products.plan is not None:
        paths["plan"] = out / "plan.json"
        atomic_write_text(paths["plan"], json.dumps(plan_rows(products.plan), indent=1))
    return paths
