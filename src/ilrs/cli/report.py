"""``ilrs run``: the main job on the embedded default, ending in one HTML report."""

from __future__ import annotations

import time
from pathlib import Path

from rich.table import Table

from ilrs.cli.common import console, handle_errors, progress_bar
from ilrs.cli.twin import kpi_table

#: The default analysis: a year of hourly steps, 2 m observers (a lander deck), 10 m for the best site's mast.
DEFAULT_START = "2025-01-01"
DEFAULT_END = "2026-01-01"
DEFAULT_STEP_S = 3600.0
MAP_HEIGHT_M = 2.0
MAST_HEIGHT_M = 10.0


def staged_progress(quiet: bool):
    """A callback ``(stage, fraction)`` that shows one progress bar per stage."""
    state: dict = {}

    def update(stage: str, fraction: float) -> None:
        if quiet:
            return
        if state.get("stage") != stage:
            if "ctx" in state:
                state["ctx"].__exit__(None, None, None)
            state["stage"] = stage
            state["ctx"] = progress_bar(stage)
            state["update"] = state["ctx"].__enter__()
        state["update"](fraction)

    def close() -> None:
        if "ctx" in state:
            state["ctx"].__exit__(None, None, None)
            state.clear()

    return update, close


#: The re-planning example of the report: the ILRS-1 array stops working in mid-2033.
REPLAN_EVENT = {"kind": "element_failure", "element": "ilrs1-array", "at": "2033-09-01T00:00"}
PLAN_TIME_LIMIT_S = 15.0


def _operations(scenario, twin, out_dir: Path, quiet: bool):
    """The scenario's partner requests planned, checked in the twin, and re-planned after a failure."""
    import json

    from ilrs.iotools.atomic import atomic_write_text
    from ilrs.reports.ops_section import plan_rows
    from ilrs.services.plan import plan_scenario, replan_scenario, requests_for

    rs = requests_for(scenario, None)
    with progress_bar(f"operations plan ({len(rs.requests)} partner requests, CP-SAT)", quiet) as upd:
        sp = plan_scenario(
            scenario, rs, time_limit=PLAN_TIME_LIMIT_S, twin=twin, progress=lambda i, n: upd(0.9 * i / n)
        )
        replans = []
        names = {e.name for e in scenario.elements}
        if REPLAN_EVENT["element"] in names:
            rr, check, _ = replan_scenario(sp, REPLAN_EVENT, time_limit=7.0)
            replans.append(
                {
                    "event": f"{REPLAN_EVENT['element']} failure on {REPLAN_EVENT['at'][:10]}",
                    "seconds": rr.seconds,
                    "kept": rr.kept,
                    "moved": rr.moved_or_dropped,
                    "added": rr.added,
                    "ok": check.ok,
                }
            )
        upd(1.0)
    atomic_write_text(out_dir / "plan.json", json.dumps(plan_rows(sp), indent=1))
    return sp, replans


