"""The far-field march against an independent full march of every sample (numpy, no early stop, no block
bounds) on real LOLA terrain: the pruning is rigorous, so both pick the same terrain."""

from __future__ import annotations

import numpy as np

from ilrs.constants import MOON_RADIUS_M
from ilrs.core.farfield import far_field_march

R = MOON_RADIUS_M


def _inv_k(x, y):
    e = (x * x + y * y) / (4.0 * R * R)  # polar stereographic point scale k = 1 + e
    return 1.0 / (1.0 + e)


def _full_march(z, x0, y0, step, ox, oy, oz, beta, box, max_dist):
    """Every sample from where the ray leaves ``box`` to ``max_dist``: the steepest (parabolic selection slope
    over the true ground distance), then its exact elevation tangent. Sample positions accumulate as the
    kernel's do (``s += step``), so both see the same samples."""
    ux, uy = np.sin(beta), np.cos(beta)
    xmin, xmax, ymin, ymax = box
    exits = [(xmax - ox) / ux if ux > 0 else (xmin - ox) / ux if ux < 0 else np.inf]
    exits.append((ymax - oy) / uy if uy > 0 else (ymin - oy) / uy if uy < 0 else np.inf)
    s, ss = max(min(exits), step), []
    while s <= max_dist:
        ss.append(s)
        s += step
    s = np.array(ss)
    x, y = ox + s * ux, oy + s * uy
    c, r = (x - x0) / step, (y0 - y) / step
    rows, cols = z.shape
    inside = (r >= 0) & (c >= 0) & (r <= rows - 1) & (c <= cols - 1)
    s, x, y, c, r = s[inside], x[inside], y[inside], c[inside], r[inside]
    if s.size == 0:
        return np.nan, np.nan
    ri = np.minimum(r.astype(int), rows - 2)
    ci = np.minimum(c.astype(int), cols - 2)
    fr, fc = r - ri, c - ci
    top = z[ri, ci] + (z[ri, ci + 1] - z[ri, ci]) * fc
    bottom = z[ri + 1, ci] + (z[ri + 1, ci + 1] - z[ri + 1, ci]) * fc
    zt = top + (bottom - top) * fr
    # ground distance: map distance over the point scale, averaged along the ray by Simpson's rule
    kin = (_inv_k(ox, oy) + 4.0 * _inv_k(ox + 0.5 * s * ux, oy + 0.5 * s * uy) + _inv_k(x, y)) / 6.0
    d = s * kin
    i = int(np.argmax((zt - oz - d * d / (2 * R)) / d))
    g = d[i] / R
    return ((R + zt[i]) * np.cos(g) - (R + oz)) / ((R + zt[i]) * np.sin(g)), d[i]


def test_far_field_equals_the_full_march_on_real_terrain(pole_dem):
    """Observers on the 240 m DEM around Shackleton and at the map's edge, the DEM itself beyond a 60 km box as
    the far terrain (as a tile's ring), 24 azimuths: the same terrain (distance to 1 mm) and its tangent to 1e-9
    (the kernel takes the central angle's cosine and sine by series, good to 1e-9 at these distances; the
    reference calls numpy's)."""
    dem = pole_dem
    z = np.ascontiguousarray(dem.heights_m, dtype=np.float64)
    step = abs(dem.dx)
    rows, cols = z.shape
    r0, c0 = rows // 2 - 125, cols // 2 - 125
    core = dem.crop(r0, r0 + 250, c0, c0 + 250)
    rng = np.random.default_rng(5)
    ri = np.concatenate([rng.integers(0, 250, 20), [0, 249]])
    ci = np.concatenate([rng.integers(0, 250, 20), [249, 0]])
    ox = core.x0 + ci * core.dx
    oy = core.y0 + ri * core.dy
    oz = core.heights_m[ri, ci] + np.where(np.arange(ri.size) % 2, 2.0, 20.0)
    betas = np.radians(np.arange(0.0, 360.0, 15.0))
    max_dist = 350_000.0
    tan, dist = far_field_march(z, dem.x0, dem.y0, step, ox, oy, oz, betas, core.bounds, max_dist, step, R)
    found = 0
    for k, beta in enumerate(betas):
        for p in range(ox.size):
            t_ref, d_ref = _full_march(z, dem.x0, dem.y0, step, ox[p], oy[p], oz[p], beta, core.bounds, max_dist)
            if np.isnan(t_ref):
                assert np.isnan(tan[k, p])
                continue
            found += 1
            assert abs(tan[k, p] - t_ref) <= 1e-9, (k, p)
            assert abs(dist[k, p] - d_ref) <= 1e-3, (k, p)
    assert found > 0.9 * betas.size * ox.size


def test_block_maxima_cover_each_block_and_the_row_and_column_after_it():
    """The pruning's bound, against numpy on random heights with NaN cells and ragged edges: each block's maximum
    over its 8 x 8 cells plus the next row and column (the cells a bilinear sample from the block reaches)."""
    from ilrs.core.farfield import FAR_BLOCK, _block_max

    rng = np.random.default_rng(2)
    g = rng.normal(0.0, 1000.0, (37, 29))
    g[rng.random(g.shape) < 0.05] = np.nan
    got = _block_max(g)
    assert got.shape == (5, 4)
    for bi in range(got.shape[0]):
        for bj in range(got.shape[1]):
            cells = g[bi * FAR_BLOCK : (bi + 1) * FAR_BLOCK + 1, bj * FAR_BLOCK : (bj + 1) * FAR_BLOCK + 1]
            assert got[bi, bj] == np.nanmax(cells)
