"""Map projections against PROJ (pyproj): the closed-form polar map, its scale factor and grid azimuths."""

import numpy as np
import pytest
from pyproj import CRS, Proj, Transformer

from ilrs.constants import MOON_RADIUS_M
from ilrs.core import geometry
from ilrs.terrain.dem import Dem
from ilrs.terrain.projection import LonLat, PyprojProjection, SouthPolarStereographic

GEOGRAPHIC = "IAU_2015:30100"  # Moon (2015) sphere, planetocentric, east longitude
SOUTH_POLAR = "IAU_2015:30135"  # Moon (2015) sphere, south polar stereographic, k = 1 at the pole


@pytest.fixture(scope="module")
def points():
    """Random points south of 80 S, longitudes in -180..180 as pyproj returns them; plus the pole region."""
    rng = np.random.default_rng(20240917)
    lat = np.concatenate([rng.uniform(-90.0, -80.0, 5000), [-90.0, -89.9999999, -80.0]])
    lon = np.concatenate([rng.uniform(-180.0, 180.0, 5000), [0.0, 179.999, -179.999]])
    return lat, lon


def test_polar_forward_matches_proj_within_1_mm(points):
    lat, lon = points
    x_ref, y_ref = Transformer.from_crs(GEOGRAPHIC, SOUTH_POLAR, always_xy=True).transform(lon, lat)
    x, y = SouthPolarStereographic().forward(lat, lon)
    assert np.max(np.hypot(x - x_ref, y - y_ref)) < 1e-3


def test_polar_inverse_matches_proj_within_1_mm(points):
    """Away from the last 100 m around the pole: there PROJ's spherical inverse, lat = asin(cos c), loses
    precision (it returns exactly -90 for a point 3 mm from the pole); the round trip below covers it."""
    lat, lon = points
    keep = lat > -89.997
    lat, lon = lat[keep], lon[keep]
    x, y = Transformer.from_crs(GEOGRAPHIC, SOUTH_POLAR, always_xy=True).transform(lon, lat)
    lon_ref, lat_ref = Transformer.from_crs(SOUTH_POLAR, GEOGRAPHIC, always_xy=True).transform(x, y)
    lat_got, lon_got = SouthPolarStereographic().inverse(x, y)
    assert np.all((lon_got >= 0.0) & (lon_got < 360.0))
    # compare positions on the ground [m]: what 1 mm means near the pole, where longitude is singular
    dlat_m = np.radians(lat_got - lat_ref) * MOON_RADIUS_M
    dlon = np.radians((lon_got - lon_ref + 180.0) % 360.0 - 180.0)
    dlon_m = dlon * MOON_RADIUS_M * np.cos(np.radians(lat_ref))
    assert np.max(np.hypot(dlat_m, dlon_m)) < 1e-3


def test_polar_round_trip_at_the_pole():
    lat = np.array([-90.0, -89.9999999, -89.99999, -89.999, -80.0])
    lon = np.array([0.0, 37.0, 200.0, 359.0, 123.0])
    lat2, lon2 = SouthPolarStereographic().inverse(*SouthPolarStereographic().forward(lat, lon))
    np.testing.assert_allclose(lat2, lat, rtol=0, atol=1e-12)
    np.testing.assert_allclose(lon2[1:], lon[1:], rtol=0, atol=1e-6)


def test_polar_projection_is_iau_2015_30135():
    """The closed form is IAU_2015:30135: variant A, k = 1 at the pole, sphere R = 1737.4 km."""
    crs = CRS(SOUTH_POLAR)
    op = crs.coordinate_operation
    params = {p.name: p.value for p in op.params}
    assert op.method_name == "Polar Stereographic (variant A)"
    assert params["Latitude of natural origin"] == -90.0
    assert params["Longitude of natural origin"] == 0.0
    assert params["Scale factor at natural origin"] == 1.0
    assert params["False easting"] == params["False northing"] == 0.0
    assert crs.ellipsoid.semi_major_metre == crs.ellipsoid.semi_minor_metre == MOON_RADIUS_M
    assert SouthPolarStereographic().radius_m == MOON_RADIUS_M


