"""The curated public API of ilrs: thin wrappers that take user units (UTC, degrees) and call the packages.

Everything here is importable as ``from ilrs.api import ...``; the packages below stay free to change. Every
capability has one function returning a small result object: the service's own result in ``.result`` (or
``.run``), ``to_xarray()`` / ``to_dataframe()`` where it holds series or tables, and a compact HTML summary for
Jupyter (``_repr_html_``). Heavy modules (xarray, pandas, the planner, Dask) load when a function is called.

>>> from ilrs import api
>>> t = api.twin("my-station.toml")          # doctest: +SKIP
>>> t.kpis.min_state_of_charge, t.to_xarray()  # doctest: +SKIP
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ilrs.ephem.directions import BODIES, angular_radius, body_position_me, topocentric_az_el
from ilrs.ephem.time import et_to_utc, parse_step, to_et, utc_grid
from ilrs.errors import IlrsError
from ilrs.services import site_maps as _site_maps
from ilrs.services.data import default_mosaic, load_dem
from ilrs.services.site import PointEnvironment, cached_point_horizon, point_environment
from ilrs.services.site_maps import RankedSite, SiteMaps, site_maps
from ilrs.terrain.sites import SITES, site_by_key

if TYPE_CHECKING:
    from ilrs.campaign.montecarlo import CampaignResult
    from ilrs.scenario.schema import Scenario
    from ilrs.services.compare import Comparison
    from ilrs.services.pipeline import RunProducts
    from ilrs.services.plan import Replan, ScenarioPlan
    from ilrs.services.trade import TradeResult
    from ilrs.services.twin import MastOption
    from ilrs.station.twin import ArraySizing, BatterySizing, SheddingEvent, TwinKpis, TwinRun
    from ilrs.station.verdict import Verdict
    from ilrs.transport.halo import HaloFamily, HaloOrbit

__all__ = [
    "BODIES",
    "Campaign",
    "Descent",
    "LaunchWindows",
    "MastOptions",
    "Run",
    "ScenarioComparison",
    "FrozenRelay",
    "Halo",
    "LowLunarOrbit",
    "IlrsError",
    "Nrho",
    "Plan",
    "PointEnvironment",
    "RankedSite",
    "RankedSites",
    "SITES",
    "Site",
    "SiteMaps",
    "Sizing",
    "Trade",
    "Transfer",
    "Twin",
    "campaign",
    "compare",
    "descent",
    "apollo11_descent",
    "launch_windows",
    "llo",
    "size_mast",
    "frozen_relay",
    "halo",
    "load",
    "nrho",
    "plan",
    "site",
    "size_arrays",
    "size_battery",
    "trade",
    "transfer",
    "twin",
    "default_mosaic",
    "horizon_profile",
    "html_table",
    "load_dem",
    "point_environment",
    "rank_sites",
    "run",
    "site_by_key",
    "site_maps",
    "angular_radius",
    "body_position_me",
    "et_to_utc",
    "parse_step",
    "to_et",
    "topocentric",
    "utc_grid",
    "with_period",
]


def _is_scalar_time(times) -> bool:
    return np.ndim(times) == 0


def topocentric(body: str, lat_deg: float, lon_deg: float, times, height_m: float = 0.0) -> tuple:
    """Apparent azimuth and elevation of the Sun or the Earth from a point on the lunar sphere.

    Parameters
    ----------
    body : str
        'SUN' or 'EARTH'.
    lat_deg, lon_deg : float
        Planetocentric latitude and east longitude of the observer in MOON_ME (the frame of LOLA data) [deg].
    times : str, datetime, numpy.datetime64, or a sequence / array of these
        UTC epochs (see :func:`ilrs.ephem.time.to_et` for the accepted forms).
    height_m : float
        Height above the sphere of radius 1737.4 km [m].

    Returns
    -------
    azimuth_deg : numpy.ndarray or numpy.float64
        From local north toward east, in [0, 360) [deg].
    elevation_deg : numpy.ndarray or numpy.float64
        Above the local horizontal plane of the sphere (no terrain) [deg], light time and stellar aberration
        corrected, as SPICE spkcpo 'LT+S' gives it.

    A scalar ``times`` gives numpy scalars; a sequence or array of n times gives arrays of shape (n,) (a
    multi-dimensional array of times is flattened).

    Examples
    --------
    >>> az, el = topocentric("SUN", -89.45, 222.69, ["2030-01-01T00:00:00", "2030-01-01T06:00:00"])
    """
    et = to_et(times).ravel()
    azimuth, elevation, _ = topocentric_az_el(body, et, lat_deg, lon_deg, height_m)
    azimuth_deg, elevation_deg = np.degrees(azimuth), np.degrees(elevation)
    if _is_scalar_time(times):
        return azimuth_deg[0], elevation_deg[0]
    return azimuth_deg, elevation_deg


def horizon_profile(lat_deg: float, lon_deg: float, height_m: float = 0.0, n_azimuths: int = 3600):
    """Terrain horizon at a point from the embedded nested mosaic (cached): a ``HorizonProfile`` whose
    ``elevation_deg[k]`` is the horizon at geographic azimuth ``k * 360 / n_azimuths`` [deg]."""
    return cached_point_horizon(default_mosaic(), lat_deg, lon_deg, height_m, n_azimuths)


# ---- HTML summaries -------------------------------------------------------------------------------------------


def _fmt(value: Any) -> str:
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, float | np.floating):
        v = float(value)
        if v != v:
            return "-"
        return f"{v:,.3f}" if abs(v) < 1e5 else f"{v:,.0f}"
    return str(value)


def html_table(title: str, rows: Iterable[tuple[str, Any]], note: str = "") -> str:
    """A compact two-column HTML table (every text escaped): the ``_repr_html_`` of the results below."""
    body = "".join(
        f"<tr><th style='text-align:left'>{html.escape(str(k))}</th>"
        f"<td style='text-align:right'>{html.escape(_fmt(v))}</td></tr>"
        for k, v in rows
    )
    foot = f"<p>{html.escape(note)}</p>" if note else ""
    return f"<div class='ilrs-result'><strong>{html.escape(title)}</strong><table>{body}</table>{foot}</div>"


def _grid_table(title: str, header: list[str], rows: Iterable[Iterable[Any]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(_fmt(v))}</td>" for v in r) + "</tr>" for r in rows)
    return f"<div class='ilrs-result'><strong>{html.escape(title)}</strong><table><tr>{head}</tr>{body}</table></div>"


#: The units of :class:`RankedSite`'s fields (the columns of :meth:`RankedSites.to_dataframe`).
RANKED_SITE_UNITS = {
    "lat_deg": "deg",
    "lon_deg": "deg",
    "x_m": "m",
    "y_m": "m",
    "score": "1",
    "ground_elevation_m": "m",
    "slope_deg": "deg",
    "sun_visible_fraction": "1",
    "mean_disk_fraction": "1",
    "longest_dark_hours": "h",
    "earth_visible_fraction": "1",
    "distance_to_shadow_km": "km",
    "nearest_named_km": "km",
}


class RankedSites(list):
    """The best sites of a map, best first: a list of :class:`RankedSite` (as :func:`rank_sites` always gave),
    with ``to_dataframe()`` (one row per site, indexed by rank) and an HTML table in Jupyter."""

    def to_dataframe(self) -> Any:
        """One row per site (index ``rank``); units in ``df.attrs["units"]`` (see :data:`RANKED_SITE_UNITS`)."""
        import pandas as pd

        columns = [f for f in RankedSite.__dataclass_fields__ if f != "rank"]
        df = pd.DataFrame([asdict(r) for r in self], columns=["rank", *columns]).set_index("rank")
        df.attrs["units"] = dict(RANKED_SITE_UNITS)
        return df

    def _repr_html_(self) -> str:
        return _grid_table(
            f"{len(self)} ranked sites",
            ["#", "lat [deg]", "lon E [deg]", "Sun [%]", "dark [h]", "Earth [%]", "slope [deg]", "nearest named site"],
            (
                (
                    r.rank,
                    r.lat_deg,
                    r.lon_deg,
                    100 * r.sun_visible_fraction,
                    r.longest_dark_hours,
                    100 * r.earth_visible_fraction,
                    r.slope_deg,
                    f"{r.nearest_named_site} ({r.nearest_named_km:.1f} km)",
                )
                for r in self
            ),
        )


def rank_sites(
    maps: SiteMaps,
    top: int = 10,
    max_slope_deg: float = 15.0,
    min_separation_km: float = 5.0,
    weights: dict[str, float] | None = None,
) -> RankedSites:
    """The best station sites of ``maps`` (:func:`ilrs.services.site_maps.rank_sites`: score, slope limit [deg],
    separation [km]) as :class:`RankedSites`: the list of :class:`RankedSite` with ``to_dataframe()``."""
    return RankedSites(_site_maps.rank_sites(maps, top, max_slope_deg, min_separation_km, weights))


# ---- scenarios ---------------------------------------------------------------------------------------------------


def load(scenario: str | Path | Scenario | None = None) -> Scenario:
    """A scenario checked in full (schema, references, site on the terrain): a built-in name, a TOML file, or a
    :class:`~ilrs.scenario.schema.Scenario` (returned as it is); ``None``: the default built-in."""
    from ilrs.scenario.schema import Scenario
    from ilrs.services.scenarios import validated_scenario

    if isinstance(scenario, Scenario):
        return scenario
    return validated_scenario(scenario)


def with_period(
    scenario: str | Path | Scenario | None, start: str | None = None, end: str | None = None, step: str | None = None
) -> Scenario:
    """The scenario over another span (UTC dates, ``"2035-07-01"``) or step (``"1h"``), validated again: a month
    at hourly steps runs the twin in a second or two, where the built-in 8 years at 10 minutes take a minute.

    Elements that arrive before the new start are there from the start; elements that arrive at or after the new
    end are left out, and so are the events outside the span or on those elements."""
    import datetime as dt

    from pydantic import ValidationError

    from ilrs.scenario.schema import Scenario

    s = load(scenario)
    data = s.model_dump(by_alias=True, exclude_none=True)
    for name, value in (("start", start), ("end", end)):
        if value is not None:
            try:
                t = dt.datetime.fromisoformat(value.replace("Z", ""))
            except ValueError:
                raise IlrsError(f"cannot read the date {value!r}", source=name, hint="e.g. 2035-07-01") from None
            data[name] = t.replace(tzinfo=dt.UTC) if t.tzinfo is None else t.astimezone(dt.UTC)
    if step is not None:
        parse_step(step)
        data["step"] = step
    t0, t1 = data["start"], data["end"]
    if t1 <= t0:
        raise IlrsError(f"the period ends ({t1:%Y-%m-%d}) before it starts ({t0:%Y-%m-%d})", source="end")
    kept = [{**e, "arrival": max(e["arrival"], t0)} for e in data["elements"] if e["arrival"] < t1]
    names = {e["name"] for e in kept}
    data["elements"] = kept

    def inside(ev: dict[str, Any]) -> bool:
        if "at" in ev:  # an element failure: on a kept element, inside the span
            return ev["element"] in names and t0 <= ev["at"] < t1
        return bool(ev["from"] < t1 and ev["to"] > t0)  # an outage overlapping the span

    data["events"] = [ev for ev in data.get("events", []) if inside(ev)]
    try:
        out = Scenario.model_validate(data)
    except ValidationError as exc:
        msg = str(exc.errors()[0].get("msg", "invalid")).removeprefix("Value error, ")
        raise IlrsError(f"the scenario over that period is not valid: {msg}", source="with_period") from None
    out._path = s.path
    return out


# ---- site --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Site:
    """Sun and Earth visibility at a point over a span (:class:`~ilrs.services.site.PointEnvironment` in
    ``.result``): fractions of the time steps, longest dark and Earth-gap runs, and the series per step."""

    result: PointEnvironment

    def to_dataframe(self) -> Any:
        """One row per time step (UTC index): Sun and Earth azimuth, elevation, horizon [deg], Sun disk fraction,
        Earth visible."""
        import pandas as pd

        s = dict(self.result.series)
        t = pd.DatetimeIndex(s.pop("time_utc"), name="time")
        return pd.DataFrame(s, index=t)

    def to_xarray(self) -> Any:
        """The series as a Dataset on ``time`` (units in the attributes), the summary in its attributes."""
        import xarray as xr

        ds = xr.Dataset.from_dataframe(self.to_dataframe())
        for name in ds.data_vars:
            ds[name].attrs["units"] = "degree" if str(name).endswith("_deg") else "1"
        ds.attrs.update({k: v for k, v in self.result.summary().items() if not isinstance(v, list)})
        return ds

    def _repr_html_(self) -> str:
        r = self.result
        return html_table(
            f"site ({r.lat_deg:.4f}, {r.lon_deg:.4f}), {r.start} .. {r.end}",
            [
                ("steps", r.n_steps),
                ("Sun visible [% of steps]", 100 * r.sun_visible_fraction),
                ("mean Sun disk fraction [%]", 100 * r.sun_mean_disk_fraction),
                ("Earth visible [% of steps]", 100 * r.earth_visible_fraction),
                ("longest dark [h]", r.longest_dark_hours),
                ("longest Earth gap [h]", r.longest_earth_gap_hours),
                ("ground elevation [m]", r.ground_elevation_m),
                ("slope [deg]", r.slope_deg),
            ],
            "; ".join(r.warnings),
        )


def site(
    lat_deg: float,
    lon_deg: float,
    start: str,
    end: str,
    step: str | float = "1h",
    height_m: float = 0.0,
    dems: list[str] | None = None,
) -> Site:
    """Sun and Earth visibility at a point, every ``step`` (``"1h"``, ``"10m"`` or seconds) from ``start`` to
    ``end`` (UTC); see :func:`ilrs.services.site.point_environment`.

    Parameters
    ----------
    lat_deg, lon_deg : float
        Planetocentric latitude and east longitude (MOON_ME) [deg].
    height_m : float
        Observer height above the ground [m].
    """
    step_s = parse_step(step) if isinstance(step, str) else float(step)
    return Site(point_environment(lat_deg, lon_deg, start, end, step_s, height_m, dems))


# ---- station twin ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Twin:
    """A station twin run (:class:`~ilrs.station.twin.TwinRun` in ``.run``): KPIs, verdict, time series."""

    run: TwinRun

    @property
    def kpis(self) -> TwinKpis:
        return self.run.kpis

    @property
    def verdict(self) -> Verdict:
        return self.run.verdict

    def shedding_events(self) -> list[SheddingEvent]:
        """The load-shedding log, one event per run of steps with load shed."""
        from ilrs.station.twin import shedding_events

        return shedding_events(self.run)

    def to_xarray(self) -> Any:
        """The run as the CF-1.10 Dataset that ``ilrs twin --netcdf`` writes (:func:`ilrs.station.twin.to_dataset`):
        powers [W], energies [W h], rates [bit/s] on ``time`` (and ``priority``)."""
        from ilrs.station.twin import to_dataset

        return to_dataset(self.run)

    def to_dataframe(self) -> Any:
        """One row per step (UTC index): every per-step series; per-priority loads as ``load_demand_p1`` etc."""
        import pandas as pd

        ds = self.to_xarray()
        cols: dict[str, Any] = {}
        for name, v in ds.data_vars.items():
            if v.dims == ("time",):
                cols[str(name)] = v.values
            elif v.dims == ("priority", "time"):
                for p, row in zip(ds["priority"].values, v.values, strict=True):
                    cols[f"{name}_p{int(p)}"] = row
        return pd.DataFrame(cols, index=pd.DatetimeIndex(ds["time"].values, name="time"))

    def phases_dataframe(self) -> Any:
        """The verdict's build-up phases, one row each (means in kW)."""
        import pandas as pd

        return pd.DataFrame([asdict(p) for p in self.verdict.phases])

    def _repr_html_(self) -> str:
        from ilrs.reports.twin_section import KPI_LABELS

        k = self.kpis.as_dict()
        s = self.run.scenario
        rows: list[tuple[str, Any]] = [
            ("verdict", self.verdict.headline()),
            ("energy generated", f"{k['generated_kwh']:,.0f} kWh"),
            ("energy demanded", f"{k['demanded_kwh']:,.0f} kWh"),
        ]
        rows += [(label, fmt.format(k[key])) for key, (label, fmt) in KPI_LABELS.items()]
        return html_table(f"twin {s.name}: {s.start:%Y-%m-%d} .. {s.end:%Y-%m-%d}, step {s.step}", rows)


