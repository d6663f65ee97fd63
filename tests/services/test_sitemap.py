"""Illumination maps and the site ranking against an independent method: the point analysis (great-circle ray
marches through the mosaic and the SPICE topocentric directions) at the same cells."""

from __future__ import annotations

import numpy as np
import pytest

from ilrs.services.data import pole_dem
from ilrs.services.horizon_maps import HorizonMap, compute_horizon_map
from ilrs.services.site_maps import SiteMaps, compute_site_maps, rank_sites
from ilrs.terrain.dem import Mosaic

# one worker computes the module's maps (xdist would otherwise split the tests and compute them on both)
pytestmark = pytest.mark.xdist_group("sitemap")


@pytest.fixture(scope="module")
def ridge_maps():
    """Maps of a 96 km square around the pole (Shackleton, Connecting Ridge, de Gerlache), 60 days at 2 h."""
    full = pole_dem()
    window = (568, 968, 568, 968)
    dem = full.crop(*window)
    stored = compute_horizon_map(dem, 2.0, 360, far_dem=None)
    hmap = HorizonMap(dem, 2.0, stored)
    layers = compute_site_maps(hmap, (0, 400, 0, 400), "2025-01-01", "2025-03-02", 7200.0)
    return SiteMaps(dem, 2.0, "2025-01-01", "2025-03-02", 7200.0, 720, layers)


def test_maps_agree_with_point_analysis(ridge_maps):
    """At sampled lit cells, the map's sunlit fraction equals the point analysis on the same 240 m DEM.

    The two share neither the horizon method (grid sweep at 360 grid azimuths vs great-circle rays at 1440
    geographic azimuths) nor the visibility code (sector bounds vs vectorised numpy). Tolerance 3 percentage
    points: the map samples the horizon every 1 deg and the point profile every 0.25 deg, which shifts sunrise
    and sunset by up to an hour on a jagged horizon (1 of 24 steps a day at 2 h steps: about 4 % of a step's
    worth per event, a few events per lunar day).
    """
    from ilrs.core.visibility import disk_fraction
    from ilrs.ephem.directions import angular_radius, topocentric_az_el
    from ilrs.ephem.time import utc_grid
    from ilrs.terrain.profile import point_horizon

    maps = ridge_maps
    dem = maps.dem
    mosaic = Mosaic((dem,))  # the same terrain as the map: rays end at the crop's edge in both
    et, _ = utc_grid(maps.start, maps.end, maps.step_s)
    lit = maps.layers["sun_visible_fraction"]
    rng = np.random.default_rng(3)
    candidates = np.argwhere((lit > 0.2) & (lit < 0.98))
    picks = candidates[rng.choice(len(candidates), 12, replace=False)]
    diffs = []
    for r, c in picks:
        r = min(max(r, 20), dem.shape[0] - 21)
        c = min(max(c, 20), dem.shape[1] - 21)
        lat, lon = dem.projection.inverse(dem.x0 + c * dem.dx, dem.y0 + r * dem.dy)
        p = point_horizon(mosaic, float(lat), float(lon), 2.0, n_azimuths=1440, max_distance_m=150_000.0)
        az, el, dist = topocentric_az_el("SUN", et, float(lat), float(lon), 2.0)
        f = disk_fraction(el, np.radians(p.at(np.degrees(az))), angular_radius("SUN", dist))
        diffs.append(abs(float(np.mean(f > 0)) - float(lit[r, c])))
    assert np.median(diffs) <= 0.01
    assert max(diffs) <= 0.03


def test_never_lit_cells_are_in_shackleton(ridge_maps):
    """Shackleton's floor (89.67 S, 129.78 E, IAU) is never lit; the Connecting Ridge (CR1) is lit > 80 %."""
    dem = ridge_maps.dem
    L = ridge_maps.layers

    def cell(lat, lon):
        x, y = dem.projection.forward(np.array([lat]), np.array([lon]))
        r, c = dem.fractional_index(x, y)
        return int(round(float(r[0]))), int(round(float(c[0])))

    assert L["never_lit"][cell(-89.67, 129.78)] == 1.0
    assert L["sun_visible_fraction"][cell(-89.45, 222.69)] > 0.8
    assert L["distance_to_shadow_km"][cell(-89.67, 129.78)] == 0.0


def test_ranking_is_distinct_gentle_and_lit(ridge_maps):
    ranked = rank_sites(ridge_maps, top=5, max_slope_deg=12.0, min_separation_km=5.0)
    assert len(ranked) == 5
    assert [r.rank for r in ranked] == [1, 2, 3, 4, 5]
    assert all(r.slope_deg <= 12.0 for r in ranked)
    assert all(a.score >= b.score for a, b in zip(ranked, ranked[1:], strict=False))
    for i, a in enumerate(ranked):
        for b in ranked[i + 1 :]:
            assert np.hypot(a.x_m - b.x_m, a.y_m - b.y_m) >= 5000.0
    # the best site of the region is one of the known illuminated ridges/rims
    assert ranked[0].nearest_named_km < 15.0


def test_ranked_sites_carry_the_dem_adequacy_check(ridge_maps):
    """Each ranked site says when the ranking's DEM cannot resolve the terrain there, with the same words as
    the check itself (which is tested against the 10 m tile in tests/terrain/test_adequacy.py), and the warning
    names the option that brings a finer DEM."""
    from ilrs.terrain.adequacy import dem_adequacy

    ranked = rank_sites(ridge_maps, top=10, max_slope_deg=15.0, min_separation_km=3.0)
    for r in ranked:
        check = dem_adequacy(ridge_maps.dem, r.lat_deg, r.lon_deg, ridge_maps.height_m)
        assert r.warnings == ([check.warning] if check.warning else [])
        assert all("--dem" in w for w in r.warnings)
    # the 240 m DEM cannot resolve the lit ridges at 2 m: the ranking says so rather than stay silent
    assert any(r.warnings for r in ranked)
