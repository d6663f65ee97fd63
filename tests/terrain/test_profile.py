"""Horizon profiles at several heights above one point: one ray march serves every height."""

from __future__ import annotations

import numpy as np


def test_several_heights_equal_one_height_at_a_time(pole_dem):
    """The multi-height march gives, bit for bit, each profile that the one-height march gives alone, and a
    higher observer never sees a higher horizon (the ground and the rays are the same)."""
    from ilrs.terrain.dem import Mosaic
    from ilrs.terrain.profile import point_horizon, point_horizons

    mosaic = Mosaic((pole_dem,))
    lat, lon, heights = -89.45, 222.69, (0.0, 2.0, 10.0, 100.0)
    together = point_horizons(mosaic, lat, lon, heights, n_azimuths=360, max_distance_m=60_000.0)
    for h, p in zip(heights, together, strict=True):
        alone = point_horizon(mosaic, lat, lon, h, n_azimuths=360, max_distance_m=60_000.0)
        assert p.height_m == h and p.ground_m == alone.ground_m
        np.testing.assert_array_equal(p.elevation_deg, alone.elevation_deg)
        np.testing.assert_array_equal(p.distance_m, alone.distance_m)
    for low, high in zip(together[:-1], together[1:], strict=True):
        assert np.all(high.elevation_deg <= low.elevation_deg + 1e-12)


def test_cached_heights_computed_together_equal_cached_one_by_one(tmp_path, pole_dem):
    """The cache of several heights (some already cached, some not) returns the one-height profiles."""
    from ilrs.config import get_settings, override_settings
    from ilrs.services import cache
    from ilrs.services.site import cached_point_horizon, cached_point_horizons
    from ilrs.terrain.dem import Mosaic

    mosaic = Mosaic((pole_dem,))
    lat, lon = -89.45, 222.69
    before = get_settings().cache_dir
    override_settings(cache_dir=tmp_path)
    cache.product_cache.cache_clear()
    try:
        one = cached_point_horizon(mosaic, lat, lon, 2.0, n_azimuths=180)  # cached first, on its own
        both = cached_point_horizons(mosaic, lat, lon, (0.0, 2.0), n_azimuths=180)
        np.testing.assert_array_equal(both[1].elevation_deg, one.elevation_deg)
        cache.product_cache.cache_clear()
        fresh = cached_point_horizon(mosaic, lat, lon, 0.0, n_azimuths=180)  # from the file written together
        np.testing.assert_array_equal(both[0].elevation_deg, fresh.elevation_deg)
    finally:
        override_settings(cache_dir=before)
        cache.product_cache.cache_clear()
