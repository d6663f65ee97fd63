"""Power element models: pure functions of the site environment, vectorised over time (SI units).

The parameters are the scenario's element records (:mod:`ilrs.scenario.schema`); these functions take plain
numbers and arrays so that they can be checked by hand.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ilrs.core.arrays import FloatArray

#: Total solar irradiance at 1 AU [W/m2] (Kopp & Lean 2011, GRL 38, L01706).
SOLAR_CONSTANT_W_M2 = 1361.0


def solar_irradiance_w_m2(sun_distance_m: npt.ArrayLike, au_m: float) -> FloatArray:
    """Irradiance at the Sun's distance: 1361 W/m2 x (1 AU / d)^2 [W/m2]."""
    return SOLAR_CONSTANT_W_M2 * (au_m / np.asarray(sun_distance_m, dtype=float)) ** 2


def solar_array_power_w(
    area_m2: float,
    cell_efficiency: float,
    irradiance_w_m2: npt.ArrayLike,
    disk_fraction: npt.ArrayLike,
    sun_elevation_rad: npt.ArrayLike,
    sun_azimuth_rad: npt.ArrayLike | None = None,
    tracking: str = "vertical_single_axis",
    facing_azimuth_rad: float = 0.0,
    degradation_per_year: float = 0.0,
    age_years: npt.ArrayLike = 0.0,
) -> FloatArray:
    """Electric power of a vertical photovoltaic array [W].

    A vertical panel turned about a vertical axis to face the Sun sees it at incidence equal to the Sun's
    elevation (factor cos e); a fixed vertical panel facing ``facing_azimuth_rad`` gets cos e cos(A - A0) when
    the Sun is in front of it. ``disk_fraction`` is the visible fraction of the solar disk above the terrain at
    the array's height; the output degrades by ``degradation_per_year`` per year of age.
    """
    cos_e = np.cos(sun_elevation_rad)
    if tracking == "vertical_single_axis":
        incidence = cos_e
    elif tracking == "fixed":
        incidence = cos_e * np.maximum(0.0, np.cos(np.asarray(sun_azimuth_rad) - facing_azimuth_rad))
    else:
        raise ValueError(f"unknown tracking {tracking!r}")
    ageing = (1.0 - degradation_per_year) ** np.asarray(age_years, dtype=float)
    power: FloatArray = (
        area_m2 * cell_efficiency * np.asarray(irradiance_w_m2) * np.asarray(disk_fraction) * incidence * ageing
    )
    return power


def rtg_power_w(power_at_arrival_w: float, age_years: npt.ArrayLike, half_life_years: float) -> FloatArray:
    """Radioisotope generator output after ``age_years`` of decay [W] (thermocouple ageing not modelled)."""
    return power_at_arrival_w * 0.5 ** (np.asarray(age_years, dtype=float) / half_life_years)


def heater_power_w(power_dark_w: float, power_lit_w: float, sunlit: npt.ArrayLike) -> FloatArray:
    """Survival heaters: the dark draw while the site is in shadow, the lit draw otherwise [W]."""
    draw: FloatArray = np.where(np.asarray(sunlit, dtype=bool), power_lit_w, power_dark_w).astype(float)
    return draw


#: Stefan-Boltzmann constant [W m-2 K-4] (CODATA 2018, exact from the SI 2019 definitions).
STEFAN_BOLTZMANN_W_M2_K4 = 5.670374419e-8
#: Terrain temperature near the south pole [K] where the ground is sunlit and where it is in shadow: Diviner
#: brightness temperatures of the south-polar region (Paige et al. 2010, Science 330, 479: sunlit polar slopes
#: about 200-250 K at grazing sun, shadowed ground below 100 K). Measured elsewhere: the Apollo 11 surface law
#: (Hickson, Bellcomm TM-70-2015-5, 1970) puts 220 K on ground facing the Sun at ~6 deg, below its 20-165 deg
#: range and with a constant albedo; with the albedo rising toward grazing incidence that Diviner requires
#: (Williams et al. 2017, Icarus 283, 300; Hayne et al. 2017, JGR Planets 122, 2371) a radiative balance needs the
#: Sun 10-11 deg above the slope for 220 K, so the sign of its error at a polar site depends on the slopes (lit
#: heater draw 309-496 W per 100 m2 between 220 K and flat ground's 108 K, tests/station/test_published_thermal.py).
#: Chang'e-4 measured -190 C (83 K) in its first lunar night (Xinhua, 2019-01-31), which moves a blanketed
#: heater's night draw by < 0.5 % from 90 K.
TERRAIN_LIT_K = 220.0
TERRAIN_DARK_K = 90.0

