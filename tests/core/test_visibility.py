"""Disk fractions and Sun/Earth visibility maps against brute-force references built from ``core.geometry``.

The references take grid azimuths as geographic azimuth + east longitude (the meridian convergence of the
south polar stereographic map, :func:`ilrs.core.geometry.grid_azimuth_offset_south`) from the ENU basis,
and interpolate horizons with ``np.interp``; they share no code with the kernels under test.
"""

from __future__ import annotations

import numpy as np
import pytest

from ilrs.constants import MOON_RADIUS_M
from ilrs.core import geometry
from ilrs.core.horizon import NO_HORIZON
from ilrs.core.visibility import (
    cell_frames,
    disk_fraction,
    disk_fraction_scalar,
    earth_visibility_map,
    grid_azimuth_elevation,
    point_series,
    sun_visibility_map,
    to_cell_major,
)

SUN_RADIUS_RAD = np.radians(0.2666)  # the Sun's apparent radius at 1 au
#: Pairs whose elevation lies this close to a decision boundary may be decided either way: the kernels and
#: the references compute the same angles along different paths (rounding ~1e-15 rad) and the kernel takes
#: atan by a series (error < 1e-10 rad on these grids).
BOUNDARY_RAD = 1e-6


# ---------------------------------------------------------------------------------------------- helpers


def _polar_grid(n, half_width_m):
    """Lat/lon [rad] of an n x n grid of cells centred on the south pole, half-width in map metres."""
    c = np.linspace(-half_width_m, half_width_m, n)
    x, y = np.meshgrid(c + 0.37 * (c[1] - c[0]), -c)  # offset so that no cell sits exactly on the pole
    return geometry.stereo_south_inverse(x, y, MOON_RADIUS_M)


def _random_profiles(rng, rows, cols, n_az, amplitude_deg):
    """Smooth random horizon profiles [0.01 deg], int16 cell-major, with a few NO_HORIZON azimuths."""
    az = np.arange(n_az) * (2 * np.pi / n_az)
    prof = rng.normal(0.0, 0.3, (rows, cols, 1)) * amplitude_deg
    for k in range(1, 7):
        a = rng.normal(0.0, amplitude_deg / k, (rows, cols, 1))
        ph = rng.uniform(0, 2 * np.pi, (rows, cols, 1))
        prof = prof + a * np.sin(k * az + ph)
    out = np.round(prof * 100.0).astype(np.int16)
    holes = rng.random((rows, cols, n_az)) < 0.02
    out[holes] = NO_HORIZON
    return out


def _directions_near_equator(rng, n, max_lat_deg):
    lat = np.radians(rng.uniform(-max_lat_deg, max_lat_deg, n))
    lon = rng.uniform(0, 2 * np.pi, n)
    return geometry.unit_vector(lat, lon)


def _reference_az_el(direction_me, lat, lon):
    """Grid azimuth (geographic + longitude) and elevation [rad] per (cell, step), shapes (cells, T)."""
    east, north, up = geometry.enu_basis(lat.ravel(), lon.ravel())
    d = np.asarray(direction_me, dtype=float)
    if d.ndim == 2:
        d = np.broadcast_to(d[None], (lat.size,) + d.shape)
    d = d / np.linalg.norm(d, axis=-1, keepdims=True)
    e = np.einsum("ctk,ck->ct", d, east)
    n = np.einsum("ctk,ck->ct", d, north)
    u = np.einsum("ctk,ck->ct", d, up)
    az_geo, el = geometry.azimuth_elevation(e, n, u)
    grid_az = np.mod(az_geo + geometry.grid_azimuth_offset_south(lon.ravel())[:, None], 2 * np.pi)
    return grid_az, el


def _reference_horizon(hz, grid_az):
    """Horizon [rad] at each (cell, step) by np.interp on the periodic stored profile."""
    rows, cols, n_az = hz.shape
    az_grid = np.arange(n_az) * (2 * np.pi / n_az)
    prof = np.radians(hz.reshape(-1, n_az).astype(float) / 100.0)
    return np.stack([np.interp(grid_az[i], az_grid, prof[i], period=2 * np.pi) for i in range(prof.shape[0])])


