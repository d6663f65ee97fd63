"""Element models: one pure function per element kind, registered by its scenario schema class.

Each model takes the element's record (:mod:`ilrs.scenario.schema`) and an :class:`ElementContext` (the site
environment on the run's grid, when the element works, its age) and returns its :class:`Contribution`: power
generated, loads by priority, storage, data and link rates. :func:`ilrs.station.twin.build_inputs` adds the
contributions up, in the scenario's order, into the engine's inputs. A new kind of element is one schema class,
one function here and its ``@element_model`` registration.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

from ilrs.constants import MOON_RADIUS_M
from ilrs.core.visibility import point_series
from ilrs.ephem.ground_stations import DteWindows
from ilrs.errors import IlrsError
from ilrs.scenario import schema as sc
from ilrs.station.environment import FloatArray, RelayGeometry, SiteEnvironment
from ilrs.station.links import (
    LinkParameters,
    allocated_bandwidth_hz,
    c_over_n0_dbhz,
    dte_data_rates,
    eirp_dbw,
    free_space_path_loss_db,
    g_over_t_db_k,
    half_power_beamwidth_rad,
    moon_beam_fraction,
    parabolic_antenna_gain_dbi,
)
from ilrs.station.modcod import modcods_named
from ilrs.station.power import (
    ArrayLosses,
    array_bus_power_w,
    fission_power_w,
    heater_power_w,
    rtg_power_w,
    survival_heater_w,
)

BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class ElementContext:
    """What an element model sees: the environment, when the element works, and derived sky quantities."""

    env: SiteEnvironment
    on: BoolArray  #: (T,) the element is there and working
    years: FloatArray  #: (T,) age since arrival [yr], 0 before
    sun_radius_rad: FloatArray  #: (T,) the Sun's apparent angular radius [rad]
    irradiance_w_m2: FloatArray  #: (T,) solar irradiance at the Moon [W/m2]
    sun_fraction_ground: FloatArray  #: (T,) visible fraction of the Sun's disk at ground level [-]
    terrain_temperature_k: FloatArray  #: (T,) temperature of the surrounding terrain [K]
    landings_before: npt.NDArray[np.int64]  #: (T,) landings at the site since the element arrived
    #: visible fraction of the Sun's disk per observer height of the environment [-]
    sun_fractions: Mapping[float, FloatArray] = field(default_factory=dict)

    def sun_fraction(self, height_m: float) -> FloatArray:
        """Visible fraction of the Sun's disk above the terrain at an observer height [-]."""
        if float(height_m) in self.sun_fractions:
            return self.sun_fractions[float(height_m)]
        e = self.env
        return point_series(e.horizon_deg(height_m), e.sun_az_rad, e.sun_el_rad, self.sun_radius_rad)[1]

    def gate(self, value: Any) -> FloatArray:
        """``value`` while the element works, 0 otherwise."""
        return np.where(self.on, value, 0.0)


@dataclass(frozen=True)
class BatteryShare:
    """A storage element's part of the station battery (capacity-weighted efficiencies and reserve)."""

    capacity_wh: FloatArray  #: (T,) usable capacity [Wh]
    added_wh: FloatArray  #: (T,) charge brought on arrival [Wh]
    max_charge_w: FloatArray  #: (T,) [W]
    max_discharge_w: FloatArray  #: (T,) [W]
    capacity_kwh: float  #: nameplate, the weight of the efficiencies [kWh]
    charge_efficiency: float
    discharge_efficiency: float
    min_soc: float
    cycle_fade: float = 0.0  #: capacity lost per equivalent full cycle [-]


@dataclass(frozen=True)
class Contribution:
    """One element's contribution to the station, per step (None: none of that kind)."""

    solar_w: FloatArray | None = None
    nuclear_w: FloatArray | None = None
    load_w: tuple[int, FloatArray] | None = None  #: (priority, draw [W])
    data_bps: tuple[int, FloatArray] | None = None  #: (priority, data generated when powered [bit/s])
    battery: BatteryShare | None = None
    storage_bits: FloatArray | None = None
    dte_bps: FloatArray | None = None
    relay_bps: FloatArray | None = None
    earth_visible: BoolArray | None = None
    relay_visible: BoolArray | None = None
    #: a radio's draw while it can send [W], charged to priority 2 (communications) after all elements
    transmitter_w: FloatArray | None = None


