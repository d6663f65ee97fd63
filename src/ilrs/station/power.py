"""Power element models: pure functions of the site environment, vectorised over time (SI units).

The parameters are the scenario's element records (:mod:`ilrs.scenario.schema`); these functions take plain
numbers and arrays so that they can be checked by hand.
"""

from __future__ import annotations

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