def twin(scenario: str | Path | Scenario | None = None) -> Twin:
    """Run the station twin of a scenario over its period (site environment cached on disk), as ``ilrs twin``."""
    from ilrs.services.twin import run_twin

    return Twin(run_twin(load(scenario)))


@dataclass(frozen=True)
class Sizing:
    """The smallest battery or array factor that keeps the protected loads powered (``.result``:
    :class:`~ilrs.station.twin.BatterySizing` or :class:`~ilrs.station.twin.ArraySizing`)."""

    scenario: str
    what: str  #: "battery" or "arrays"
    result: BatterySizing | ArraySizing

    def as_dict(self) -> dict[str, Any]:
        return asdict(self.result)

    def _repr_html_(self) -> str:
        rows = [(k.replace("_", " "), v) for k, v in self.as_dict().items()]
        return html_table(f"{self.scenario}: {self.what} sizing", rows)


def size_battery(scenario: str | Path | Scenario | None = None, protect: int = 2) -> Sizing:
    """The smallest battery (a factor on the scenario's batteries) with no load shed in priorities 1..``protect``."""
    from ilrs.services.twin import size_battery as service

    s = load(scenario)
    return Sizing(s.name, "battery", service(s, protect=protect))


def size_arrays(scenario: str | Path | Scenario | None = None, protect: int = 2) -> Sizing:
    """The smallest solar arrays (a factor on every array's area) with no load shed in priorities 1..``protect``."""
    from ilrs.services.twin import size_arrays as service

    s = load(scenario)
    return Sizing(s.name, "arrays", service(s, protect=protect))