E = TypeVar("E", bound=sc._Element)
ElementModel = Callable[[Any, ElementContext], Contribution]
_MODELS: dict[type, ElementModel] = {}


def element_model(kind: type[E]) -> Callable[[Callable[[E, ElementContext], Contribution]], ElementModel]:
    """Register the model of one element kind (its schema class)."""

    def register(fn: Callable[[E, ElementContext], Contribution]) -> ElementModel:
        _MODELS[kind] = fn
        return fn

    return register


def model_for(element: sc._Element) -> ElementModel:
    """The registered model of an element's kind."""
    for cls in type(element).__mro__:
        if cls in _MODELS:
            return _MODELS[cls]
    raise IlrsError(
        f"no model for element kind {getattr(element, 'kind', type(element).__name__)!r}",
        source=f"elements.{element.name}",
        hint="register one with @ilrs.station.elements.element_model",
    )


def registered_kinds() -> tuple[type, ...]:
    return tuple(_MODELS)


@dataclass(frozen=True)
class StationsView:
    """An element needs the ground stations' view of the Moon (:class:`ilrs.ephem.ground_stations.DteWindows`)."""

    stations: tuple[str, ...]
    min_elevation_deg: float
    frequency_hz: float = 8.45e9  #: for the atmosphere's tables [Hz]
    weather_exceedance_percent: float = 5.0  #: of the year the atmospheric losses are exceeded [%]


@dataclass(frozen=True)
class RelayView:
    """An element needs a relay orbiter's geometry from the site (:class:`RelayGeometry`), the orbit's elements
    taken at the element's arrival."""

    orbit: dict[str, float]
    antenna_height_m: float
    arrival: Any


#: What the environment must hold for an element beyond the sky and the horizons (by element name).
Need = StationsView | RelayView


def environment_need(element: sc._Element) -> Need | None:
    """What an element needs from the environment's builder beyond the Sun, the Earth and its horizon."""
    if isinstance(element, sc.DteTerminal):
        return StationsView(
            tuple(element.stations), element.min_elevation_deg, element.frequency_hz, element.weather_exceedance_percent
        )
    if isinstance(element, sc.RelayTerminal):
        return RelayView(element.orbit.model_dump(), element.antenna_height_m, element.arrival)
    return None


def array_sample_heights(e: sc.SolarArray) -> tuple[float, ...]:
    """Heights [m] at which an array's illumination is sampled: five rows over its vertical extent, centred on
    the mast height (one at the centre for a point-like array)."""
    if e.vertical_extent_m <= 0.0:
        return (float(e.mast_height_m),)
    rows = np.linspace(-0.5, 0.5, ARRAY_ROWS) * e.vertical_extent_m + e.mast_height_m
    return tuple(float(max(h, 0.0)) for h in rows)


#: Rows at which an array's illumination is sampled over its height.
ARRAY_ROWS = 5


@element_model(sc.SolarArray)
def solar_array(e: sc.SolarArray, ctx: ElementContext) -> Contribution:
    """Bus power of a photovoltaic array (:func:`ilrs.station.power.array_bus_power_w`): the Sun's disk fraction
    per row over its height (averaged for strings along rows, the worst row for strings up the panel), cosine
    incidence, cell temperature from its radiative balance, packing, MPPT, harness, cell degradation and dust."""
    env = ctx.env
    rows = np.stack([ctx.sun_fraction(h) for h in array_sample_heights(e)])
    lit = rows.mean(axis=0) if e.string_layout == "horizontal" else rows.min(axis=0)
    cos_e = np.cos(env.sun_el_rad)
    if e.tracking == "vertical_single_axis":
        incidence = cos_e
    else:
        incidence = cos_e * np.maximum(0.0, np.cos(env.sun_az_rad - np.radians(e.azimuth_deg)))
    ageing = (
        (1.0 - e.degradation_per_year) ** ctx.years
        * (1.0 - e.dust_loss_per_year) ** ctx.years
        * (1.0 - e.dust_loss_per_landing) ** ctx.landings_before
    )
    losses = ArrayLosses(
        packing_factor=e.packing_factor,
        temperature_coefficient_per_k=e.temperature_coefficient_per_k,
        solar_absorptance=e.solar_absorptance,
        emittance_front=e.emittance,
        emittance_back=e.emittance,
        mppt_efficiency=e.mppt_efficiency,
        harness_loss=e.harness_loss,
    )
    p, _ = array_bus_power_w(
        e.area_m2, e.cell_efficiency, ctx.irradiance_w_m2, lit, incidence, ageing, losses, ctx.terrain_temperature_k
    )
    return Contribution(solar_w=ctx.gate(p))


