"""The point analysis with the Sun and the Earth seen from two heights (an array's mast and an antenna), and the
shortlist re-scored on a DEM the user brings."""

from __future__ import annotations

import numpy as np

from ilrs.services.data import GLOBAL_LDEM4, POLE_240M, data_path
from ilrs.services.site import point_environment, rescore_shortlist

#: Connecting Ridge (the built-in scenario's site), inside the embedded 10 m tile
LAT, LON = -89.4455, 222.69
SPAN = ("2025-01-01", "2025-01-31", 7200.0)


def test_sun_from_the_mast_and_earth_from_the_antenna():
    """Each body's visibility equals the one-height analysis at its own height: the Sun's series at 2 m and
    the Earth's at 10 m, bit for bit (the same profiles, directions and rules)."""
    both = point_environment(LAT, LON, *SPAN, height_m=2.0, earth_height_m=10.0)
    low = point_environment(LAT, LON, *SPAN, height_m=2.0)
    high = point_environment(LAT, LON, *SPAN, height_m=10.0)
    for key in ("sun_elevation_deg", "sun_horizon_deg", "sun_disk_fraction"):
        np.testing.assert_array_equal(both.series[key], low.series[key])
    for key in ("earth_elevation_deg", "earth_horizon_deg", "earth_visible"):
        np.testing.assert_array_equal(both.series[key], high.series[key])
    assert both.earth_visible_fraction == high.earth_visible_fraction
    assert both.sun_visible_fraction == low.sun_visible_fraction
    assert both.earth_height_m == 10.0 and low.earth_height_m is None
    assert both.summary()["earth_height_m"] == 10.0


def test_shortlist_rescored_on_the_dem_the_user_brings():
    """Re-scoring with user DEMs uses them, finest first, instead of the embedded mosaic: here the 240 m DEM and
    LDEM_4 given as files stand in for a user's product, and the site is scored on the 240 m layer rather than
    the embedded 10 m tile; the Earth is seen from the antenna height asked."""
    dems = [str(data_path(POLE_240M)), str(data_path(GLOBAL_LDEM4))]
    start = SPAN[0]
    (embedded,) = rescore_shortlist([(0, LAT, LON)], start, 2.0, 7200.0, 30 / 365.25, earth_height_m=10.0)
    (user,) = rescore_shortlist([(0, LAT, LON)], start, 2.0, 7200.0, 30 / 365.25, earth_height_m=10.0, dems=dems)
    assert embedded.env.dem_layer.startswith("site01") and embedded.env.dem_cell_m < 20
    assert user.env.dem_cell_m > 200 and not user.env.dem_layer.startswith("site01")
    assert user.env.earth_height_m == 10.0
    direct = point_environment(LAT, LON, start, "2025-01-31", 7200.0, 2.0, dems, 10.0)
    assert user.env.sun_visible_fraction == direct.sun_visible_fraction