@dataclass(frozen=True)
class MastOptions:
    """The station with every array's mast at each height (:class:`~ilrs.services.twin.MastOption` rows)."""

    scenario: str
    result: list[MastOption]

    def to_dataframe(self) -> Any:
        """One row per mast height [m]: survives, critical load lost [h], least storage margin, solar energy [kWh]."""
        import pandas as pd

        return pd.DataFrame([asdict(o) for o in self.result]).set_index("mast_height_m")

    def _repr_html_(self) -> str:
        rows = [
            [o.mast_height_m, o.survives, o.critical_load_lost_h, o.least_storage_margin, o.solar_kwh]
            for o in self.result
        ]
        head = ["mast [m]", "survives", "critical lost [h]", "least storage margin", "solar [kWh]"]
        return _grid_table(f"{self.scenario}: every array's mast at", head, rows)


def size_mast(
    scenario: str | Path | Scenario | None = None, heights_m: Iterable[float] = (3, 5, 10, 15, 20)
) -> MastOptions:
    """The twin with every array's mast at each height (each height's horizons computed once, then cached), as
    ``ilrs size mast``."""
    from ilrs.services.twin import mast_options

    s = load(scenario)
    return MastOptions(s.name, mast_options(s, [float(h) for h in heights_m]))


@dataclass(frozen=True)
class ScenarioComparison:
    """Scenarios side by side (:class:`~ilrs.services.compare.Comparison` in ``.result``)."""

    result: Comparison

    def twins(self) -> list[Twin]:
        return [Twin(r) for r in self.result.runs]

    def to_dataframe(self) -> Any:
        """One row per figure (verdict and KPIs), one column per scenario, and ``differs`` from the first."""
        import pandas as pd

        names = list(self.result.names)
        rows = [[*values, differs] for _, values, differs in self.result.rows]
        index = pd.Index([k for k, _, _ in self.result.rows], name="key")
        return pd.DataFrame(rows, index=index, columns=[*names, "differs"])

    def _repr_html_(self) -> str:
        rows = [[k, *v, "*" if d else ""] for k, v, d in self.result.rows]
        return _grid_table("compared (* differs from the first)", ["", *self.result.names, ""], rows)