@element_model(sc.FissionUnit)
def fission_unit(e: sc.FissionUnit, ctx: ElementContext) -> Contribution:
    p = fission_power_w(
        e.power_kw * 1e3,
        ctx.years * 365.25,
        e.commissioning_days,
        e.availability,
        e.cable_loss,
        e.trip_recovery_days,
    )
    return Contribution(nuclear_w=ctx.gate(p))


@element_model(sc.Rtg)
def rtg(e: sc.Rtg, ctx: ElementContext) -> Contribution:
    return Contribution(nuclear_w=ctx.gate(rtg_power_w(e.power_w, ctx.years, e.half_life_years)))


def _storage(
    ctx: ElementContext,
    capacity_kwh: float,
    soc0: float,
    charge_kw: float,
    discharge_kw: float,
    eta_c: float,
    eta_d: float,
    reserve: float,
    calendar_fade_per_year: float = 0.0,
    cycle_fade: float = 0.0,
) -> Contribution:
    added = np.zeros(ctx.on.size)
    added[np.argmax(ctx.on)] = soc0 * capacity_kwh * 1e3
    share = BatteryShare(
        capacity_wh=ctx.gate(capacity_kwh * 1e3 * np.maximum(1.0 - calendar_fade_per_year * ctx.years, 0.0)),
        added_wh=added,
        max_charge_w=ctx.gate(charge_kw * 1e3),
        max_discharge_w=ctx.gate(discharge_kw * 1e3),
        capacity_kwh=capacity_kwh,
        charge_efficiency=eta_c,
        discharge_efficiency=eta_d,
        min_soc=reserve,
        cycle_fade=cycle_fade,
    )
    return Contribution(battery=share)


@element_model(sc.Battery)
def battery(e: sc.Battery, ctx: ElementContext) -> Contribution:
    return _storage(
        ctx,
        e.capacity_kwh,
        e.initial_soc,
        e.max_charge_kw,
        e.max_discharge_kw,
        e.charge_efficiency,
        e.discharge_efficiency,
        e.min_soc,
        e.calendar_fade_per_year,
        e.cycle_fade,
    )


@element_model(sc.RegenerativeFuelCell)
def regenerative_fuel_cell(e: sc.RegenerativeFuelCell, ctx: ElementContext) -> Contribution:
    eta = float(np.sqrt(e.round_trip_efficiency))  # the round trip split evenly between charge and discharge
    return _storage(ctx, e.capacity_kwh, 0.5, e.max_power_kw, e.max_power_kw, eta, eta, 0.0)


@element_model(sc.Load)
def load(e: sc.Load, ctx: ElementContext) -> Contribution:
    return Contribution(load_w=(e.priority, ctx.gate(e.power_kw * 1e3)))


@element_model(sc.SurvivalHeater)
def survival_heater(e: sc.SurvivalHeater, ctx: ElementContext) -> Contribution:
    """The thermal model (:func:`ilrs.station.power.survival_heater_w`) with the Sun at the enclosure's height,
    or the fixed dark/lit draw switched by the Sun at that height."""
    lit = ctx.sun_fraction(e.height_m)
    if e.radiating_area_m2 is None:
        assert e.power_dark_kw is not None  # the schema requires one of the two models
        draw = heater_power_w(e.power_dark_kw * 1e3, e.power_lit_kw * 1e3, lit > 0)
    else:
        draw, _ = survival_heater_w(
            e.radiating_area_m2,
            e.setpoint_c + 273.15,
            e.effective_emittance,
            e.outer_absorptance,
            e.outer_emittance,
            e.sunlit_area_fraction,
            ctx.irradiance_w_m2,
            lit,
            ctx.env.sun_el_rad,
            ctx.terrain_temperature_k,
            e.internal_dissipation_kw * 1e3,
        )
    return Contribution(load_w=(e.priority, ctx.gate(draw)))