@handle_errors
def run_default(out: str, quiet: bool = False, scenario_name: str = "ilrs-basic-2035") -> None:
    from ilrs.reports.site_report import render_site_report
    from ilrs.services.campaign import campaign_overview
    from ilrs.services.scenarios import validated_scenario
    from ilrs.services.site import point_environment
    from ilrs.services.sitemap import rank_sites, site_maps
    from ilrs.services.twin import run_twin, save_netcdf

    scenario = validated_scenario(scenario_name)  # a bad scenario fails before any long computation
    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    update, close = staged_progress(quiet)
    try:
        maps = site_maps(DEFAULT_START, DEFAULT_END, DEFAULT_STEP_S, MAP_HEIGHT_M, progress=update)
    finally:
        close()
    timings["horizon and visibility maps"] = time.perf_counter() - t0
    t1 = time.perf_counter()
    ranked = rank_sites(maps, top=10)
    best = ranked[0]
    with progress_bar("a year at the best site", quiet) as upd:
        env = point_environment(best.lat_deg, best.lon_deg, DEFAULT_START, DEFAULT_END, DEFAULT_STEP_S, MAST_HEIGHT_M)
        upd(1.0)
    timings["ranking and best-site year"] = time.perf_counter() - t1
    t3 = time.perf_counter()
    with progress_bar(
        f"station twin {scenario.name} ({scenario.start:%Y}-{scenario.end:%Y}, {scenario.step})", quiet
    ) as upd:
        twin = run_twin(scenario)
        save_netcdf(twin, out_dir / "twin.nc")
        upd(1.0)
    timings["station twin"] = time.perf_counter() - t3
    t4 = time.perf_counter()
    with progress_bar("campaign Monte Carlo, launch windows, NRHO", quiet) as upd:
        campaign = campaign_overview(scenario)
        upd(1.0)
    timings["campaign and transport"] = time.perf_counter() - t4
    t5 = time.perf_counter()
    ops = None
    from ilrs.services.plan import default_requests_path

    if default_requests_path(scenario).is_file():
        ops = _operations(scenario, twin, out_dir, quiet)
    timings["operations plan and re-plan"] = time.perf_counter() - t5
    t2 = time.perf_counter()
    report = render_site_report(
        out_dir / "report.html", maps, ranked, env, timings, twin=twin, campaign=campaign, ops=ops
    )
    timings["report"] = time.perf_counter() - t2
    t = Table(title=f"Top sites, {DEFAULT_START} .. {DEFAULT_END}, observer {MAP_HEIGHT_M:g} m", title_justify="left")
    for c in ("#", "lat", "lon E", "Sun %", "dark h", "Earth %", "slope", "nearest named site"):
        t.add_column(c, justify="right")
    for r in ranked[:10]:
        t.add_row(
            str(r.rank),
            f"{r.lat_deg:.4f}",
            f"{r.lon_deg:.2f}",
            f"{100 * r.sun_visible_fraction:.1f}",
            f"{r.longest_dark_hours:.0f}",
            f"{100 * r.earth_visible_fraction:.1f}",
            f"{r.slope_deg:.1f}",
            f"{r.nearest_named_site} ({r.nearest_named_km:.1f} km)",
        )
    console.print(t)
    console.print(
        f"Best site with a {MAST_HEIGHT_M:g} m mast: Sun {100 * env.sun_visible_fraction:.1f} % of the "
        f"year, longest night {env.longest_dark_hours:.0f} h, "
        f"Earth in view {100 * env.earth_visible_fraction:.1f} %"
    )
    console.print(
        kpi_table(
            twin.kpis.as_dict(), f"Station twin {scenario.name}, {scenario.start:%Y-%m-%d} .. {scenario.end:%Y-%m-%d}"
        )
    )
    energy = next(r for r in campaign.monte_carlo.summary() if r["capability"] == "energy")
    b = campaign.windows["best"]
    console.print(
        f"Campaign ({campaign.monte_carlo.runs:,} runs): energy + communications in place by 2035 with "
        f"P = {energy['p_by_2035-12-31']:.2f}; best launch window from {campaign.window_start}: "
        f"{(b.tli_dv_m_s + b.loi_dv_m_s) / 1000:.2f} km/s TLI + LOI; 9:2 NRHO period "
        f"{campaign.nrho.period_days:.2f} d"
    )
    if ops is not None:
        sp = ops[0]
        console.print(
            f"Operations {sp.result.problem.limits.t0:%Y}: {len(sp.result.activities()):,} partner "
            f"activities planned (value {sp.result.value:,.0f}, greedy {sp.result.greedy_value:,.0f}, "
            f"gap {100 * sp.result.gap:.1f} %), validator {len(sp.violations)} violations, twin check "
            f"{'ok' if sp.check.ok else 'FAILED'}; re-plan after a failure {ops[1][0]['seconds']:.1f} s"
        )
    console.print(f"report: [bold]{report}[/], time series: {out_dir / 'twin.nc'} ({sum(timings.values()):.0f} s)")