def compare(*scenarios: str | Path | Scenario) -> ScenarioComparison:
    """Run each scenario's twin (files, built-in names or scenarios) and line up verdicts and KPIs, as
    ``ilrs compare``."""
    from ilrs.scenario.schema import Scenario
    from ilrs.services.compare import compare_scenarios

    return ScenarioComparison(compare_scenarios([s if isinstance(s, Scenario) else str(s) for s in scenarios]))


# ---- campaign ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Campaign:
    """The roadmap's Monte Carlo (:class:`~ilrs.campaign.montecarlo.CampaignResult` in ``.result``)."""

    scenario: str
    result: CampaignResult
    by: str
    mode: str
    notes: list[str]
    buildup: dict[str, Any]  #: planned items and the yearly timeline (as ``ilrs campaign --json``)

    def summary(self) -> list[dict[str, Any]]:
        from datetime import date

        return self.result.summary(date.fromisoformat(self.by))

    def to_dataframe(self) -> Any:
        """One row per capability: P(in place and working on ``by``), P(ever), median first date."""
        import pandas as pd

        return pd.DataFrame(self.summary()).set_index("capability")

    def to_xarray(self, start: str = "2026-01-01", end: str = "2040-01-01") -> Any:
        """P(capability in place and working) on the first of each month, on (``capability``, ``time``)."""
        import xarray as xr

        from ilrs.services.campaign import capability_cdf

        months, cdf = capability_cdf(self.result, start, end)
        caps = list(cdf)
        return xr.Dataset(
            {"probability": (("capability", "time"), np.array([cdf[c] for c in caps]), {"units": "1"})},
            coords={"capability": caps, "time": months.astype("datetime64[ns]")},
            attrs={"runs": self.result.runs, "seed": self.result.seed, "scenario": self.scenario},
        )

    def _repr_html_(self) -> str:
        key = f"p_by_{self.by}"
        rows = [(f"P({r['capability']} by {self.by})", r[key]) for r in self.summary()]
        return html_table(f"campaign {self.scenario}: {self.result.runs:,} runs, seed {self.result.seed}", rows)