#: Reference temperature of cell efficiencies [K]: 28 C, the AM0 rating condition of space cells (ISO 15387).
CELL_REFERENCE_TEMPERATURE_K = 301.15


def radiative_equilibrium_k(absorbed_w_m2: npt.ArrayLike, emittance: float) -> FloatArray:
    """Temperature [K] at which a surface emitting with ``emittance`` from its area rejects ``absorbed_w_m2``
    (per unit of that area): ``(absorbed / (emittance sigma))^(1/4)``."""
    q = np.maximum(np.asarray(absorbed_w_m2, dtype=float), 0.0)
    t: FloatArray = (q / (emittance * STEFAN_BOLTZMANN_W_M2_K4)) ** 0.25
    return t


def cell_temperature_k(
    absorbed_solar_w_m2: npt.ArrayLike,
    electric_w_m2: npt.ArrayLike,
    emittance_front: float,
    emittance_back: float,
    terrain_temperature_k: npt.ArrayLike,
    terrain_view_factor: float = 0.5,
) -> FloatArray:
    """Temperature of a thin vertical panel in radiative balance [K].

    Both faces radiate; each sees the terrain over ``terrain_view_factor`` of its hemisphere (0.5 for a vertical
    panel on flat ground) and cold sky over the rest; the electric power drawn leaves as work, not heat:
    ``(eps_f + eps_b) sigma T^4 = absorbed - electric + (eps_f + eps_b) F sigma T_terrain^4``
    (lumped one-node balance, e.g. Gilmore, "Spacecraft Thermal Control Handbook" vol. 1, 2002, ch. 2).
    With the back insulated (``emittance_back`` ~0) in deep space it brackets Planck's published solar-cell
    temperatures, 378-382 K (A&A 2010, aa12983-09, Table 3), over the cells' unknown efficiency
    (``tests/station/test_published_thermal.py``).
    """
    eps = emittance_front + emittance_back
    terrain = eps * terrain_view_factor * STEFAN_BOLTZMANN_W_M2_K4 * np.asarray(terrain_temperature_k) ** 4
    heat = np.asarray(absorbed_solar_w_m2, dtype=float) - np.asarray(electric_w_m2, dtype=float) + terrain
    return radiative_equilibrium_k(heat, eps)


@dataclass(frozen=True)
class ArrayLosses:
    """The losses between the cells' rated efficiency and the power at the station's bus (all fractions)."""

    packing_factor: float = 1.0  #: cell area / panel area [-]
    temperature_coefficient_per_k: float = 0.0  #: relative change of cell efficiency per kelvin (negative) [1/K]
    solar_absorptance: float = 0.91  #: of the panel's sunlit face [-]
    emittance_front: float = 0.85  #: [-]
    emittance_back: float = 0.85  #: [-]
    mppt_efficiency: float = 1.0  #: maximum-power-point tracker and converter [-]
    harness_loss: float = 0.0  #: cable and distribution loss to the bus [-]


def array_bus_power_w(
    panel_area_m2: float,
    cell_efficiency: float,
    irradiance_w_m2: npt.ArrayLike,
    lit_fraction: npt.ArrayLike,
    incidence: npt.ArrayLike,
    ageing: npt.ArrayLike,
    losses: ArrayLosses,
    terrain_temperature_k: npt.ArrayLike = 200.0,
) -> tuple[FloatArray, FloatArray]:
    """Power at the bus [W] and cell temperature [K] of an array.

    ``lit_fraction`` is the array's illuminated fraction (the disk fraction, averaged or limited over its height
    by the string layout), ``incidence`` the cosine factor, ``ageing`` the product of radiation and dust losses.
    The cell temperature follows :func:`cell_temperature_k` with the electric output removed (three
    fixed-point passes: the output changes the temperature by a few kelvin and the temperature the output by ~1 %,
    so each pass shrinks the error some thirtyfold).
    """
    g = np.asarray(irradiance_w_m2, dtype=float) * np.asarray(lit_fraction, dtype=float) * np.asarray(incidence)
    absorbed = losses.solar_absorptance * g
    ideal = cell_efficiency * losses.packing_factor * g * np.asarray(ageing, dtype=float)
    electric = ideal
    temp = np.full(g.shape, CELL_REFERENCE_TEMPERATURE_K)
    for _ in range(3):
        temp = cell_temperature_k(
            absorbed, electric, losses.emittance_front, losses.emittance_back, terrain_temperature_k
        )
        derate = np.maximum(1.0 + losses.temperature_coefficient_per_k * (temp - CELL_REFERENCE_TEMPERATURE_K), 0.0)
        electric = ideal * derate
    bus: FloatArray = panel_area_m2 * electric * losses.mppt_efficiency * (1.0 - losses.harness_loss)
    return bus, temp