def test_point_scale_factor_matches_proj_factors(points):
    lat, lon = points
    factors = Proj(SOUTH_POLAR).get_factors(lon, lat)
    k = geometry.stereo_south_scale(np.radians(lat))
    # conformal: meridional and parallel scale are the same number
    np.testing.assert_allclose(k, factors.meridional_scale, rtol=1e-9)
    np.testing.assert_allclose(k, factors.parallel_scale, rtol=1e-9)
    assert k.min() >= 1.0 and np.isclose(geometry.stereo_south_scale(np.radians(-90.0)), 1.0)


def test_grid_azimuth_offset_is_minus_proj_meridian_convergence(points):
    """PROJ's meridian convergence is the geographic azimuth of grid north; grid - geographic = -that."""
    lat, lon = points
    away = lat > -89.99  # convergence is undefined at the pole itself
    factors = Proj(SOUTH_POLAR).get_factors(lon[away], lat[away])
    offset_deg = np.degrees(geometry.grid_azimuth_offset_south(np.radians(lon[away])))
    diff = (offset_deg + factors.meridian_convergence + 180.0) % 360.0 - 180.0
    assert np.max(np.abs(diff)) < 1e-6


def test_polar_forward_accepts_longitudes_beyond_180(points):
    lat, lon = points
    a = SouthPolarStereographic().forward(lat, lon)
    b = SouthPolarStereographic().forward(lat, lon + 360.0)
    np.testing.assert_allclose(a, b, atol=1e-6)


def test_lonlat_wraps_longitudes_into_its_window():
    proj = LonLat()
    x, y = proj.forward([1.0, 2.0, 3.0, 4.0], [-10.0, 0.0, 359.5, 720.25])
    np.testing.assert_allclose(x, [350.0, 0.0, 359.5, 0.25])
    np.testing.assert_allclose(y, [1.0, 2.0, 3.0, 4.0])
    x, _ = LonLat(lon_origin_deg=-180.0).forward(0.0, [190.0, -190.0, 180.0])
    np.testing.assert_allclose(x, [-170.0, 170.0, -180.0])
    lat, lon = proj.inverse([-90.0, 370.0], [10.0, -20.0])
    np.testing.assert_allclose(lon, [270.0, 10.0])
    np.testing.assert_allclose(lat, [10.0, -20.0])


def test_global_lonlat_dem_interpolates_across_the_seam():
    """A global 1-degree grid whose first column is at 0.5 E: points between 359.5 E and 0.5 E mix both."""
    lon_c = 0.5 + np.arange(360.0)
    heights = np.tile(np.cos(np.radians(lon_c)), (180, 1))
    dem = Dem(heights, 0.5, 89.5, 1.0, -1.0, LonLat(), "global")
    for lon in (0.0, 360.0, -360.0, 359.75, 0.2):
        expected = np.interp(
            lon % 360.0,
            np.r_[-0.5, lon_c, 360.5],
            np.r_[np.cos(np.radians(359.5)), heights[0], np.cos(np.radians(0.5))],
        )
        assert dem.sample_latlon(10.0, lon) == pytest.approx(expected, abs=1e-12)


def test_pyproj_projection_round_trip_and_longitude_convention():
    crs = CRS("IAU_2015:30110")  # lunar equirectangular
    proj = PyprojProjection(crs, crs.geodetic_crs)
    lat = np.array([-85.0, 10.0, 45.0])
    lon = np.array([200.0, 359.0, 10.0])
    x, y = proj.forward(lat, lon)
    np.testing.assert_allclose(x, MOON_RADIUS_M * np.radians((lon + 180.0) % 360.0 - 180.0), atol=1e-6)
    np.testing.assert_allclose(y, MOON_RADIUS_M * np.radians(lat), atol=1e-6)
    lat2, lon2 = proj.inverse(x, y)
    np.testing.assert_allclose(lat2, lat, atol=1e-9)
    np.testing.assert_allclose(lon2, lon, atol=1e-9)