def campaign(
    scenario: str | Path | Scenario | None = None,
    runs: int = 10_000,
    seed: int = 2035,
    by: str = "2035-12-31",
    workers: int | None = None,
    scheduler: str | None = None,
) -> Campaign:
    """Monte Carlo of the scenario's missions (launch and landing failures, slips): capability probabilities on
    ``by`` and the build-up, as ``ilrs campaign``; results do not depend on the number of workers."""
    from datetime import date

    from ilrs.campaign.roadmap import check_roadmap, scenario_roadmap
    from ilrs.services.campaign import buildup_json, buildup_of
    from ilrs.services.montecarlo import run_monte_carlo

    try:
        by_date = date.fromisoformat(by)
    except ValueError as exc:
        raise IlrsError(f"by {by!r} is not a date", source="by", hint="use YYYY-MM-DD") from exc
    s = load(scenario)
    missions, vehicles = scenario_roadmap(s)
    notes = check_roadmap(missions, vehicles)
    result, mode = run_monte_carlo(missions, runs, seed, workers, scheduler)
    items, rows = buildup_of(missions, result, s, by=by_date)
    return Campaign(s.name, result, by, mode, notes, buildup_json(items, rows))


# ---- transport ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Figures:
    """Named figures of a transport computation (``.values``, JSON-ready, as the CLI's ``--json``)."""

    values: dict[str, Any]
    _title = "figures"

    def __getitem__(self, key: str) -> Any:
        return self.values[key]

    def as_dict(self) -> dict[str, Any]:
        return dict(self.values)

    def _repr_html_(self) -> str:
        rows = [(k, v) for k, v in self.values.items() if isinstance(v, int | float | str | bool)]
        return html_table(self._title, rows)


class Transfer(_Figures):
    """An Earth-Moon transfer: TLI and LOI delta-v [m/s], periapsis, inclination, targeting residuals."""

    _title = "Earth-Moon transfer"


def transfer(
    depart: str = "2030-06-20T09:00",
    tof_days: float = 4.75,
    parking_alt_km: float = 200.0,
    llo_alt_km: float = 100.0,
    inc_deg: float = 90.0,
    model: str = "ephemeris",
) -> Transfer:
    """An Earth-Moon transfer targeted in the ephemeris model (or ``model="patched-conic"``), as
    ``ilrs transfer``; see :func:`ilrs.services.campaign.transfer_summary`."""
    from ilrs.services.campaign import transfer_summary

    return Transfer(transfer_summary(depart, tof_days, parking_alt_km, llo_alt_km, inc_deg=inc_deg, model=model))


@dataclass(frozen=True)
class LaunchWindows:
    """A month of launch windows from a launch site (:class:`~ilrs.transport.windows.WindowScan` in ``.result``;
    ``.summary`` as ``ilrs transfer windows --json``)."""

    result: Any
    summary: dict[str, Any] = field(repr=False)

    def to_dataframe(self) -> Any:
        """One row per feasible lift-off: coast, azimuth, patched-conic and (when targeted) ephemeris TLI, LOI and
        time of flight."""
        import pandas as pd

        df = pd.DataFrame(self.summary["departures"])
        if not df.empty:
            df["launch_utc"] = pd.to_datetime(df["launch_utc"].str.rstrip("Z"))
            df = df.set_index("launch_utc")
        return df

    def _repr_html_(self) -> str:
        s = self.summary
        lo, hi = s["parking_inclination_range_deg"]
        deps = s["departures"]
        rows: list[tuple[str, Any]] = [
            ("launch epochs", s["launch_epochs"]),
            ("feasible", s["feasible_launch_epochs"]),
            ("targeted in the ephemeris model", s["targeted"]),
            ("windows", len(s["windows"])),
            ("parking inclinations [deg]", f"{lo:.2f} .. {hi:.2f}"),
        ]
        if deps:
            rows.append(("least patched-conic TLI [m/s]", min(d["conic_tli_dv_m_s"] for d in deps)))
        return html_table(f"launch windows from {s['site_name']}", rows)