def _longest_run(flags):
    best = run = 0
    for f in flags:
        run = run + 1 if f else 0
        best = max(best, run)
    return best


# ---------------------------------------------------------------------------------------------- disk


@pytest.mark.parametrize("x", [-1.0, -0.93, -0.5, -0.17, 0.0, 0.31, 0.72, 0.999, 1.0])
def test_disk_fraction_matches_area_integration(x):
    """2000 x 2000 samples of the unit disk, counted above a line at distance x below the centre.

    Tolerance 5e-5: only samples within one sample spacing (1/1000 of the radius) of the circle or the line
    can be miscounted, ~1e4 of the ~3.1e6 inside, and their errors alternate in sign; the net error
    measured for these x is below 5e-6, so 5e-5 leaves a factor of 10."""
    n = 2000
    c = (np.arange(n) + 0.5) / n * 2.0 - 1.0
    px, py = np.meshgrid(c, c)
    inside = px * px + py * py <= 1.0
    above = py + x > 0.0
    brute = np.count_nonzero(inside & above) / np.count_nonzero(inside)
    r = 0.004
    elev, horizon = 0.1 + x * r, 0.1
    assert abs(disk_fraction(elev, horizon, r) - brute) < 5e-5
    assert abs(disk_fraction_scalar(elev, horizon, r) - disk_fraction(elev, horizon, r)) < 1e-15


def test_disk_fraction_ends_and_half():
    r = SUN_RADIUS_RAD
    assert disk_fraction(0.3, 0.3, r) == 0.5
    assert disk_fraction(0.3 + r, 0.3, r) == 1.0
    assert disk_fraction(0.3 - r, 0.3, r) == 0.0
    assert disk_fraction(0.3 + 5 * r, 0.3, r) == 1.0
    assert disk_fraction(0.3 - 5 * r, 0.3, r) == 0.0
    # point source: visible strictly above the horizon
    assert disk_fraction([0.1, 0.0, -0.1], 0.0, 0.0).tolist() == [1.0, 0.0, 0.0]
    x = np.linspace(-1.2, 1.2, 1001)
    f = disk_fraction(x * r, 0.0, r)
    assert np.all(np.diff(f) >= 0.0)
    np.testing.assert_allclose(f + f[::-1], 1.0, atol=1e-15)  # symmetry f(-x) = 1 - f(x)
    scalar = np.array([disk_fraction_scalar(e, 0.0, r) for e in x * r])
    np.testing.assert_allclose(scalar, f, rtol=0, atol=1e-15)


# ---------------------------------------------------------------------------------------------- frames


def test_to_cell_major_matches_numpy_transpose():
    rng = np.random.default_rng(1)
    h = rng.integers(-9000, 9000, (97, 33, 141)).astype(np.int16)  # not multiples of the 64 block
    got = to_cell_major(h)
    assert got.flags.c_contiguous and got.dtype == np.int16
    np.testing.assert_array_equal(got, np.transpose(h, (1, 2, 0)))


def test_grid_azimuth_matches_enu_plus_meridian_convergence():
    """Within 1e-12 rad: both are exact; only rounding differs."""
    rng = np.random.default_rng(2)
    n = 20000
    lat = np.radians(rng.uniform(-90.0, -75.0, n))
    lon = rng.uniform(0.0, 2 * np.pi, n)
    s = _directions_near_equator(rng, n, 10.0)
    az, el = grid_azimuth_elevation(s, lat, lon)
    az_ref, el_ref = _reference_az_el(s[:, None, :], lat, lon)
    d_az = np.angle(np.exp(1j * (az - az_ref[:, 0])))
    assert np.max(np.abs(d_az)) < 1e-12
    assert np.max(np.abs(el - el_ref[:, 0])) < 1e-12
    up, map_y, map_x = cell_frames(lat, lon)
    basis = np.stack([up, map_y, map_x], axis=-2)
    np.testing.assert_allclose(basis @ np.swapaxes(basis, -1, -2), np.broadcast_to(np.eye(3), basis.shape), atol=1e-15)
    # at the pole the map's +y and +x axes point along MOON_ME +x and +y
    up, map_y, map_x = cell_frames(-np.pi / 2, 0.0)
    np.testing.assert_allclose([up, map_y, map_x], [[0, 0, -1], [1, 0, 0], [0, 1, 0]], atol=1e-15)


