"""The fast horizon sweep against an independent brute-force ray march on the same DEM, and textbook cases."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ilrs.constants import MOON_RADIUS_M
from ilrs.core import horizon as hz

R = MOON_RADIUS_M


def _crop(dem, n, r0, c0):
    d = dem.crop(r0, r0 + n, c0, c0 + n)
    return d


def test_sweep_matches_brute_force_on_real_terrain(pole_dem):
    """Real LOLA 240 m terrain around Shackleton and the Connecting Ridge, 360 azimuths, observer 2 m up.

    Requirement (issue 2): 99th percentile of |fast - brute force| <= 0.05 deg, maximum <= 0.2 deg. Both
    sample the DEM the same way (linear between the cell centres where a ray crosses a row or column); the
    brute force marches every ray from the cell centre to the grid's edge, so it shares no code path with the
    sweep's hulls. Cells within 3 cells of the crop's border are left out: there, one of the two grid lines
    that bracket a cell's ray lies outside the grid (in the product the far field covers them).
    """
    errors = []
    # three regions: Shackleton / Connecting Ridge, the rough 85 S highlands, de Gerlache side
    for (r0, c0), height in (((576, 576), 2.0), ((1000, 300), 0.0), ((200, 900), 10.0)):
        d = _crop(pole_dem, 320, r0, c0)
        betas = np.radians(np.arange(360.0))
        fast = hz.horizon_sweep(d.heights_m, abs(d.dx), d.x0, d.y0, d.dx, d.dy, betas, height, R, True)
        rng = np.random.default_rng(r0)
        ri = rng.integers(3, 320 - 3, 300)
        ci = rng.integers(3, 320 - 3, 300)
        ref = np.degrees(
            hz.horizon_ray_march(d.heights_m, abs(d.dx), d.x0, d.y0, d.dx, d.dy, ri, ci, betas, height, R, True)
        )
        got = hz.to_degrees(fast[:, ri, ci]).T
        both = np.isfinite(ref) & np.isfinite(got)
        assert both.mean() > 0.95
        errors.append(np.abs(got - ref)[both])
    err = np.concatenate(errors)
    assert np.percentile(err, 99) <= 0.05
    assert err.max() <= 0.2


def test_tilted_plane_gives_its_slope():
    """On a plane rising 50 m per 240 m cell toward +x, the horizon at grid azimuth a is atan(tan(s) sin a)
    (minus the tiny curvature drop at the nearest sample, < 0.01 deg)."""
    n = 64
    _, xx = np.mgrid[0:n, 0:n].astype(float)
    z = 50.0 * xx
    betas = np.radians(np.arange(0.0, 360.0, 15.0))
    h = hz.to_degrees(hz.horizon_sweep(z, 240.0, 0.0, 0.0, 240.0, -240.0, betas, 0.0, R, False)[:, 32, 32])
    expected = np.degrees(np.arctan(50.0 / 240.0 * np.sin(betas)))
    assert np.allclose(h, expected, atol=0.02)


def test_single_peak_is_seen_at_its_azimuth_and_exact_angle():
    """A 3 km spike 22 rows up and 8 columns right of the observer: its azimuth is atan2(8, 22) and its
    elevation the exact spherical angle (textbook geometry), to the 0.01 deg storage step."""
    n = 64
    z = np.zeros((n, n))
    z[10, 40] = 3000.0
    betas = np.radians(np.arange(0.0, 360.0, 0.5))
    h = hz.to_degrees(hz.horizon_sweep(z, 240.0, 0.0, 0.0, 240.0, -240.0, betas, 0.0, R, False)[:, 32, 32])
    k = int(np.argmax(h))
    assert abs(np.degrees(betas[k]) - math.degrees(math.atan2(8, 22))) <= 0.5
    dist = 240.0 * math.hypot(8, 22)
    g = dist / R
    exact = math.degrees(math.atan2((R + 3000) * math.cos(g) - R, (R + 3000) * math.sin(g)))
    assert abs(h[k] - exact) <= 0.3  # the 0.5 deg azimuth grid may miss the peak's exact azimuth


def test_curvature_drop_on_a_flat_moon():
    """Flat terrain on the sphere: the horizon is the nearest sample's drop, -d/(2R) (the grid is 64 cells)."""
    z = np.zeros((64, 64))
    h = hz.horizon_sweep(z, 240.0, 0.0, 0.0, 240.0, -240.0, np.radians([0.0, 90.0]), 0.0, R, False)
    expected = -math.degrees(240.0 / (2 * R))
    assert np.allclose(hz.to_degrees(h[:, 32, 32]), round(expected, 2), atol=0.006)


def test_grid_edges_have_no_horizon_outward():
    z = np.zeros((16, 16))
    h = hz.horizon_sweep(z, 240.0, 0.0, 0.0, 240.0, -240.0, np.radians([0.0]), 0.0, R, False)
    assert h[0, 0, 5] == hz.NO_HORIZON  # row 0 looks north off the grid
    assert h[0, 10, 5] != hz.NO_HORIZON


def test_bad_inputs():
    with pytest.raises(ValueError, match="finite"):
        hz.horizon_sweep(np.full((8, 8), np.nan), 240.0, 0, 0, 240, -240, np.radians([0.0]), 0.0, R, False)
    with pytest.raises(ValueError, match="near_steps"):
        hz.horizon_sweep(np.zeros((8, 8)), 240.0, 0, 0, 240, -240, np.radians([0.0]), 0.0, R, False, 0)