def launch_windows(
    site: str = "wenchang",
    month: str = "2030-06",
    step_min: float = 60.0,
    parking_alt_km: float = 200.0,
    llo_alt_km: float = 100.0,
    inc_deg: float = 90.0,
    target: bool = True,
) -> LaunchWindows:
    """The launch windows of a month (``YYYY-MM``) from a launch site, screened by patched conics and (``target``)
    targeted in the ephemeris model, as ``ilrs transfer windows``."""
    from ilrs.transport.windows import month_span, scan_windows, summary

    start, end = month_span(month)
    scan = scan_windows(
        site,
        start,
        end,
        step_s=step_min * 60.0,
        parking_alt_km=parking_alt_km,
        periapsis_alt_km=llo_alt_km,
        arrival_inclination_deg=inc_deg,
        target=target,
    )
    return LaunchWindows(scan, summary(scan))


class Descent(_Figures):
    """A powered descent (from a circular low lunar orbit, or Apollo 11's from its PDI with the published figures
    beside it): delta-v, gravity loss, burn time, propellant."""

    _title = "powered descent"


def descent(llo_alt_km: float = 100.0, thrust_to_weight: float = 1.8, isp_s: float = 311.0) -> Descent:
    """Descent-orbit insertion then a gravity turn that stops at the surface, as ``ilrs orbit descent``."""
    from ilrs.transport.descent import gravity_turn_descent

    d = gravity_turn_descent(llo_alt_km, thrust_to_weight, isp_s)
    return Descent({**{k: v for k, v in asdict(d).items() if np.ndim(v) == 0}, "total_dv_m_s": d.total_dv_m_s})


def apollo11_descent(
    mass_kg: float | None = None,
    rated_thrust_n: float | None = None,
    isp_s: float | None = None,
    pdi_alt_km: float | None = None,
) -> Descent:
    """Apollo 11's powered descent flown like for like (fixed-throttle braking, then explicit guidance through the
    flight's gates) next to the published figures, as ``ilrs orbit descent --case apollo11``; None keeps the flown
    value (LM mass at PDI [kg], DPS rated thrust [N], Isp [s], PDI altitude [km])."""
    from ilrs.transport import guided_descent as g

    d = g.apollo11_descent(mass_kg, rated_thrust_n, isp_s, pdi_alt_km)
    return Descent(g.apollo11_figures(d))


class FrozenRelay(_Figures):
    """The relay's frozen elliptical orbit flown in the perturbed field: elements, perilune range, lifetime,
    station-keeping."""

    _title = "frozen relay orbit"


def frozen_relay(
    epoch: str = "2030-06-01T00:00",
    days: float = 365.0,
    min_perilune_km: float = 100.0,
    restore_perilune_km: float | None = None,
) -> FrozenRelay:
    """The Queqiao-2-like frozen relay orbit designed at ``epoch`` and flown for ``days``, as ``ilrs orbit relay``."""
    from ilrs.transport.relay import relay_report

    return FrozenRelay(
        relay_report(
            float(to_et(epoch)[0]),
            days,
            min_perilune_alt_km=min_perilune_km,
            restore_perilune_alt_km=restore_perilune_km,
        )
    )


class LowLunarOrbit(_Figures):
    """A circular low lunar orbit flown in the perturbed field: perilune range, inclination drift, lifetime,
    station-keeping."""

    _title = "low lunar orbit"


def llo(
    epoch: str = "2030-06-01T00:00",
    days: float = 28.0,
    alt_km: float = 100.0,
    inc_deg: float = 90.0,
    node_lon_deg: float = 0.0,
    min_perilune_km: float | None = None,
) -> LowLunarOrbit:
    """The circular LLO at ``epoch`` flown for ``days`` in the perturbed field, as ``ilrs orbit llo``."""
    from ilrs.transport.llo import llo_report

    return LowLunarOrbit(
        llo_report(float(to_et(epoch)[0]), days, alt_km, inc_deg, node_lon_deg, min_perilune_alt_km=min_perilune_km)
    )


@dataclass(frozen=True)
class Nrho:
    """The 9:2 L2 southern NRHO (:class:`~ilrs.transport.halo.HaloOrbit` in ``.orbit``), the surface-direct vs
    Gateway-staged chains, and with ``revs`` the ephemeris-model figures."""

    orbit: HaloOrbit
    south_pole_visible_fraction: float
    architectures: list[dict[str, Any]]
    ephemeris: dict[str, Any] | None = None

    def to_dataframe(self) -> Any:
        """The architectures leg by leg: delta-v [m/s] and days per leg."""
        import pandas as pd

        rows = [{"architecture": a["architecture"], **leg} for a in self.architectures for leg in a["legs"]]
        return pd.DataFrame(rows)

    def _repr_html_(self) -> str:
        o = self.orbit
        rows: list[tuple[str, Any]] = [
            ("period [d]", o.period_days),
            ("perilune radius [km]", o.perilune_radius_km),
            ("apolune radius [km]", o.apolune_radius_km),
            ("Jacobi constant", o.jacobi),
            ("south pole visible [% of period]", 100 * self.south_pole_visible_fraction),
        ]
        rows += [
            (f"{a['architecture']}: delta-v after TLI [m/s]", a["delta_v_after_tli_m_s"]) for a in self.architectures
        ]
        rows += [(f"{a['architecture']}: CZ-10 landed [kg]", a["cz10_landed_kg"]) for a in self.architectures]
        if self.ephemeris:
            rows.append(("station keeping [m/s per year]", self.ephemeris["station_keeping_m_s_per_year"]))
        return html_table("9:2 L2 southern NRHO", rows)


