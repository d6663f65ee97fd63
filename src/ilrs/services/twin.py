"""The station twin as a use case: a scenario's site environment loaded and cached, then the twin of
:mod:`ilrs.station.twin` run on it; NetCDF output.

Only data loading and caching live here: SPICE directions of the Sun and the Earth over the run, the terrain
horizon at each height the elements need, the ground stations' and the relay's geometry. The physics is in
:mod:`ilrs.station`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ilrs.ephem.atmosphere import StationAtmosphere, station_atmosphere
from ilrs.ephem.directions import topocentric_az_el
from ilrs.ephem.ground_stations import DteWindows, dte_windows, stations_from_site
from ilrs.ephem.time import parse_step, utc_grid
from ilrs.errors import IlrsError
from ilrs.scenario import schema as sc
from ilrs.services.cache import product_cache
from ilrs.services.data import mosaic_from, nested_with_embedded
from ilrs.services.scenarios import site_latlon
from ilrs.services.site import cached_point_horizons
from ilrs.station import twin as station_twin
from ilrs.station.elements import RelayView, StationsView, environment_need, relay_sees_earth
from ilrs.station.environment import RelayGeometry, SiteEnvironment
from ilrs.station.twin import ArraySizing, BatterySizing, TwinRun
from ilrs.terrain.adequacy import dem_adequacy
from ilrs.transport.orbits import relay_orbit
from ilrs.transport.relay import design_frozen_relay, relay_positions_me
from ilrs.transport.visibility import orbiter_az_el, positions_az_el


def site_environment(scenario: sc.Scenario, dems: list[str] | None = None) -> SiteEnvironment:
    """The scenario's site environment on its run's grid, every costly part cached on disk by its inputs; the
    terrain from the finest DEM that covers the site (``dems``: the user's, nested over the embedded ones), with
    its adequacy warnings."""
    if not scenario.elements:
        raise IlrsError(
            "the scenario has no elements: there is no station to simulate",
            source=f"{scenario.path or scenario.name}: elements",
            hint="add [[elements]] (see docs/scenario.md, or start from `ilrs scenario init`)",
        )
    step_s = parse_step(scenario.step)
    et, utc = utc_grid(scenario.start.replace(tzinfo=None), scenario.end.replace(tzinfo=None), step_s)
    lat, lon = site_latlon(scenario)
    mosaic = mosaic_from(nested_with_embedded(dems))
    cache = product_cache()
    grid_key = {"lat": float(lat), "lon": float(lon), "et0": float(et[0]), "n": int(et.size), "step": float(step_s)}

    def sky() -> dict[str, np.ndarray]:
        sa, se, sd = topocentric_az_el("SUN", et, lat, lon, 0.0)
        ea, ee, _ = topocentric_az_el("EARTH", et, lat, lon, 0.0)
        return {"sun_az": sa, "sun_el": se, "sun_d": sd, "earth_az": ea, "earth_el": ee}

    directions = cache.get_or_compute("twin_sky", cache.key(kind="sky", v=1, **grid_key), sky)
    heights = station_twin.environment_heights(scenario)
    horizons = {p.height_m: p.elevation_deg for p in cached_point_horizons(mosaic, lat, lon, heights)}
    layer = mosaic.layer_at_latlon(lat, lon)
    # checked at the lowest element's height, where the terrain the DEM cannot hold bends the horizon most (the
    # ground's own sunlit fraction at 0 m only blends the terrain's temperature, and at 0 m any relief bends it)
    lowest = min((h for h in heights if h > 0.0), default=0.0)
    check = dem_adequacy(layer, lat, lon, lowest)
    warnings = (check.warning,) if check.warning else ()
    stations: dict[str, DteWindows] = {}
    atmospheres: dict[str, StationAtmosphere] = {}
    relays: dict[str, RelayGeometry] = {}
    for e in scenario.elements:
        need = environment_need(e)
        if isinstance(need, StationsView):
            stations[e.name] = _station_view(need, et, lat, lon, grid_key)
            atmospheres[e.name] = _atmosphere(need)
        elif isinstance(need, RelayView):
            relays[e.name] = _relay_view(need, et, utc, lat, lon, grid_key, directions)
    return SiteEnvironment(
        et=et,
        utc=utc,
        step_s=step_s,
        lat_deg=lat,
        lon_deg=lon,
        sun_az_rad=np.asarray(directions["sun_az"]),
        sun_el_rad=np.asarray(directions["sun_el"]),
        sun_distance_m=np.asarray(directions["sun_d"]),
        earth_az_rad=np.asarray(directions["earth_az"]),
        earth_el_rad=np.asarray(directions["earth_el"]),
        horizons_deg=horizons,
        stations=stations,
        relays=relays,
        atmospheres=atmospheres,
        warnings=warnings,
    )


def _station_view(need: StationsView, et: np.ndarray, lat: float, lon: float, grid_key: dict[str, Any]) -> DteWindows:
    """Which of the terminal's ground stations see the Moon above their mask, and where the site sees each
    station, at every step (cached)."""
    cache = product_cache()
    key = cache.key(kind="stations", v=3, stations=list(need.stations), mask=need.min_elevation_deg, **grid_key)

    def compute() -> dict[str, np.ndarray]:
        full = dte_windows(np.ones(et.size, dtype=bool), et, need.stations, need.min_elevation_deg)
        site_az, site_el = stations_from_site(need.stations, et, lat, lon)
        return {
            "station_visible": full.station_visible,
            "range_m": full.range_m,
            "elevation_rad": full.elevation_rad,
            "site_az_rad": site_az,
            "site_el_rad": site_el,
        }

    vis = cache.get_or_compute("twin_stations", key, compute)
    visible = np.asarray(vis["station_visible"])
    elevation = np.asarray(vis["elevation_rad"])
    any_station = np.asarray(visible.any(axis=0), dtype=bool)
    best = np.where(any_station, np.argmax(np.where(visible, elevation, -np.inf), axis=0), -1)
    return DteWindows(
        et=et,
        stations=need.stations,
        elevation_rad=elevation,
        range_m=np.asarray(vis["range_m"]),
        station_visible=visible,
        best_station=best,
        any_station=any_station,
        dte=any_station,
        windows=np.empty((0, 2)),
        site_az_rad=np.asarray(vis["site_az_rad"]),
        site_el_rad=np.asarray(vis["site_el_rad"]),
    ).seen_from(np.ones(et.size, dtype=bool))


def _atmosphere(need: StationsView) -> StationAtmosphere:
    """ITU-R P.618 loss and sky noise against elevation at the terminal's stations (cached)."""
    cache = product_cache()
    key = cache.key(
        kind="atmosphere", v=1, stations=list(need.stations), f=need.frequency_hz, p=need.weather_exceedance_percent
    )

    def compute() -> dict[str, np.ndarray]:
        table = station_atmosphere(need.stations, need.frequency_hz, need.weather_exceedance_percent)
        return {"elevation_deg": table.elevation_deg, "loss_db": table.loss_db, "sky_noise_k": table.sky_noise_k}

    t = cache.get_or_compute("twin_atmosphere", key, compute)
    return StationAtmosphere(
        need.stations,
        float(need.frequency_hz),
        float(need.weather_exceedance_percent),
        np.asarray(t["elevation_deg"]),
        np.asarray(t["loss_db"]),
        np.asarray(t["sky_noise_k"]),
    )


def _relay_view(
    need: RelayView,
    et: np.ndarray,
    utc: np.ndarray,
    lat: float,
    lon: float,
    grid_key: dict[str, Any],
    sky: dict[str, np.ndarray],
) -> RelayGeometry:
    """The relay seen from the terminal's antenna, its orbit's elements taken at the terminal's arrival, and
    whether it sees the Earth past the Moon (cached)."""
    arrival = np.datetime64(need.arrival.replace(tzinfo=None), "us")
    first = int(np.argmax(utc.astype("datetime64[us]") >= arrival))
    epoch = float(et[first])
    elements = {k: v for k, v in need.orbit.items() if k != "model"}
    cache = product_cache()
    key = cache.key(
        kind="relay",
        v=3,
        orbit=need.orbit,
        epoch=epoch,
        height=float(need.antenna_height_m),
        **grid_key,
    )

    def compute() -> dict[str, np.ndarray]:
        if need.orbit.get("model", "perturbed_frozen") == "two_body":
            az, el, distance = orbiter_az_el(relay_orbit(epoch, **elements), et, lat, lon, need.antenna_height_m)
        else:
            # designed frozen at the terminal's arrival and flown in the perturbed field from then on; before the
            # arrival the relay is not the station's (below the horizon, far away)
            design = design_frozen_relay(epoch, elements["periapsis_alt_km"], elements["apoapsis_alt_km"])
            az, el, distance = np.zeros(et.size), np.full(et.size, -np.pi / 2), np.full(et.size, 1e12)
            later = et >= epoch
            az[later], el[later], distance[later] = positions_az_el(
                relay_positions_me(epoch, et[later], design), lat, lon, need.antenna_height_m
            )
        sees = relay_sees_earth(RelayGeometry(az, el, distance), sky["earth_az"], sky["earth_el"])
        return {"az": az, "el": el, "range": distance, "sees_earth": sees}

    geo = cache.get_or_compute("twin_relay", key, compute)
    return RelayGeometry(
        np.asarray(geo["az"]),
        np.asarray(geo["el"]),
        np.asarray(geo["range"]),
        np.asarray(geo["sees_earth"], dtype=bool),
    )


def run_twin(scenario: sc.Scenario, env: SiteEnvironment | None = None) -> TwinRun:
    """The scenario's twin in its (cached) site environment."""
    return station_twin.run_twin(scenario, env if env is not None else site_environment(scenario))


def size_battery(scenario: sc.Scenario, **options: Any) -> BatterySizing:
    """:func:`ilrs.station.twin.size_battery` in the scenario's site environment."""
    return station_twin.size_battery(scenario, site_environment(scenario), **options)


def size_arrays(scenario: sc.Scenario, **options: Any) -> ArraySizing:
    """:func:`ilrs.station.twin.size_arrays` in the scenario's site environment."""
    return station_twin.size_arrays(scenario, site_environment(scenario), **options)


#: The mast heights `ilrs size mast` and the run report try for every array [m]: from a lander's mast (Chang'e
#: 8's array at 3 m) to a tall tower (20 m, where the Connecting Ridge's ~93 % sunlit fraction at 2 m rises
#: further; issue 12).
MAST_HEIGHTS_M = (3.0, 5.0, 10.0, 15.0, 20.0)


@dataclass(frozen=True)
class MastOption:
    """The station with every array's mast at one height: does it survive, and with what margins."""

    mast_height_m: float
    survives: bool
    critical_load_lost_h: float
    least_storage_margin: float
    solar_kwh: float


def mast_options(scenario: sc.Scenario, heights_m: list[float], dems: list[str] | None = None) -> list[MastOption]:
    """The twin with all arrays' masts at each height (each height's horizons computed once and cached), on the
    terrain of ``dems`` nested over the embedded DEMs (as :func:`site_environment`)."""
    out = []
    for h in heights_m:
        if not 0.0 <= h <= 200.0:
            raise IlrsError(f"mast height {h:g} m is outside [0, 200] m", source="--heights")
        elements = [
            e.model_copy(update={"mast_height_m": float(h)}) if isinstance(e, sc.SolarArray) else e
            for e in scenario.elements
        ]
        variant = scenario.model_copy(update={"elements": elements})
        run = run_twin(variant, site_environment(variant, dems))
        v = run.verdict
        out.append(
            MastOption(
                float(h),
                v.survives,
                v.critical_load_lost_h,
                station_twin.least_storage_margin(v),
                float(run.series.solar_w.sum() * run.series.step_s / 3.6e6),
            )
        )
    return out


def save_netcdf(run: TwinRun, path: str | Path) -> Path:
    """The run's time series as CF-1.10 NetCDF (float32, compressed; atomic write)."""
    from ilrs.iotools.netcdf import write_cf_netcdf

    return write_cf_netcdf(path, station_twin.to_dataset(run), keep_float64=("tdb_seconds",))