def test_pole_azimuth_offset_is_within_the_documented_bound():
    """|grid azimuth at the cell - grid azimuth at the pole| <= asin((1 - cos t) + sin t |tan eps|) for cells
    up to 8.6 deg from the pole and directions within 1.6 deg of the equator; the largest is under 0.6 deg."""
    rng = np.random.default_rng(3)
    n = 200000
    theta = rng.uniform(0.0, np.radians(8.6), n)
    lon = rng.uniform(0.0, 2 * np.pi, n)
    s = _directions_near_equator(rng, n, 1.6)
    az, _ = grid_azimuth_elevation(s, theta - np.pi / 2, lon)
    delta = np.angle(np.exp(1j * (az - np.arctan2(s[:, 1], s[:, 0]))))
    tan_eps = np.abs(s[:, 2]) / np.hypot(s[:, 0], s[:, 1])
    bound = np.arcsin((1 - np.cos(theta)) + np.sin(theta) * tan_eps)
    assert np.all(np.abs(delta) <= bound + 1e-15)
    assert np.degrees(np.abs(delta).max()) < 0.6
    # the kernels' series for atan(tan delta) to q**5: error below 1e-13 rad here
    q = np.tan(delta)
    assert np.max(np.abs(q * (1 - q * q * (1 / 3 - q * q / 5)) - delta)) < 1e-13


# ---------------------------------------------------------------------------------------------- Sun map


@pytest.fixture(
    scope="module",
    params=[(240.0, 40), (9446.0, 40), (48000.0, 40)],
    ids=["near-pole", "whole-240m-dem", "to-40-deg-from-pole"],
)
def sun_case(request):
    """40 x 40 cells, 500 steps: 240 m spacing around the pole; spread over the 240 m DEM (up to 8.6 deg from
    the pole, where the kernel takes the azimuth offset by its series); up to 40 deg (exact atan2 path)."""
    spacing, n = request.param
    rng = np.random.default_rng(int(spacing))
    lat, lon = _polar_grid(n, spacing * (n - 1) / 2)
    hz = _random_profiles(rng, n, n, 360, amplitude_deg=2.5)
    s = _directions_near_equator(rng, 500, 1.6)
    radius = SUN_RADIUS_RAD * rng.uniform(0.98, 1.02, 500)
    got = sun_visibility_map(hz, lat, lon, s, radius)
    az, el = _reference_az_el(s, lat, lon)
    h = _reference_horizon(hz, az)
    return hz, lat, lon, s, radius, got, el, h


def test_sun_map_counts_match_brute_force(sun_case):
    hz, lat, lon, s, radius, got, el, h = sun_case
    d = el - h
    visible = d > -radius
    near = np.abs(d + radius) < BOUNDARY_RAD
    assert np.count_nonzero(~near) > 0.99 * near.size
    n_vis = np.rint(got["sun_visible_fraction"].ravel().astype(np.float64) * s.shape[0]).astype(int)
    ref = visible.sum(axis=1)
    slack = near.sum(axis=1)
    assert np.all(np.abs(n_vis - ref) <= slack)
    assert np.array_equal(n_vis[slack == 0], ref[slack == 0])
    np.testing.assert_array_equal(got["ever_lit"].ravel()[slack == 0], ref[slack == 0] > 0)
    # the cases must exercise both bounds and the exact path
    assert 0.1 < visible.mean() < 0.9
    assert (np.abs(d) < 2 * radius).mean() > 0.01  # >= 8000 pairs with the disk near the horizon


def test_sun_map_mean_disk_fraction_matches_brute_force(sun_case):
    """Within 1e-6: float32 output (6e-8 relative) and elevation/horizon paths that differ by < 1e-9 rad,
    which move a fraction by < 1e-9 / radius = 2e-7 at most."""
    hz, lat, lon, s, radius, got, el, h = sun_case
    ref = disk_fraction(el, h, radius[None, :]).mean(axis=1)
    np.testing.assert_allclose(got["mean_disk_fraction"].ravel(), ref, rtol=0, atol=1e-6)


