"""The report of ``ilrs run``: one self-contained HTML file (figures embedded, Plotly inline) with the site
analysis, the station twin, the campaign and the operations plan."""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
from jinja2 import Environment, PackageLoader, select_autoescape

from ilrs import __version__
from ilrs.iotools.atomic import atomic_write_text
from ilrs.reports.figures import extent_km, horizon_png, map_png, site_marks, window_around
from ilrs.services.pipeline import RunProducts
from ilrs.services.site import PointEnvironment
from ilrs.services.site_maps import LAYERS, RankedSite, SiteMaps
from ilrs.terrain.sites import SITES


def report_environment() -> Environment:
    """The Jinja environment of the report templates, escaping every value they insert.

    ``select_autoescape()``'s defaults match names ending in ``.html``, not the templates' ``.html.j2``, so the
    extension is listed, and anything else (a string template, an unknown name) is escaped too."""
    return Environment(
        loader=PackageLoader("ilrs.reports", "templates"),
        autoescape=select_autoescape(
            enabled_extensions=("html.j2", "html", "htm", "xml"), default_for_string=True, default=True
        ),
    )


def _b64(png: bytes) -> str:
    return base64.b64encode(png).decode("ascii")


def _series_figure(env: PointEnvironment) -> str:
    """Interactive daily Sun and Earth visibility at the site (Plotly, the library's JS inline)."""
    import plotly.graph_objects as go

    s = env.series
    t = s["time_utc"].astype("datetime64[s]")
    day = t.astype("datetime64[D]")
    days, inv = np.unique(day, return_inverse=True)
    sun = np.bincount(inv, weights=s["sun_disk_fraction"]) / np.bincount(inv)
    earth = np.bincount(inv, weights=s["earth_visible"].astype(float)) / np.bincount(inv)
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(x=days.astype(str), y=100 * sun, name="Sun: mean visible disk [%]", line={"color": "orange"})
    )
    fig.add_trace(
        go.Scatter(x=days.astype(str), y=100 * earth, name="Earth in view [% of day]", line={"color": "royalblue"})
    )
    fig.update_layout(
        height=330,
        margin={"l": 40, "r": 10, "t": 30, "b": 30},
        yaxis_title="%",
        title="Daily Sun and Earth visibility at the best site",
        legend={"orientation": "h"},
    )
    return fig.to_html(full_html=False, include_plotlyjs="inline")


def _campaign_context(campaign) -> dict | None:
    if campaign is None:
        return None
    from ilrs.reports.campaign_section import campaign_context

    return campaign_context(campaign)


def _ops_context(ops) -> dict | None:
    if ops is None:
        return None
    from ilrs.reports.ops_section import ops_context

    plan, replans = ops
    return ops_context(plan, replans)


def _trade_context(trade) -> dict | None:
    if trade is None:
        return None
    from ilrs.reports.trade_section import trade_context

    return trade_context(trade)


def _twin_context(twin) -> dict | None:
    if twin is None:
        return None
    from ilrs.reports.twin_section import (
        KPI_LABELS,
        build_up_figure_html,
        build_up_rows,
        format_kpi,
        inventory_rows,
        twin_figures_html,
    )
    from ilrs.station.twin import shedding_events

    k = twin.kpis.as_dict()
    return {
        "name": twin.scenario.name,
        "verdict": {**twin.verdict.as_dict(), "headline": twin.verdict.headline()},
        "description": twin.scenario.description,
        "period": f"{twin.scenario.start:%Y-%m-%d} .. {twin.scenario.end:%Y-%m-%d}, step {twin.scenario.step}",
        "kpis": [(label, format_kpi(key, k[key])) for key, (label, _) in KPI_LABELS.items()],
        "build_up": build_up_rows(twin),
        "figures": twin_figures_html(twin),
        "gantt": build_up_figure_html(twin),
        "shedding": shedding_events(twin),
        "inventory": inventory_rows(twin),
        "warnings": twin.warnings,
    }


def mast_context(options: Sequence[Any], twin: Any) -> dict[str, Any] | None:
    """What ``ilrs size mast`` would change, for the report: each height's survival, critical load lost, least
    storage margin and solar energy, beside the scenario's own masts (``options``:
    :class:`ilrs.services.twin.MastOption`; ``twin``: the scenario's run)."""
    from ilrs.station.twin import least_storage_margin

    if not options:
        return None
    base = None
    if twin is not None:
        solar_kwh = float(twin.series.solar_w.sum() * twin.series.step_s / 3.6e6)
        masts = sorted({float(e.mast_height_m) for e in twin.scenario.elements if hasattr(e, "mast_height_m")})
        base = {
            "masts": ", ".join(f"{h:g}" for h in masts),
            "survives": twin.verdict.survives,
            "critical_load_lost_h": twin.verdict.critical_load_lost_h,
            "least_storage_margin": least_storage_margin(twin.verdict),
            "solar_kwh": solar_kwh,
        }
    rows = []
    for o in options:
        change = o.solar_kwh / base["solar_kwh"] - 1.0 if base and base["solar_kwh"] > 0 else float("nan")
        rows.append({**asdict(o), "solar_change": change})
    return {"base": base, "rows": rows}