def fission_power_w(
    power_w: float,
    days_since_arrival: npt.ArrayLike,
    commissioning_days: float,
    availability: float,
    cable_loss: float,
    trip_recovery_days: float = 3.0,
) -> FloatArray:
    """A fission unit's power at the bus [W]: a linear power ascension over ``commissioning_days`` after
    arrival, then its rated power less the transmission cable's loss, except during trips: the unit is down for
    ``trip_recovery_days`` every ``trip_recovery_days / (1 - availability)`` days of operation (the first after
    one such interval), so that it is at power ``availability`` of the time. Trips placed regularly rather than
    at random keep the run deterministic; the station must ride through each on its batteries and arrays."""
    d = np.asarray(days_since_arrival, dtype=float)
    ramp = np.clip(d / commissioning_days, 0.0, 1.0) if commissioning_days > 0 else (d >= 0).astype(float)
    since = d - commissioning_days
    down = np.zeros(d.shape, dtype=bool)
    if availability < 1.0 and trip_recovery_days > 0:
        interval = trip_recovery_days / (1.0 - availability)
        down = (since >= interval) & (np.mod(since, interval) < trip_recovery_days)
    out: FloatArray = power_w * ramp * np.where(down, 0.0, 1.0) * (1.0 - cable_loss)
    return out


def survival_heater_w(
    area_m2: float,
    setpoint_k: float,
    effective_emittance: float,
    outer_absorptance: float,
    outer_emittance: float,
    sunlit_area_fraction: float,
    irradiance_w_m2: npt.ArrayLike,
    sun_fraction: npt.ArrayLike,
    sun_elevation_rad: npt.ArrayLike,
    terrain_temperature_k: npt.ArrayLike,
    internal_w: float = 0.0,
    terrain_view_factor: float = 0.5,
) -> tuple[FloatArray, FloatArray]:
    """Heater power [W] that holds an insulated enclosure at ``setpoint_k``, and its outer layer's temperature [K].

    A lumped model: the outer layer of the blanket (area ``area_m2``) is in radiative balance with the Sun on its
    sunlit part (``sunlit_area_fraction`` of the area, sunlight on vertical faces ``G f cos(e)``), the terrain
    (``terrain_view_factor`` of the view, at ``terrain_temperature_k``) and the cold sky; the heat leaks out
    through the blanket as ``eps_eff sigma A (T_set^4 - T_outer^4)`` (multilayer insulation's effective
    emittance; Gilmore 2002, ch. 5); the heater makes up the leak beyond the internal dissipation.

    Coefficients (the scenario's defaults; ``tests/station/test_published_thermal.py`` shows their effect):
    ``outer_absorptance`` 0.4 is aluminised Kapton with the Kapton outside (alpha 0.40, epsilon 0.63: Fortescue,
    Swinerd & Stark, "Spacecraft Systems Engineering", 4th ed., Wiley 2011, Table 11.3); ``outer_emittance`` 0.8
    is an engineering assumption, between that film's 0.63 and white silicone paint's 0.83 (same table): the
    film's own 0.63 would cut the draw under a low Sun by ~140 W per 100 m2, so 0.8 errs toward more heater
    power. ``sunlit_area_fraction`` 0.25 is geometry, not a measurement: one of a box's four vertical faces
    toward a Sun near the horizon. ``terrain_view_factor`` 0.5 is the view factor from a vertical face to flat
    ground, (1 - cos 90 deg) / 2; a top face sees none, which lowers the area average. In the dark none of the
    four matters (the night draw moves < 1 %: the outer layer sits near 0.84 x the terrain's 90 K whatever
    they are); in sunlight they move the draw between 0 and ~500 W per 100 m2.
    """
    g = (
        np.asarray(irradiance_w_m2, dtype=float)
        * np.asarray(sun_fraction, dtype=float)
        * np.cos(np.asarray(sun_elevation_rad, dtype=float))
    )
    absorbed = outer_absorptance * sunlit_area_fraction * g
    terrain = outer_emittance * terrain_view_factor * STEFAN_BOLTZMANN_W_M2_K4 * np.asarray(terrain_temperature_k) ** 4
    outer = radiative_equilibrium_k(absorbed + terrain, outer_emittance)
    leak = effective_emittance * STEFAN_BOLTZMANN_W_M2_K4 * area_m2 * (setpoint_k**4 - outer**4)
    heater: FloatArray = np.maximum(leak - internal_w, 0.0)
    return heater, outer