def test_sun_map_longest_dark_run_matches_brute_force(sun_case):
    hz, lat, lon, s, radius, got, el, h = sun_case
    d = el - h
    dark = d <= -radius
    exact = ~np.any(np.abs(d + radius) < BOUNDARY_RAD, axis=1)
    ref = np.array([_longest_run(row) for row in dark])
    got_runs = got["longest_dark_steps"].ravel()
    assert got["longest_dark_steps"].dtype == np.int32
    np.testing.assert_array_equal(got_runs[exact], ref[exact])


def test_sun_map_sector_count_does_not_change_results(sun_case):
    """Sectors only decide which pairs take the exact path; 1 sector (all exact-path bounds) must agree."""
    hz, lat, lon, s, radius, got, el, h = sun_case
    other = sun_visibility_map(hz, lat, lon, s, radius, n_sectors=7)
    one = sun_visibility_map(hz, lat, lon, s, radius, n_sectors=1)
    for key in got:
        np.testing.assert_array_equal(other[key], got[key])
        np.testing.assert_array_equal(one[key], got[key])


def test_sun_map_hand_made_cases():
    """A flat horizon at 0 seen from the pole: the Sun at +r, 0, -r gives 1, 1/2, 0; a wall in grid azimuths
    60-120 deg seen from 30 E blocks the Sun at geographic azimuth 60 deg (grid 90) but not at 150 (grid 180)."""
    r = SUN_RADIUS_RAD
    eps = 1e-9
    flat = np.zeros((1, 1, 360), dtype=np.int16)
    lat = np.full((1, 1), -np.pi / 2)
    lon = np.zeros((1, 1))

    def sun_at(elev):  # seen from the pole, u = (0, 0, -1): elevation = -latitude
        return geometry.unit_vector(np.array([-elev]), np.array([0.7]))

    for elev, expect in ((r + eps, 1.0), (0.0, 0.5), (-r - eps, 0.0)):
        out = sun_visibility_map(flat, lat, lon, sun_at(elev), r)
        assert abs(float(out["mean_disk_fraction"][0, 0]) - expect) < 1e-6
        assert bool(out["ever_lit"][0, 0]) is (expect > 0)
    steps = np.concatenate([sun_at(r + eps)] * 3 + [sun_at(-r - eps)] * 5 + [sun_at(r + eps)])
    out = sun_visibility_map(flat, lat, lon, steps, r)
    assert out["longest_dark_steps"][0, 0] == 5
    assert out["sun_visible_fraction"][0, 0] == np.float32(4 / 9)

    wall = np.full((1, 1, 360), NO_HORIZON, dtype=np.int16)
    wall[0, 0, 60:121] = 1000  # 10 deg
    lat = np.full((1, 1), np.radians(-88.0))
    lon = np.full((1, 1), np.radians(30.0))
    east, north, up = geometry.enu_basis(lat[0, 0], lon[0, 0])
    for az_geo, expect in ((np.radians(60.0), 0.0), (np.radians(150.0), 1.0)):
        sun = np.cos(np.radians(3.0)) * (np.sin(az_geo) * east + np.cos(az_geo) * north) + np.sin(np.radians(3.0)) * up
        out = sun_visibility_map(wall, lat, lon, sun[None, :], r)
        assert float(out["mean_disk_fraction"][0, 0]) == expect
    # NO_HORIZON is -90 deg: a Sun 20 deg below the geometric horizon is visible where the map holds no terrain
    low = -np.cos(np.radians(20.0)) * east - np.sin(np.radians(20.0)) * up
    assert sun_visibility_map(wall, lat, lon, low[None, :], r)["mean_disk_fraction"][0, 0] == 1.0
    never = sun_visibility_map(
        flat, np.full((1, 1), -np.pi / 2), np.zeros((1, 1)), np.repeat(sun_at(-r - eps), 7, axis=0), r
    )
    assert never["longest_dark_steps"][0, 0] == 7 and not never["ever_lit"][0, 0]


def test_sun_map_progress_is_reported_per_chunk():
    rng = np.random.default_rng(5)
    lat, lon = _polar_grid(10, 1000.0)
    hz = _random_profiles(rng, 10, 10, 72, 1.0)
    seen = []
    sun_visibility_map(
        hz, lat, lon, _directions_near_equator(rng, 20, 1.5), SUN_RADIUS_RAD, seen.append, rows_per_chunk=4
    )
    assert seen == [0.0, 0.4, 0.8, 1.0]


