"""The DEM-adequacy check (ilrs.terrain.adequacy) against the outside world: the embedded 10 m Connecting Ridge
tile (LOLA, real) and the 240 m south-pole DEM over the same points."""

from __future__ import annotations

import numpy as np
import pytest

from ilrs.terrain.adequacy import MAX_HORIZON_ERROR_DEG, dem_adequacy

#: Points of the 10 m tile: the station's site (CR1, where the issue saw 72 % against 91 %), seven where a first
#: 6 x 6 grid over the tile showed the largest 240 m vs 10 m disagreements, and seven where the 240 m DEM's
#: residual was smallest. The assertions hold for any point; the choice only makes both cases occur.
POINTS = [
    (-89.4455, 222.69),
    (-89.5748, 213.7086),
    (-89.4035, 222.7371),
    (-89.2704, 213.7008),
    (-89.5364, 199.0794),
    (-89.3433, 228.1550),
    (-89.3390, 217.7647),
    (-89.5815, 229.9545),
    (-89.3744, 194.0179),
    (-89.4267, 204.3021),
    (-89.4559, 196.1720),
    (-89.4572, 216.1771),
    (-89.5138, 236.3692),
    (-89.6420, 221.2281),
    (-89.1649, 223.3840),
]
HEIGHT_M = 2.0


def test_a_plane_bends_no_horizon_and_a_crest_does():
    """Synthetic check of the argument (not a physical claim): on a tilted plane the residual is zero whatever
    the slope; a 30 m ridge one cell wide on 240 m cells departs 20 m from the plane through the 3 x 3 cells
    (their mean is 10 m), which at 2 m bends the horizon by up to atan(18 / 240) = 4.29 deg."""
    from ilrs.terrain.dem import Dem
    from ilrs.terrain.projection import SouthPolarStereographic

    proj = SouthPolarStereographic()
    x = np.arange(-5, 6) * 240.0
    xx, yy = np.meshgrid(x, x)
    plane = Dem(0.3 * xx + 0.1 * yy, -1200.0, -1200.0, 240.0, 240.0, proj, "plane")
    lat, lon = proj.inverse(np.array([0.0]), np.array([0.0]))
    a = dem_adequacy(plane, float(lat[0]), float(lon[0]), HEIGHT_M)
    assert a.ok and a.residual_m == pytest.approx(0.0, abs=1e-6)
    ridge = np.zeros_like(xx)
    ridge[:, 5] = 30.0
    b = dem_adequacy(Dem(ridge, -1200.0, -1200.0, 240.0, 240.0, proj, "ridge"), float(lat[0]), float(lon[0]), 2.0)
    assert b.residual_m == pytest.approx(20.0, abs=1e-9)
    assert b.horizon_error_deg == pytest.approx(np.degrees(np.arctan(18.0 / 240.0)), rel=1e-12)
    assert not b.ok and b.horizon_error_deg > MAX_HORIZON_ERROR_DEG
    assert "--dem" in (b.warning or "") and "PGDA" in (b.warning or "")


@pytest.mark.slow
def test_flags_every_point_where_the_240m_dem_misleads():
    """Three months of hourly Sun at 2 m on the nested mosaic (10 m tile first) and on the 240 m DEM alone: where
    they disagree by more than 3 % of the time the 240 m DEM is flagged; where it is not flagged they agree
    within 2 %; the 10 m tile is adequate at every point."""
    from ilrs.services.data import GLOBAL_LDEM4, POLE_240M, data_path, pole_dem, tile_dem
    from ilrs.services.site import point_environment

    coarse = [str(data_path(POLE_240M)), str(data_path(GLOBAL_LDEM4))]
    big = 0
    for lat, lon in POINTS:
        fine = point_environment(lat, lon, "2025-01-01", "2025-04-01", 3600, HEIGHT_M)
        assert fine.dem_layer.startswith("site01")  # the tile covers every point
        crude = point_environment(lat, lon, "2025-01-01", "2025-04-01", 3600, HEIGHT_M, dems=coarse)
        diff = abs(fine.sun_visible_fraction - crude.sun_visible_fraction)
        check = dem_adequacy(pole_dem(), lat, lon, HEIGHT_M)
        if diff > 0.03:
            big += 1
            assert not check.ok, (lat, lon, diff, check)
        if check.ok:
            assert diff <= 0.02, (lat, lon, diff, check)
        assert dem_adequacy(tile_dem(), lat, lon, HEIGHT_M).ok
    assert big >= 4  # the case the check exists for does occur among these points
