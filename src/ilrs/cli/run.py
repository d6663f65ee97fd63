"""``ilrs run``: the main job, one scenario end to end (:func:`ilrs.services.pipeline.run_scenario`), ending in
one HTML report and a one-screen summary."""

from __future__ import annotations

import time
from pathlib import Path

import typer
from rich.table import Table

from ilrs.cli.common import console, handle_errors, output_dir, print_json, staged_progress, styled
from ilrs.cli.site import adequacy_summary
from ilrs.cli.twin import kpi_table, verdict_tables
from ilrs.errors import IlrsError


@handle_errors
def run(
    scenario: str = typer.Argument("ilrs-basic-2035", help="A scenario TOML file or a built-in name."),
    out: str = typer.Option("out", help="Directory for the report and its products."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON (the figures the table shows)."),
    quiet: bool = typer.Option(False, help="No progress bars."),
    pds4: bool = typer.Option(
        False, help="Also write a PDS4 label and raw image per map layer (in maps/pds4/), as ilrs site map --pds4."
    ),
    dem: list[str] = typer.Option(
        [],
        "--dem",
        help="A finer DEM to bring (GeoTIFF or PDS3 label; repeat, finest first), nested over the embedded DEMs: "
        "the best site's and the station's year, the shortlist's re-scoring and the station's twin use it where "
        "it covers them.",
    ),
) -> None:
    """The main job: site analysis, the station twin, campaign and transport, the operations plan and its
    re-plans, in one HTML report; the site maps as Cloud-Optimized GeoTIFFs and PNGs (in maps/) and a STAC
    catalogue of the run's products (catalog.json)."""
    from ilrs.reports.run_files import write_run_files
    from ilrs.reports.run_report import render_run_report
    from ilrs.services.data import nested_with_embedded
    from ilrs.services.pipeline import run_scenario, save_products
    from ilrs.services.scenarios import validated_scenario

    sc = validated_scenario(scenario)  # a bad scenario, DEM or output path fails before any long computation
    nested_with_embedded(dem)
    out_dir = output_dir(out, "--out")
    for name in ("report.html", "twin.nc", "catalog.json"):
        if (out_dir / name).is_dir():
            raise IlrsError(f"{str(out_dir / name)!r} is a directory", source="--out", hint="choose another directory")
    output_dir(out_dir / "maps", "--out", create=False)  # refused now if it is a file, not after the run
    update, close = staged_progress(quiet or as_json)
    try:
        products = run_scenario(sc, progress=update, dems=dem or None)
    finally:
        close()
    t = time.perf_counter()
    save_products(products, out_dir)
    written = write_run_files(products, out_dir, pds4=pds4)
    products.timings["products"] = time.perf_counter() - t
    t = time.perf_counter()
    report = render_run_report(out_dir / "report.html", products)
    products.timings["report"] = time.perf_counter() - t
    if as_json:
        print_json(run_summary(products, report, out_dir, written))
        return
    _summary(products, report, out_dir)
    console.print(f"Products: {len(written)} files; STAC catalogue {out_dir / 'catalog.json'} (site maps in maps/)")


def run_summary(products, report: Path, out_dir: Path, map_files: list[Path] | None = None) -> dict:
    """The figures the run's summary prints, as JSON (``ilrs run --json``); ``map_files``: the files written beside
    the report (the site maps with their STAC catalogue and PDS4 labels, the run's STAC catalogue)."""
    from dataclasses import asdict

    start, end, step_s, map_h, mast_h = products.analysis
    sc = products.scenario
    twin = products.twin
    out: dict = {
        "scenario": sc.name,
        "period": [f"{sc.start:%Y-%m-%d}", f"{sc.end:%Y-%m-%d}"],
        "verdict": twin.verdict.as_dict(),
        "warnings": twin.warnings,
        "kpis": twin.kpis.as_dict(),
        "site_analysis": {
            "start": start,
            "end": end,
            "step_s": step_s,
            "windows": products.maps.windows if products.maps is not None else None,
            "observer_m": map_h,
            "earth_observer_m": products.maps.earth_observer_m if products.maps is not None else None,
            "mast_m": mast_h,
        },
        "top_sites": [asdict(r) for r in products.ranked[:10]],
    }
    env = products.best
    if env is not None:
        out["best_site"] = {
            "mast_m": mast_h,
            "start": start,
            "end": products.point_year_end,
            "sun_visible_fraction": env.sun_visible_fraction,
            "longest_dark_hours": env.longest_dark_hours,
            "earth_visible_fraction": env.earth_visible_fraction,
        }
    campaign = products.campaign
    if campaign is not None:
        energy = next(r for r in campaign.monte_carlo.summary() if r["capability"] == "energy")
        b = campaign.windows["best"]
        out["campaign"] = {
            "runs": campaign.monte_carlo.runs,
            "p_energy_and_comms_by_2035": energy["p_by_2035-12-31"],
            "window_start": campaign.window_start,
            "best_window_tli_plus_loi_km_s": (b.tli_dv_m_s + b.loi_dv_m_s) / 1000,
            "nrho_period_days": campaign.nrho.period_days,
        }
    sp = products.plan
    if sp is not None:
        out["operations"] = {
            "year": f"{sp.result.problem.limits.t0:%Y}",
            "planned": len(sp.result.activities()),
            "value": sp.result.value,
            "greedy_value": sp.result.greedy_value,
            "gap": sp.result.gap,
            "validator_violations": len(sp.violations),
            "twin_check_ok": sp.check.ok,
            "unplanned_occurrences": [
                {"request": x.request, "occurrence": x.occurrence, "reason": x.reason}
                for x in sp.result.unplaced_reasons()
            ],
            "replans": [asdict(r) for r in products.replans],
        }
    tr = products.trade
    if tr is not None:
        out["trade"] = {
            "space": tr.space.name,
            "designs": len(tr.evaluations),
            "feasible": int(tr.feasible.sum()),
            "front": int(tr.on_front.sum()),
            "lightest_feasible": _lightest(tr),
            "search_check": asdict(tr.search) if tr.search is not None else None,
        }
    out["report"] = str(report)
    out["time_series"] = str(out_dir / "twin.nc")
    if map_files:
        out["catalog"] = str(out_dir / "catalog.json")
        out["maps"] = {
            "catalog": next((str(p) for p in map_files if p.name == "catalog.json" and p.parent.name == "maps"), None),
            "files": [str(p) for p in map_files if "maps" in p.relative_to(out_dir).parts],
        }
    out["seconds"] = sum(products.timings.values())
    out["timings_s"] = dict(products.timings)
    return out


def _lightest(tr) -> dict | None:
    """The feasible design of least landed mass: its values and mass [kg]."""
    import numpy as np

    mass = np.where(tr.feasible, tr.metric("landed_mass_kg"), np.inf)
    if not np.isfinite(mass).any():
        return None
    i = int(np.argmin(mass))
    values = ", ".join(f"{k} {v}" for k, v in tr.values(i).items())
    return {"design": i, "landed_mass_kg": float(mass[i]), "values": values}


def _summary(products, report: Path, out_dir: Path) -> None:
    start, end, _, map_h, mast_h = products.analysis
    sc = products.scenario
    twin = products.twin
    for part in verdict_tables(twin.verdict):  # the verdict first: does the station survive
        console.print(part)
    for w in twin.warnings:
        console.print(f"Warning (station site): {w}", markup=False)
    maps = products.maps
    t = Table(title=f"Top sites, {maps.period_label}, {maps.observers_label}", title_justify="left")
    for c in ("#", "lat", "lon E", "Sun %", "dark h", "Earth %", "slope", "nearest named site"):
        t.add_column(c, justify="right")
    for r in products.ranked[:10]:
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
    flagged = [r for r in products.ranked[:10] if r.warnings]
    if flagged:
        console.print(
            f"DEM adequacy: {adequacy_summary(flagged, products.maps.dem.cell_size_m)}; the report re-scores "
            "the shortlist on the finest DEM over 18.6 years (bring a finer one with --dem)",
            markup=False,
        )
    station = next((r for r in products.rescored if r.rank_on_map == 0), None)
    if station is not None:
        e = station.env
        console.print(
            f"The station's site on {e.dem_layer} ({e.dem_cell_m:.0f} m) over an 18.6-year cycle: Sun "
            f"{100 * e.sun_visible_fraction:.1f} % ({station.height_m:g} m), longest night "
            f"{e.longest_dark_hours:.0f} h, Earth in view {100 * e.earth_visible_fraction:.1f} %"
            + (f" ({e.earth_height_m:g} m)" if e.earth_height_m is not None else "")
            + ("; " + e.warnings[0] if e.warnings else ""),
            markup=False,
        )
    env = products.best
    console.print(
        f"Best site with a {mast_h:g} m mast: Sun {100 * env.sun_visible_fraction:.1f} % of the "
        f"year, longest night {env.longest_dark_hours:.0f} h, "
        f"Earth in view {100 * env.earth_visible_fraction:.1f} %"
    )
    console.print(kpi_table(twin.kpis.as_dict(), f"Station twin {sc.name}, {sc.start:%Y-%m-%d} .. {sc.end:%Y-%m-%d}"))
    if products.mast_options:
        console.print(
            "Every array's mast at one height (ilrs size mast): "
            + ", ".join(
                f"{o.mast_height_m:g} m "
                + ("survives" if o.survives else f"loses {o.critical_load_lost_h:.0f} h of critical load")
                for o in products.mast_options
            )
        )
    campaign = products.campaign
    energy = next(r for r in campaign.monte_carlo.summary() if r["capability"] == "energy")
    b = campaign.windows["best"]
    console.print(
        f"Campaign ({campaign.monte_carlo.runs:,} runs): energy + communications in place by 2035 with "
        f"P = {energy['p_by_2035-12-31']:.2f}; best launch window from {campaign.window_start}: "
        f"{(b.tli_dv_m_s + b.loi_dv_m_s) / 1000:.2f} km/s TLI + LOI; 9:2 NRHO period "
        f"{campaign.nrho.period_days:.2f} d"
    )
    if not sc.missions:
        console.print(f"  ({campaign.notes[0]})", markup=False)
    sp = products.plan
    if sp is not None:
        replans = "; ".join(
            f"re-plan after {r.event} {r.seconds:.1f} s (value {r.value_before:,.0f} -> {r.value_after:,.0f})"
            for r in products.replans
        )
        console.print(
            f"Operations {sp.result.problem.limits.t0:%Y}: {len(sp.result.activities()):,} partner "
            f"activities planned (value {sp.result.value:,.0f}, greedy {sp.result.greedy_value:,.0f}, "
            f"gap {100 * sp.result.gap:.1f} %), validator {len(sp.violations)} violations, twin check "
            f"{'ok' if sp.check.ok else 'FAILED'}" + (f"; {replans}" if replans else "")
        )
    tr = products.trade
    if tr is not None:
        best = _lightest(tr)
        console.print(
            f"Design study {tr.space.name}: {len(tr.evaluations)} designs, {int(tr.feasible.sum())} keep every "
            f"critical load, {int(tr.on_front.sum())} on the Pareto front"
            + (f"; lightest that survives: {best['landed_mass_kg']:,.0f} kg ({best['values']})" if best else "")
            + (
                f"; NSGA-II recovers {100 * tr.search.hypervolume_ratio:.0f} % of the front with "
                f"{tr.search.evaluations} of {tr.search.grid_evaluations} runs"
                if tr.search is not None
                else ""
            )
        )
    console.print(
        styled(
            "report: ",
            (str(report), "bold"),
            f", time series: {out_dir / 'twin.nc'} ({sum(products.timings.values()):.0f} s)",
        )
    )