def nrho(
    depart: str = "2030-06-20T09:00", tof_days: float = 4.75, revs: int = 0, epoch: str = "2030-06-01T00:00"
) -> Nrho:
    """The 9:2 NRHO in the CR3BP and the two architectures to the south pole; ``revs`` (10-60) also carries it
    into the ephemeris model from ``epoch`` (as ``ilrs orbit nrho``; costly)."""
    from ilrs.services.campaign import architecture_chains
    from ilrs.transport.halo import nrho_9_2, south_pole_visibility

    if not 0.5 <= tof_days <= 30.0:
        raise IlrsError(f"time of flight {tof_days} d is outside [0.5, 30] d", source="tof_days")
    o = nrho_9_2()
    eph = None
    figures: list = []
    if revs:
        from ilrs.transport.nrho_ephemeris import nrho_report

        eph = nrho_report(float(to_et(epoch)[0]), revs, figures=figures)
    chains = architecture_chains(nrho=o, depart=depart, tof_days=tof_days, ephemeris=figures[0] if figures else None)
    return Nrho(o, south_pole_visibility(o), chains, eph)


@dataclass(frozen=True)
class Halo:
    """A halo family by continuation (:class:`~ilrs.transport.halo.HaloFamily` in ``.result``)."""

    l_point: int
    result: HaloFamily

    def to_dataframe(self) -> Any:
        """One row per member: period [d], Jacobi constant, perilune and apolune radius [km]."""
        import pandas as pd

        f = self.result
        return pd.DataFrame(
            {
                "period_days": f.periods_days,
                "jacobi": f.jacobi,
                "perilune_radius_km": f.perilune_radius_km,
                "apolune_radius_km": f.apolune_radius_km,
            },
            index=pd.RangeIndex(len(f.periods_days), name="member"),
        )

    def to_xarray(self) -> Any:
        import xarray as xr

        ds = xr.Dataset.from_dataframe(self.to_dataframe())
        units = {"period_days": "day", "jacobi": "1", "perilune_radius_km": "km", "apolune_radius_km": "km"}
        for name, u in units.items():
            ds[name].attrs["units"] = u
        ds.attrs["l_point"] = self.l_point
        return ds

    def _repr_html_(self) -> str:
        f = self.result
        return html_table(
            f"L{self.l_point} southern halo family",
            [
                ("members", len(f.periods_days)),
                ("period range [d]", f"{f.periods_days.min():.3f} .. {f.periods_days.max():.3f}"),
                ("Jacobi range", f"{f.jacobi.min():.5f} .. {f.jacobi.max():.5f}"),
                ("least perilune radius [km]", float(f.perilune_radius_km.min())),
            ],
        )


def halo(l_point: int = 2, n: int = 200, step: float = 0.01) -> Halo:
    """The southern halo family about L1 or L2 (up to ``n`` members, continuation ``step`` nondimensional), as
    ``ilrs orbit halo``."""
    from ilrs.transport.halo import halo_family

    return Halo(l_point, halo_family(l_point, n, step=step))