def test_distant_peak_elevation_is_exact_on_a_small_sphere():
    """Far beyond the exactly marched near field, the winner's elevation is the exact spherical angle: on a
    100 km sphere a 4 km spike 100 cells (24 km, 0.24 rad of arc) away is seen at the textbook angle, where a
    wrong sign of the (d/R)**4 term of cos(d/R) would be 0.07 deg off."""
    r_small = 100e3
    z = np.zeros((128, 128))
    z[20, 64] = 4000.0
    h = hz.horizon_sweep(z, 240.0, 0.0, 0.0, 240.0, -240.0, np.radians([0.0]), 0.0, r_small, False)
    g = 100 * 240.0 / r_small
    exact = math.degrees(math.atan2((r_small + 4000.0) * math.cos(g) - r_small, (r_small + 4000.0) * math.sin(g)))
    assert abs(hz.to_degrees(h[0, 120, 64]) - exact) <= 0.006
    ref = hz.horizon_ray_march(z, 240.0, 0.0, 0.0, 240.0, -240.0, [120], [64], np.radians([0.0]), 0.0, r_small, False)
    assert abs(math.degrees(ref[0, 0]) - exact) <= 1e-6


def test_far_field_merge_follows_its_formula():
    """merge_far_field against the formula it documents, cell by cell: the far tangents of the observers around
    a cell interpolated bilinearly, corrected by the cell's height over their interpolated height at the
    interpolated distance, stored if higher; patches with a missing or too near corner are left alone."""
    from ilrs.core.farfield import merge_far_field

    rng = np.random.default_rng(3)
    n_az, stride, n_obs = 3, 4, 5
    rows = cols = (n_obs - 1) * stride + 1
    tan = rng.normal(-0.02, 0.03, (n_az, n_obs, n_obs))
    dist = rng.uniform(5e3, 2e5, (n_az, n_obs, n_obs))
    tan[0, 2, 3] = np.nan
    dist[0, 2, 3] = np.nan
    far_z = rng.normal(0.0, 500.0, (n_obs, n_obs))
    z = rng.normal(0.0, 500.0, (rows, cols))
    before = rng.integers(-300, 300, (n_az, rows, cols)).astype(np.int16)
    got = merge_far_field(before.copy(), z, 2.0, tan, dist, far_z, stride, 2e4)
    want = before.copy()
    for k in range(n_az):
        for r in range(rows):
            for c in range(cols):
                r0, c0 = min(r // stride, n_obs - 2), min(c // stride, n_obs - 2)
                fr, fc = r / stride - r0, c / stride - c0
                w = np.array([[(1 - fr) * (1 - fc), (1 - fr) * fc], [fr * (1 - fc), fr * fc]])
                t4, d4 = tan[k, r0 : r0 + 2, c0 : c0 + 2], dist[k, r0 : r0 + 2, c0 : c0 + 2]
                if np.isnan(t4).any() or d4.min() < 2e4:
                    continue
                d = (w * d4).sum()
                t = (w * t4).sum() - (z[r, c] + 2.0 - (w * far_z[r0 : r0 + 2, c0 : c0 + 2]).sum()) / d
                want[k, r, c] = max(want[k, r, c], round(math.degrees(math.atan(t)) / hz.HORIZON_SCALE_DEG))
    assert np.abs(got.astype(int) - want).max() <= 1  # the kernel's arctan is good to 2e-8 rad
    assert (got != before).any() and (got == before).any()


def test_sweep_is_the_same_whatever_the_thread_count(pole_dem):
    """Each azimuth plane is computed by one thread with the same code (float32 near field included), so one
    thread and two give the same map bit for bit; so do chunks of azimuths (as compute_horizon_map runs them)."""
    import numba

    d = _crop(pole_dem, 96, 600, 600)
    betas = np.radians(np.arange(0.0, 360.0, 7.5))
    args = (d.heights_m, abs(d.dx), d.x0, d.y0, d.dx, d.dy)
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = hz.horizon_sweep(*args, betas, 2.0, R, True)
    finally:
        numba.set_num_threads(before)
    numba.set_num_threads(min(2, numba.config.NUMBA_NUM_THREADS))
    try:
        two = hz.horizon_sweep(*args, betas, 2.0, R, True)
        chunks = np.concatenate([hz.horizon_sweep(*args, betas[k : k + 5], 2.0, R, True) for k in range(0, 48, 5)])
    finally:
        numba.set_num_threads(before)
    assert np.array_equal(one, two)
    assert np.array_equal(one, chunks)
    # written in place into slices of a larger cube, as compute_horizon_map does
    cube = np.full((betas.size + 2,) + d.shape, 7, dtype=np.int16)
    for k in range(0, 48, 16):
        hz.horizon_sweep(*args, betas[k : k + 16], 2.0, R, True, out=cube[k : k + 16])
    assert np.array_equal(cube[:48], one) and (cube[48:] == 7).all()
    with pytest.raises(ValueError, match="out must be"):
        hz.horizon_sweep(*args, betas[:4], 2.0, R, True, out=cube[:3])