def render_run_report(path: str | Path, products: RunProducts, timings: dict[str, float] | None = None) -> Path:
    """The report of a run (:func:`ilrs.services.pipeline.run_scenario` with the site stage): one HTML file."""
    if products.maps is None or products.best is None:
        raise ValueError("the run report needs the site stage's maps and best-site year")
    ops = (products.plan, products.replans) if products.plan is not None else None
    return _render(
        path,
        products.maps,
        products.ranked,
        products.best,
        timings if timings is not None else products.timings,
        products.twin,
        products.campaign,
        ops,
        station_site=products.station_site,
        rescored=products.rescored,
        sizing={
            "battery": products.battery_sizing,
            "arrays": products.array_sizing,
            "mast": mast_context(products.mast_options, products.twin),
        },
        trade=products.trade,
    )


#: Half-width of the map centred on the station [km]
CLOSEUP_HALF_KM = 12.0


def _closeup(maps: SiteMaps, station, ranked, marks, twin, half_km: float) -> str | None:
    """The Sun-visibility map centred on the station, its elements listed beside the star (they share its
    point: the scenario places the station, not each element), the ranked and named sites nearby."""
    if station is None:
        return None
    window = window_around(maps.dem, station[0], station[1], half_km)
    if window is None:
        return None
    rows, cols, extent = window

    def inside(p) -> bool:
        return extent[0] <= p[0] <= extent[1] and extent[2] <= p[1] <= extent[3]

    elements = twin.scenario.elements if twin is not None else []
    lines = [f"at the star: {len(elements)} elements"] if elements else []
    for e in elements:
        h = getattr(e, "mast_height_m", None) or getattr(e, "antenna_height_m", None)
        if h is not None:
            lines.append(f"{e.name} ({e.kind}, {h:g} m)")
    title, unit = LAYERS["sun_visible_fraction"]
    png = map_png(
        maps.layers["sun_visible_fraction"][rows, cols],
        extent,
        f"{title}: {2 * half_km:g} km around the station",
        unit,
        "sun_visible_fraction",
        [m for m in marks if inside(m)],
        [(r.x_m / 1000, r.y_m / 1000, r.rank) for r in ranked if inside((r.x_m / 1000, r.y_m / 1000))],
        station,
        note="\n".join(lines[:9] + (["..."] if len(lines) > 9 else [])) or None,
    )
    return _b64(png)


def _render(
    path: str | Path,
    maps: SiteMaps,
    ranked: list[RankedSite],
    best: PointEnvironment,
    timings: dict[str, float] | None = None,
    twin=None,
    campaign=None,
    ops=None,
    station_site: PointEnvironment | None = None,
    sizing: dict | None = None,
    rescored: list | None = None,
    trade=None,
) -> Path:
    """Write the report: maps with colour bars and site marks, the top sites, a year at the best site."""
    dem = maps.dem
    extent = extent_km(dem)
    marks = site_marks(dem, SITES)
    ranked_marks = [(r.x_m / 1000, r.y_m / 1000, r.rank) for r in ranked]
    station = None
    if station_site is not None:
        sx, sy = dem.projection.forward(np.array([station_site.lat_deg]), np.array([station_site.lon_deg]))
        label = twin.scenario.name if twin is not None else "station"
        station = (float(sx[0]) / 1000, float(sy[0]) / 1000, label)
    figures = []
    for name, (title, unit) in LAYERS.items():
        if name == "never_lit":
            continue
        figures.append(
            {
                "name": name,
                "title": title,
                "unit": unit,
                "png": _b64(
                    map_png(maps.layers[name], extent, title, unit, name, marks, ranked_marks, station, dem=dem)
                ),
            }
        )
    s = best.series
    hz = horizon_png(
        best.profile.azimuth_deg,
        best.profile.elevation_deg,
        s["sun_azimuth_deg"],
        s["sun_elevation_deg"],
        s["earth_azimuth_deg"],
        s["earth_elevation_deg"],
        f"Horizon at the best site ({best.lat_deg:.4f}, {best.lon_deg:.3f} E), {best.height_m:g} m above ground",
    )
    station_ctx = None
    if station_site is not None:
        ss = station_site.series
        station_ctx = {
            "env": station_site,
            "horizon_png": _b64(
                horizon_png(
                    station_site.profile.azimuth_deg,
                    station_site.profile.elevation_deg,
                    ss["sun_azimuth_deg"],
                    ss["sun_elevation_deg"],
                    ss["earth_azimuth_deg"],
                    ss["earth_elevation_deg"],
                    f"Horizon at the station ({station_site.lat_deg:.4f}, {station_site.lon_deg:.3f} E), "
                    f"{station_site.height_m:g} m above ground",
                )
            ),
            "elements": [
                (e.name, e.kind, getattr(e, "mast_height_m", None) or getattr(e, "antenna_height_m", None))
                for e in (twin.scenario.elements if twin is not None else [])
            ],
            "closeup_png": _closeup(maps, station, ranked, marks, twin, CLOSEUP_HALF_KM),
            "closeup_half_km": CLOSEUP_HALF_KM,
        }
    never = maps.layers["never_lit"]
    html = (
        report_environment()
        .get_template("run_report.html.j2")
        .render(
            version=__version__,
            generated=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
            maps=maps,
            ranked=ranked,
            best=best,
            figures=figures,
            horizon_png=_b64(hz),
            series_html=_series_figure(best),
            sites=SITES,
            timings=timings or {},
            never_lit_km2=float(never.sum()) * (abs(dem.dx) / 1000) ** 2,
            shape=dem.shape,
            cell_m=abs(dem.dx),
            twin=_twin_context(twin),
            campaign=_campaign_context(campaign),
            ops=_ops_context(ops),
            station=station_ctx,
            sizing=sizing or {},
            rescored=rescored or [],
            trade=_trade_context(trade),
        )
    )
    return atomic_write_text(path, html)
