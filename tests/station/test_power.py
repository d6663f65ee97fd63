"""Power element models against hand calculations and physical limits."""

from __future__ import annotations

import numpy as np
import pytest

from ilrs.constants import AU_M
from ilrs.station.power import heater_power_w, rtg_power_w, solar_array_power_w, solar_irradiance_w_m2


def test_irradiance_inverse_square():
    """1361 W/m2 at 1 AU (Kopp & Lean 2011); at perihelion (0.9833 AU) 1407.6 W/m2 (inverse square law)."""
    assert solar_irradiance_w_m2(AU_M, AU_M) == pytest.approx(1361.0)
    assert solar_irradiance_w_m2(0.98329 * AU_M, AU_M) == pytest.approx(1361.0 / 0.98329**2, rel=1e-12)


def test_tracking_vertical_array_by_hand():
    """10 m2 at 30 % with the Sun 1.5 deg up and the whole disk visible: 10 x 0.3 x 1361 x cos(1.5 deg)
    = 4081.6 W; half the disk hidden halves it; a year of 2 %/yr ageing takes 2 % off."""
    p = solar_array_power_w(10.0, 0.3, 1361.0, 1.0, np.radians(1.5))
    assert p == pytest.approx(10 * 0.3 * 1361 * np.cos(np.radians(1.5)), rel=1e-12)
    assert solar_array_power_w(10.0, 0.3, 1361.0, 0.5, np.radians(1.5)) == pytest.approx(p / 2)
    aged = solar_array_power_w(10.0, 0.3, 1361.0, 1.0, np.radians(1.5), degradation_per_year=0.02, age_years=1.0)
    assert aged == pytest.approx(0.98 * p)


def test_fixed_array_sees_the_sun_only_in_front():
    az = np.radians([0.0, 60.0, 90.0, 180.0])
    p = solar_array_power_w(1.0, 1.0, 1000.0, 1.0, np.zeros(4), az, tracking="fixed", facing_azimuth_rad=0.0)
    assert np.allclose(p, [1000.0, 500.0, 0.0, 0.0], atol=1e-9)


def test_rtg_half_life_and_heaters():
    """Pu-238 half-life 87.7 yr: after 87.7 years half the power; heaters draw their dark power in shadow."""
    assert rtg_power_w(100.0, 87.7, 87.7) == pytest.approx(50.0)
    assert np.array_equal(heater_power_w(1000.0, 200.0, [True, False]), [200.0, 1000.0])