# ---- operations --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """A plan of partner activities on a scenario's station (:class:`~ilrs.services.plan.ScenarioPlan` in
    ``.result``), checked by the twin and the independent validator."""

    result: ScenarioPlan
    summary: dict[str, Any] = field(repr=False)

    def to_dataframe(self) -> Any:
        """One row per planned activity (request, occurrence, partner, start and end in UTC, power [W], data)."""
        import pandas as pd

        from ilrs.services.plan import plan_rows

        df = pd.DataFrame(plan_rows(self.result))
        if not df.empty:
            for c in ("start", "end"):
                df[c] = pd.to_datetime(df[c].str.rstrip("Z"))
        return df

    def replan(self, event: dict[str, Any], time_limit: float = 7.0) -> Replan:
        """Re-plan after an event (e.g. ``{"kind": "element_failure", "element": "ilrs1-array", "at":
        "2033-07-01"}``): what was kept, moved and added, the value before and after (this plan is unchanged)."""
        from ilrs.services.plan import check_event_in, parse_event, replan_for

        ev = parse_event(event, "event")
        lim = self.result.base.limits
        check_event_in(ev, lim.t0, lim.time_of(lim.n), source="event")
        return replan_for(self.result, ev, time_limit=time_limit)

    def unplaced_dataframe(self) -> Any:
        """Every occurrence not placed, with its reason."""
        import pandas as pd

        return pd.DataFrame(self.summary["unplanned_occurrences"], columns=["request", "occurrence", "reason"])

    def _repr_html_(self) -> str:
        s = self.summary
        return html_table(
            f"plan on {s['scenario']}: {s['horizon'][0]} .. {s['horizon'][1]}",
            [
                ("requests", s["requests"]),
                ("occurrences", s["blocks"]),
                ("planned", s["planned"]),
                ("not placed", len(s["unplanned_occurrences"])),
                ("value", s["value"]),
                ("greedy value", s["greedy_value"]),
                ("bound", s["bound"]),
                ("twin check", "ok" if s["twin_check"]["ok"] else "harm"),
                ("validator violations", len(s["violations"])),
            ],
        )


def plan(
    scenario: str | Path | Scenario | None = None,
    requests: str | Path | None = None,
    start: str | None = None,
    end: str | None = None,
    method: str = "cpsat",
    time_limit: float = 30.0,
    window_days: float = 7.0,
) -> Plan:
    """Plan activity requests (a file, else the scenario's own) with CP-SAT against the twin's limits, as
    ``ilrs plan``; the same inputs give the same plan."""
    import datetime as dt

    from ilrs.services.plan import plan_scenario, plan_summary, requests_for

    def when(v: str | None) -> dt.datetime | None:
        return None if v is None else dt.datetime.fromisoformat(v.replace("Z", "")).replace(tzinfo=None)

    s = load(scenario)
    rs = requests_for(s, requests)
    sp = plan_scenario(
        s, rs, start=when(start), end=when(end), method=method, time_limit=time_limit, window_days=window_days
    )
    return Plan(sp, plan_summary(sp))


# ---- trade studies -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Trade:
    """A design study (:class:`~ilrs.services.trade.TradeResult` in ``.result``)."""

    result: TradeResult

    def to_xarray(self) -> Any:
        """The designs table on ``design`` (parameters, metrics, feasible, on_front, reason), as ``designs.nc``."""
        from ilrs.services.trade import results_dataset

        return results_dataset(self.result)

    def to_dataframe(self) -> Any:
        return self.to_xarray().to_dataframe()

    def front(self) -> list[dict[str, Any]]:
        """The Pareto front, best in the first objective first: design, parameter values, objectives."""
        return list(self.result.as_dict()["front"])

    def _repr_html_(self) -> str:
        r = self.result
        objectives = [f"{o.sense} {o.metric}" for o in r.space.objectives]
        head = ["design", *(label for label, _ in r.space.dimensions()), *objectives]
        rows = [
            [i, *r.values(i).values(), *(float(r.metric(o.metric)[i]) for o in r.space.objectives)]
            for i in r.front_order()
        ]
        summary = html_table(
            f"trade {r.space.name} on {r.scenario.name} ({r.method})",
            [
                ("designs", len(r.evaluations)),
                ("feasible", int(r.feasible.sum())),
                ("on the front", int(r.on_front.sum())),
                ("twin runs", r.twin_runs),
                ("seconds", r.seconds),
            ],
        )
        return summary + _grid_table("Pareto front", head, rows)


def trade(
    scenario: str | Path | Scenario,
    space: str | Path,
    method: str = "grid",
    workers: int | None = None,
    scheduler: str | None = None,
) -> Trade:
    """Run a design study of a space (TOML or built-in name) around a scenario (a file, a built-in name or a
    scenario): ``grid``, ``lhs`` or ``nsga2``, as ``ilrs trade`` (without writing files)."""
    from ilrs.services.trade import run_trade

    return Trade(run_trade(scenario, space, method, workers, scheduler))


# ---- the whole pipeline ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    """What ``ilrs run`` computes, stage by stage (:class:`~ilrs.services.pipeline.RunProducts` in ``.result``);
    each stage's product as the result object of its own function here (None for a stage not run)."""

    result: RunProducts

    @property
    def twin(self) -> Twin | None:
        return Twin(self.result.twin) if self.result.twin is not None else None

    @property
    def plan(self) -> Plan | None:
        from ilrs.services.plan import plan_summary

        sp = self.result.plan
        return Plan(sp, plan_summary(sp)) if sp is not None else None

    @property
    def trade(self) -> Trade | None:
        return Trade(self.result.trade) if self.result.trade is not None else None

    @property
    def ranked(self) -> RankedSites:
        """The site analysis's best sites (empty if the sites stage did not run)."""
        return RankedSites(self.result.ranked)

    def timings_dataframe(self) -> Any:
        """Wall time per stage [s]."""
        import pandas as pd

        return pd.Series(self.result.timings, name="seconds").rename_axis("stage").to_frame()

    def _repr_html_(self) -> str:
        r = self.result
        rows: list[tuple[str, Any]] = []
        if r.twin is not None:
            rows.append(("verdict", r.twin.verdict.headline()))
        if r.battery_sizing is not None:
            rows.append(("battery factor that suffices", r.battery_sizing.scale))
        if r.array_sizing is not None:
            rows.append(("array area factor that suffices", r.array_sizing.scale))
        if r.mast_options:
            lowest = min((o.mast_height_m for o in r.mast_options if o.survives), default=None)
            rows.append(("lowest mast tried that survives [m]", "none" if lowest is None else lowest))
        if r.ranked:
            rows.append(("best site (map)", f"{r.ranked[0].lat_deg:.4f}, {r.ranked[0].lon_deg:.4f}"))
        if r.plan is not None:
            rows.append(("activities planned", int((r.plan.result.state.start >= 0).sum())))
        if r.trade is not None:
            rows.append(("trade designs on the front", int(r.trade.on_front.sum())))
        rows += [(f"{stage} [s]", seconds) for stage, seconds in r.timings.items()]
        return html_table(f"run of {r.scenario.name}", rows)


def run(
    scenario: str | Path | Scenario | None = None,
    stages: Iterable[str] = ("site", "twin", "sizing", "campaign", "plan", "trade"),
    plan_time_limit_s: float = 15.0,
) -> Run:
    """The scenario's stages end to end, as ``ilrs run`` computes them (without writing the report); the site
    stage maps the whole embedded DEM over the analysis period (by default a nodal cycle sampled by windows) and
    takes minutes."""
    from ilrs.services.pipeline import run_scenario

    return Run(run_scenario(load(scenario), stages=tuple(stages), plan_time_limit_s=plan_time_limit_s))