@element_model(sc.Payload)
def payload(e: sc.Payload, ctx: ElementContext) -> Contribution:
    return Contribution(
        load_w=(e.priority, ctx.gate(e.power_kw * e.duty_cycle * 1e3)),
        data_bps=(e.priority, ctx.gate(e.data_rate_mbps * e.duty_cycle * 1e6)),
    )


@element_model(sc.DataStorage)
def data_storage(e: sc.DataStorage, ctx: ElementContext) -> Contribution:
    return Contribution(storage_bits=ctx.gate(e.capacity_gbit * 1e9))


def _radio(e: sc.DteTerminal | sc.RelayTerminal, rx_diameter_m: float, rx_efficiency: float) -> LinkParameters:
    """The element's link: its modulation and coding options in its band allocation (or one fixed Eb/N0)."""
    fixed = e.required_ebn0_db is not None
    if e.bandwidth_mhz is not None:
        bandwidth = e.bandwidth_mhz * 1e6
    else:
        bandwidth = allocated_bandwidth_hz(e.frequency_hz)
    return LinkParameters(
        e.frequency_hz,
        e.tx_power_w,
        e.antenna_diameter_m,
        e.aperture_efficiency,
        rx_diameter_m,
        rx_efficiency,
        e.rx_system_noise_k,
        e.required_ebn0_db if fixed else 0.0,  # type: ignore[arg-type]
        e.margin_db,
        max_data_rate_bps=e.max_rate_mbps * 1e6,
        modcods=() if fixed else modcods_named(e.modcods),
        bandwidth_hz=bandwidth,
        implementation_loss_db=0.0 if fixed else e.implementation_loss_db,
    )


def horizon_at(profile_deg: FloatArray, az_rad: FloatArray) -> FloatArray:
    """Terrain horizon elevation [deg] at geographic azimuths [rad], linear between the profile's uniform
    azimuths with wrap-around (as :func:`ilrs.core.visibility.point_series`; NaN, no terrain, is -90 deg)."""
    prof = np.nan_to_num(np.asarray(profile_deg, dtype=float), nan=-90.0)
    grid = np.arange(prof.size) * (360.0 / prof.size)
    horizon: FloatArray = np.interp(np.degrees(az_rad) % 360.0, grid, prof, period=360.0)
    return horizon


@element_model(sc.DteTerminal)
def dte_terminal(e: sc.DteTerminal, ctx: ElementContext) -> Contribution:
    """Direct-to-Earth rate (:func:`ilrs.station.links.dte_data_rates`) through each ground station the site sees
    above its terrain (the station's own direction, not the Earth's centre) while the station sees the Moon."""
    env = ctx.env
    windows = env.link("dte", e.name)
    assert isinstance(windows, DteWindows)
    horizon = env.horizon_deg(e.antenna_height_m)
    if windows.site_el_rad is not None and windows.site_az_rad is not None:
        # only where the station sees the Moon: the site's view of the others does not matter
        sees = windows.station_visible & ctx.on
        for i, (az, el) in enumerate(zip(windows.site_az_rad, windows.site_el_rad, strict=True)):
            k = np.flatnonzero(sees[i])
            sees[i, k] = np.degrees(el[k]) > horizon_at(horizon, az[k])
        earth_visible: BoolArray = np.asarray(sees.any(axis=0), dtype=bool)
        windows = windows.seen_from(sees)
    else:
        centre = horizon_at(horizon, env.earth_az_rad)
        earth_visible = np.asarray((np.degrees(env.earth_el_rad) > centre) & ctx.on, dtype=bool)
        windows = windows.seen_from(earth_visible)
    link = _radio(e, 1.0, 0.6)  # the receiving dish is each ground station's own (dte_data_rates)
    rate = dte_data_rates(windows, link, env.atmospheres.get(e.name), e.moon_brightness_k).rate_bps
    return Contribution(
        dte_bps=rate, earth_visible=earth_visible, transmitter_w=np.where(rate > 0, e.power_kw * 1e3, 0.0)
    )


#: Mean Earth-Moon distance [m], for the relay's view of the Earth (IAU: 384,400 km; the true distance moves
#: the Earth's direction from a relay 16,000 km out by < 0.15 deg).
_EARTH_DISTANCE_M = 384_400e3