# ---------------------------------------------------------------------------------------------- Earth map


def test_earth_map_matches_brute_force_with_parallax():
    """Earth positions 356-407 Mm away within 7.5 deg of the equator, cells over the 240 m DEM's extent with
    heights of +-4 km: the reference sees the Earth from (R + z + h) u. Counts exact away from boundaries."""
    rng = np.random.default_rng(6)
    n, t = 30, 400
    lat, lon = _polar_grid(n, 180000.0)
    hz = _random_profiles(rng, n, n, 360, amplitude_deg=4.0)
    z = rng.uniform(-4000.0, 4000.0, (n, n))
    obs_h = 2.0
    pos = _directions_near_equator(rng, t, 7.5) * rng.uniform(3.56e8, 4.07e8, (t, 1))
    got = earth_visibility_map(hz, lat, lon, z, obs_h, pos)["earth_visible_fraction"]
    cell = (MOON_RADIUS_M + z.ravel() + obs_h)[:, None] * geometry.unit_vector(lat.ravel(), lon.ravel())
    rel = pos[None, :, :] - cell[:, None, :]
    az, el = _reference_az_el(rel, lat, lon)
    d = el - _reference_horizon(hz, az)
    near = np.abs(d) < BOUNDARY_RAD
    ref = (d > 0).sum(axis=1)
    n_vis = np.rint(got.ravel().astype(np.float64) * t).astype(int)
    assert got.dtype == np.float32
    assert np.all(np.abs(n_vis - ref) <= near.sum(axis=1))
    assert np.array_equal(n_vis[near.sum(axis=1) == 0], ref[near.sum(axis=1) == 0])
    # bounds only choose which pairs are computed exactly: one sector (loosest bounds) gives the same map
    one = earth_visibility_map(hz, lat, lon, z, obs_h, pos, n_sectors=1)["earth_visible_fraction"]
    np.testing.assert_array_equal(one, got)
    # parallax matters at this precision: from the Moon's centre the counts differ
    az0, el0 = _reference_az_el(pos, lat, lon)
    assert np.any(((el0 - _reference_horizon(hz, az0)) > 0).sum(axis=1) != ref)


# ---------------------------------------------------------------------------------------------- one site


def test_point_series_interpolates_with_wrap_around():
    rng = np.random.default_rng(7)
    n_az = 3600
    az_grid = np.arange(n_az) * (2 * np.pi / n_az)
    prof = 2.0 * np.sin(3 * az_grid) + rng.normal(0, 0.1, n_az)
    prof[100] = np.nan  # no terrain: -90 deg
    t = 1000
    az = np.concatenate([rng.uniform(-np.pi, 3 * np.pi, t - 3), [2 * np.pi - 1e-5, 0.0, az_grid[100]]])
    elev = np.radians(rng.uniform(-3, 3, t))
    radius = np.full(t, SUN_RADIUS_RAD)
    h_deg, frac = point_series(prof, az, elev, radius)
    ref = np.interp(np.mod(az, 2 * np.pi), az_grid, np.where(np.isnan(prof), -90.0, prof), period=2 * np.pi)
    np.testing.assert_allclose(h_deg, ref, rtol=0, atol=1e-12)  # same linear interpolation, rounding only
    np.testing.assert_allclose(frac, disk_fraction(elev, np.radians(ref), radius), rtol=0, atol=1e-12)
    assert h_deg[-1] == -90.0


def test_to_cell_major_reads_a_window_in_place():
    """A strided window of a larger map (as site_maps passes it, without a contiguous copy) transposes to the
    same array as numpy's own transpose of that window."""
    from ilrs.core.visibility import to_cell_major

    cube = np.random.default_rng(3).integers(-9000, 9000, (37, 50, 70)).astype(np.int16)
    window = cube[:, 5:41, 9:66]
    assert not window.flags.c_contiguous
    assert np.array_equal(to_cell_major(window), np.ascontiguousarray(window.transpose(1, 2, 0)))
