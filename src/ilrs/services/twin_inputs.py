"""From a scenario to the twin's time series: generation, loads by priority, storage, links (engine inputs).

Each element is a pure function of the site environment (Sun and Earth visibility above the terrain at its own
height, from :mod:`ilrs.services.site`) and of its arrival date; the engine then integrates them in time.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ilrs.constants import AU_M
from ilrs.core.runs import runs
from ilrs.core.visibility import point_series
from ilrs.ephem.directions import angular_radius, topocentric_az_el
from ilrs.ephem.stations import dte_windows
from ilrs.ephem.time import parse_step, to_et, utc_grid
from ilrs.scenario import schema as sc
from ilrs.services.cache import product_cache
from ilrs.services.data import default_mosaic
from ilrs.services.scenarios import site_latlon
from ilrs.services.site import cached_point_horizon
from ilrs.station.links import LinkParameters, dte_data_rates, link_budget
from ilrs.station.power import YEAR_S, heater_power_w, rtg_power_w, solar_array_power_w, solar_irradiance_w_m2
from ilrs.transport.orbits import relay_orbit
from ilrs.transport.visibility import orbiter_az_el

#: Height of the payloads' deck above the ground [m]: where partner instruments see the Sun (operations planner).
DECK_HEIGHT_M = 2.0


@dataclass
class TwinSeries:
    """Per-step series of a scenario run (length T), before the engine; W, bit/s, Wh, bit."""

    et: np.ndarray
    utc: np.ndarray
    step_s: float
    lat_deg: float
    lon_deg: float
    generation_w: np.ndarray
    solar_w: np.ndarray
    nuclear_w: np.ndarray
    load_w: np.ndarray  # (5, T)
    data_rate_bps: np.ndarray  # (5, T)
    battery_capacity_wh: np.ndarray
    battery_added_wh: np.ndarray
    min_soc: float
    charge_efficiency: float
    discharge_efficiency: float
    max_charge_w: np.ndarray
    max_discharge_w: np.ndarray
    storage_bits: np.ndarray
    dte_bps: np.ndarray
    relay_bps: np.ndarray
    sun_fraction_ground: np.ndarray
    sun_fraction_deck: np.ndarray  #: Sun disk fraction above the horizon at a lander deck (DECK_HEIGHT_M)
    earth_visible: np.ndarray
    relay_visible: np.ndarray
    notes: list[str] = field(default_factory=list)

    @property
    def downlink_bps(self) -> np.ndarray:
        return self.dte_bps + self.relay_bps


def _active(et: np.ndarray, arrival) -> np.ndarray:
    return et >= float(to_et([arrival.replace(tzinfo=None)])[0])


def _station_visibility(e, et: np.ndarray) -> dict[str, np.ndarray]:
    """Which stations see the Moon above their mask, and its range, at every step (cacheable)."""
    full = dte_windows(np.ones(et.size, dtype=bool), et, e.stations, e.min_elevation_deg)
    return {"station_visible": full["station_visible"], "range_m": full["range_m"]}


def _dte_from(vis: dict, earth_visible: np.ndarray, et: np.ndarray, stations) -> dict:
    """The dte_windows result for a given site Earth visibility, from cached station visibility."""
    station_visible = np.asarray(vis["station_visible"])
    any_station = station_visible.any(axis=0)
    dte = any_station & earth_visible
    r = runs(dte)
    step = et[1] - et[0] if et.size > 1 else 0.0
    ends = np.where(r[:, 1] < et.size, et[np.minimum(r[:, 1], et.size - 1)], et[-1] + step)
    windows = np.stack([et[r[:, 0]], ends], axis=1) if r.size else np.empty((0, 2))
    return {
        "et": et,
        "stations": tuple(stations),
        "range_m": np.asarray(vis["range_m"]),
        "station_visible": station_visible,
        "dte": dte,
        "windows": windows,
    }


def build_series(scenario: sc.Scenario) -> TwinSeries:
    """Every element's contribution at every step of the scenario's run."""
    step_s = parse_step(scenario.step)
    et, utc = utc_grid(scenario.start.replace(tzinfo=None), scenario.end.replace(tzinfo=None), step_s)
    lat, lon = site_latlon(scenario)
    mosaic = default_mosaic()
    n = et.size
    cache = product_cache()
    grid_key = {"lat": float(lat), "lon": float(lon), "et0": float(et[0]), "n": int(n), "step": float(step_s)}

    def sky():
        sa, se, sd = topocentric_az_el("SUN", et, lat, lon, 0.0)
        ea, ee, _ = topocentric_az_el("EARTH", et, lat, lon, 0.0)
        return {"sun_az": sa, "sun_el": se, "sun_d": sd, "earth_az": ea, "earth_el": ee}

    env = cache.get_or_compute("twin_sky", cache.key(kind="sky", v=1, **grid_key), sky)
    sun_az, sun_el, sun_d = (np.asarray(env[k]) for k in ("sun_az", "sun_el", "sun_d"))
    earth_az, earth_el = np.asarray(env["earth_az"]), np.asarray(env["earth_el"])
    sun_r = angular_radius("SUN", sun_d)
    profiles: dict[float, np.ndarray] = {}

    def horizon(height_m: float) -> np.ndarray:
        if height_m not in profiles:
            profiles[height_m] = cached_point_horizon(mosaic, lat, lon, height_m).elevation_deg
        return profiles[height_m]

    _, ground_frac = point_series(horizon(0.0), sun_az, sun_el, sun_r)
    _, deck_frac = point_series(horizon(DECK_HEIGHT_M), sun_az, sun_el, sun_r)
    irradiance = solar_irradiance_w_m2(sun_d, AU_M)
    solar = np.zeros(n)
    nuclear = np.zeros(n)
    load = np.zeros((5, n))
    data = np.zeros((5, n))
    cap = np.zeros(n)
    added = np.zeros(n)
    max_c = np.zeros(n)
    max_d = np.zeros(n)
    storage = np.zeros(n)
    dte_bps = np.zeros(n)
    relay_bps = np.zeros(n)
    earth_vis_any = np.zeros(n, dtype=bool)
    relay_vis_any = np.zeros(n, dtype=bool)
    eff_weights = []
    terminals: list[tuple[sc._Link, np.ndarray]] = []
    for e in scenario.elements:
        on = _active(et, e.arrival)
        if not on.any():
            continue
        years = np.where(on, (et - et[np.argmax(on)]) / YEAR_S, 0.0)
        if isinstance(e, sc.SolarArray):
            _, frac = point_series(horizon(e.mast_height_m), sun_az, sun_el, sun_r)
            p = solar_array_power_w(
                e.area_m2,
                e.cell_efficiency,
                irradiance,
                frac,
                sun_el,
                sun_az,
                e.tracking,
                np.radians(e.azimuth_deg),
                e.degradation_per_year,
                years,
            )
            solar += np.where(on, p, 0.0)
        elif isinstance(e, sc.FissionUnit):
            nuclear += np.where(on, e.power_kw * 1e3, 0.0)
        elif isinstance(e, sc.Rtg):
            nuclear += np.where(on, rtg_power_w(e.power_w, years, e.half_life_years), 0.0)
        elif isinstance(e, sc.Battery | sc.RegenerativeFuelCell):
            if isinstance(e, sc.Battery):
                eta_c, eta_d, reserve = e.charge_efficiency, e.discharge_efficiency, e.min_soc
                pc, pd, soc0 = e.max_charge_kw, e.max_discharge_kw, e.initial_soc
            else:
                eta_c = eta_d = float(np.sqrt(e.round_trip_efficiency))
                reserve, pc, pd, soc0 = 0.0, e.max_power_kw, e.max_power_kw, 0.5
            cap += np.where(on, e.capacity_kwh * 1e3, 0.0)
            added[np.argmax(on)] += soc0 * e.capacity_kwh * 1e3
            max_c += np.where(on, pc * 1e3, 0.0)
            max_d += np.where(on, pd * 1e3, 0.0)
            eff_weights.append((e.capacity_kwh, eta_c, eta_d, reserve))
        elif isinstance(e, sc.Load):
            load[e.priority - 1] += np.where(on, e.power_kw * 1e3, 0.0)
        elif isinstance(e, sc.SurvivalHeater):
            load[e.priority - 1] += np.where(
                on, heater_power_w(e.power_dark_kw * 1e3, e.power_lit_kw * 1e3, ground_frac > 0), 0.0
            )
        elif isinstance(e, sc.Payload):
            load[e.priority - 1] += np.where(on, e.power_kw * e.duty_cycle * 1e3, 0.0)
            data[e.priority - 1] += np.where(on, e.data_rate_mbps * e.duty_cycle * 1e6, 0.0)
        elif isinstance(e, sc.DataStorage):
            storage += np.where(on, e.capacity_gbit * 1e9, 0.0)
        elif isinstance(e, sc.DteTerminal):
            hz, _ = point_series(horizon(e.antenna_height_m), earth_az, earth_el, 0.0)
            earth_vis = np.degrees(earth_el) > hz
            stations_key = cache.key(
                kind="stations", v=1, stations=list(e.stations), mask=e.min_elevation_deg, **grid_key
            )
            vis = cache.get_or_compute("twin_stations", stations_key, lambda e=e: _station_visibility(e, et))
            dte = _dte_from(vis, earth_vis & on, et, e.stations)
            link = LinkParameters(
                e.frequency_hz,
                e.tx_power_w,
                e.antenna_diameter_m,
                e.aperture_efficiency,
                1.0,
                0.6,
                e.rx_system_noise_k,
                e.required_ebn0_db,
                e.margin_db,
                max_data_rate_bps=e.max_rate_mbps * 1e6,
            )
            rate = dte_data_rates(dte, link)["rate_bps"]
            dte_bps += rate
            earth_vis_any |= earth_vis & on
            terminals.append((e, rate > 0))
        elif isinstance(e, sc.RelayTerminal):
            orbit = relay_orbit(float(et[np.argmax(on)]), **e.orbit.model_dump())
            relay_key = cache.key(
                kind="relay",
                v=1,
                orbit=e.orbit.model_dump(),
                epoch=float(orbit.epoch_et),
                height=float(e.antenna_height_m),
                **grid_key,
            )
            geo = cache.get_or_compute(
                "twin_relay",
                relay_key,
                lambda orbit=orbit, e=e: dict(
                    zip(("az", "el", "range"), orbiter_az_el(orbit, et, lat, lon, e.antenna_height_m), strict=True)
                ),
            )
            rel_hz, _ = point_series(horizon(e.antenna_height_m), np.asarray(geo["az"]), np.asarray(geo["el"]), 0.0)
            el_deg = np.degrees(np.asarray(geo["el"]))
            vis = (el_deg > rel_hz) & (el_deg >= e.min_elevation_deg) & on
            rate = np.zeros(n)
            if vis.any():
                rng = np.asarray(geo["range"])[vis]
                link = LinkParameters(
                    e.frequency_hz,
                    e.tx_power_w,
                    e.antenna_diameter_m,
                    e.aperture_efficiency,
                    e.relay_antenna_diameter_m,
                    0.55,
                    e.rx_system_noise_k,
                    e.required_ebn0_db,
                    e.margin_db,
                    max_data_rate_bps=e.max_rate_mbps * 1e6,
                )
                rate[vis] = link_budget(link, rng).data_rate_bps
            relay_bps += rate
            relay_vis_any |= vis
            terminals.append((e, rate > 0))
    for e, transmitting in terminals:  # radios draw power while they can send (priority 2: communications)
        load[1] += np.where(transmitting, e.power_kw * 1e3, 0.0)
    if eff_weights:
        w = np.array([x[0] for x in eff_weights])
        eta_c = float(np.average([x[1] for x in eff_weights], weights=w))
        eta_d = float(np.average([x[2] for x in eff_weights], weights=w))
        min_soc = float(np.average([x[3] for x in eff_weights], weights=w))
    else:
        eta_c = eta_d = 1.0
        min_soc = 0.0
    return TwinSeries(
        et=et,
        utc=utc,
        step_s=step_s,
        lat_deg=lat,
        lon_deg=lon,
        generation_w=solar + nuclear,
        solar_w=solar,
        nuclear_w=nuclear,
        load_w=load,
        data_rate_bps=data,
        battery_capacity_wh=cap,
        battery_added_wh=added,
        min_soc=min_soc,
        charge_efficiency=eta_c,
        discharge_efficiency=eta_d,
        max_charge_w=max_c,
        max_discharge_w=max_d,
        storage_bits=storage,
        dte_bps=dte_bps,
        relay_bps=relay_bps,
        sun_fraction_ground=ground_frac,
        sun_fraction_deck=deck_frac,
        earth_visible=earth_vis_any,
        relay_visible=relay_vis_any,
    )