def relay_sees_earth(geo: RelayGeometry, earth_az_rad: FloatArray, earth_el_rad: FloatArray) -> BoolArray:
    """Whether the Moon leaves the relay's line of sight to the Earth's centre free, per step.

    In the site's east-north-up frame: the relay at ``range (cos el sin az, cos el cos az, sin el)``, the Moon's
    centre at ``(0, 0, -R)``, the Earth at the site's apparent direction and a mean distance.
    """

    r = geo.range_m
    ce = np.cos(geo.el_rad)
    # the relay relative to the Moon's centre, and the unit vector from it toward the Earth
    px, py, pz = r * ce * np.sin(geo.az_rad), r * ce * np.cos(geo.az_rad), r * np.sin(geo.el_rad) + MOON_RADIUS_M
    ee = np.cos(earth_el_rad)
    ex = _EARTH_DISTANCE_M * ee * np.sin(earth_az_rad) - r * ce * np.sin(geo.az_rad)
    ey = _EARTH_DISTANCE_M * ee * np.cos(earth_az_rad) - r * ce * np.cos(geo.az_rad)
    ez = _EARTH_DISTANCE_M * np.sin(earth_el_rad) - r * np.sin(geo.el_rad)
    norm = np.sqrt(ex * ex + ey * ey + ez * ez)
    ex, ey, ez = ex / norm, ey / norm, ez / norm
    along = -(px * ex + py * ey + pz * ez)  # distance along the ray to the point nearest the Moon's centre
    nx, ny, nz = px + along * ex, py + along * ey, pz + along * ez
    blocked = (along > 0.0) & (nx * nx + ny * ny + nz * nz < MOON_RADIUS_M**2)
    return np.asarray(~blocked, dtype=bool)


@element_model(sc.RelayTerminal)
def relay_terminal(e: sc.RelayTerminal, ctx: ElementContext) -> Contribution:
    """Surface-to-relay rate from the link budget, the relay's receiver seeing the Moon's disk in its beam,
    limited by the terminal's share of the relay's trunk to Earth while the relay sees the Earth."""
    env = ctx.env
    geo = env.link("relay", e.name)
    assert isinstance(geo, RelayGeometry)
    el_deg = np.degrees(geo.el_rad)
    visible = (el_deg > horizon_at(env.horizon_deg(e.antenna_height_m), geo.az_rad)) & (el_deg >= e.min_elevation_deg)
    visible &= ctx.on
    rate = np.zeros(ctx.on.size)
    if visible.any():
        # The relay's dish points at the site; from the relay, in the site's east-north-up frame (relay at
        # d u, the Moon's centre at -R up), the site is `offset` off the disk's centre.
        d = geo.range_m[visible]
        sin_el = np.sin(geo.el_rad[visible])
        centre = np.sqrt(d * d + MOON_RADIUS_M**2 + 2.0 * d * MOON_RADIUS_M * sin_el)
        offset = np.arccos(np.clip((d + MOON_RADIUS_M * sin_el) / centre, -1.0, 1.0))
        beam = float(half_power_beamwidth_rad(e.relay_antenna_diameter_m, e.frequency_hz))
        moon_k = e.moon_brightness_k * moon_beam_fraction(offset, np.arcsin(MOON_RADIUS_M / centre), beam)
        link = _radio(e, e.relay_antenna_diameter_m, 0.55)
        cn0 = c_over_n0_dbhz(
            eirp_dbw(
                link.tx_power_w, parabolic_antenna_gain_dbi(e.antenna_diameter_m, e.frequency_hz, e.aperture_efficiency)
            ),
            free_space_path_loss_db(d, e.frequency_hz),
            g_over_t_db_k(
                parabolic_antenna_gain_dbi(e.relay_antenna_diameter_m, e.frequency_hz, 0.55),
                e.rx_system_noise_k + moon_k,
            ),
        )
        rate[visible] = link.rate_bps(cn0)
    if e.trunk_rate_mbps is not None:
        k = np.flatnonzero(rate > 0)
        if geo.sees_earth is not None:
            sees_earth = geo.sees_earth[k]
        else:
            sub = RelayGeometry(geo.az_rad[k], geo.el_rad[k], geo.range_m[k])
            sees_earth = relay_sees_earth(sub, env.earth_az_rad[k], env.earth_el_rad[k])
        rate[k] = np.minimum(rate[k], sees_earth * e.trunk_rate_mbps * 1e6 * e.trunk_share)
    return Contribution(relay_bps=rate, relay_visible=visible, transmitter_w=np.where(rate > 0, e.power_kw * 1e3, 0.0))
