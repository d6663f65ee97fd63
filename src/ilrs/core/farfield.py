"""Far-field horizons: terrain beyond a DEM's edge, from a coarser grid, merged into a horizon map."""

from __future__ import annotations

import math

import numpy as np

from ilrs.core._jit import jit, prange
from ilrs.core.horizon import HORIZON_SCALE_DEG, _exact_tan, _fast_atan, _inv_scale_xy


@jit
def _bilinear_grid(g, x0, y0, step, x, y):
    """Bilinear value of grid ``g`` (cell (0, 0) centred at x0, y0; +x along columns, -y along rows)."""
    c = (x - x0) / step
    r = (y0 - y) / step
    rows, cols = g.shape
    if r < 0.0 or c < 0.0 or r > rows - 1 or c > cols - 1:
        return np.nan
    ri = min(int(r), rows - 2)
    ci = min(int(c), cols - 2)
    fr = r - ri
    fc = c - ci
    return ((g[ri, ci] * (1 - fc) + g[ri, ci + 1] * fc) * (1 - fr)
            + (g[ri + 1, ci] * (1 - fc) + g[ri + 1, ci + 1] * fc) * fr)


@jit(parallel=True)
def _far_field(ext_z, ex0, ey0, estep, obs_x, obs_y, obs_z, betas, xmin, xmax, ymin, ymax, max_dist, step,
               radius, polar, out_tan, out_dist):
    n_obs = obs_x.shape[0]
    inv2r = 1.0 / (2.0 * radius)
    for p in prange(n_obs):
        ox = obs_x[p]
        oy = obs_y[p]
        zo = obs_z[p]
        kin_o = _inv_scale_xy(ox, oy, radius, polar)
        for k in range(betas.shape[0]):
            ux = math.sin(betas[k])
            uy = math.cos(betas[k])
            # map distance at which the ray leaves the inner box (the near-field DEM)
            s_exit = 1e300
            if ux > 0:
                s_exit = min(s_exit, (xmax - ox) / ux)
            elif ux < 0:
                s_exit = min(s_exit, (xmin - ox) / ux)
            if uy > 0:
                s_exit = min(s_exit, (ymax - oy) / uy)
            elif uy < 0:
                s_exit = min(s_exit, (ymin - oy) / uy)
            best = -1e300
            best_z = 0.0
            best_d = 1.0
            s = max(s_exit, step)
            while s <= max_dist:
                xt = ox + s * ux
                yt = oy + s * uy
                zt = _bilinear_grid(ext_z, ex0, ey0, estep, xt, yt)
                if not math.isnan(zt):
                    kin = (kin_o + 4.0 * _inv_scale_xy(ox + 0.5 * s * ux, oy + 0.5 * s * uy, radius, polar)
                           + _inv_scale_xy(xt, yt, radius, polar)) / 6.0
                    d = s * kin
                    slope = (zt - zo - d * d * inv2r) / d
                    if slope > best:
                        best = slope
                        best_z = zt
                        best_d = d
                s += step
            if best > -1e299:
                out_tan[k, p] = _exact_tan(zo, best_z, best_d, radius)
                out_dist[k, p] = best_d
            else:
                out_tan[k, p] = np.nan
                out_dist[k, p] = np.nan


def far_field_march(ext_z, ext_x0, ext_y0, ext_step, obs_x, obs_y, obs_z, grid_azimuths_rad, inner_box,
                    max_distance_m, step_m, radius_m, polar=True):
    """Far-field horizons of observers, from terrain outside ``inner_box`` only.

    ``ext_z`` is a coarse grid of heights [m] (north-up, square cells of ``ext_step`` [m], cell (0, 0) centred
    at ``ext_x0, ext_y0``) covering the far field; every ray leaves ``inner_box`` = (xmin, xmax, ymin, ymax)
    and is marched every ``step_m`` to ``max_distance_m`` (map metres). Returns (tan of the exact elevation,
    true distance of the terrain that forms it [m]), each shape (n_azimuths, n_observers); NaN where no far
    terrain was found.
    """
    obs_x = np.ascontiguousarray(obs_x, dtype=np.float64).ravel()
    obs_y = np.ascontiguousarray(obs_y, dtype=np.float64).ravel()
    obs_z = np.ascontiguousarray(obs_z, dtype=np.float64).ravel()
    betas = np.ascontiguousarray(grid_azimuths_rad, dtype=np.float64)
    out_tan = np.empty((betas.size, obs_x.size))
    out_dist = np.empty((betas.size, obs_x.size))
    xmin, xmax, ymin, ymax = (float(v) for v in inner_box)
    _far_field(np.ascontiguousarray(ext_z, dtype=np.float64), float(ext_x0), float(ext_y0), float(ext_step),
               obs_x, obs_y, obs_z, betas, xmin, xmax, ymin, ymax, float(max_distance_m), float(step_m),
               float(radius_m), bool(polar), out_tan, out_dist)
    return out_tan, out_dist


@jit(parallel=True)
def _merge_far(hmap, z, obs_h, far_tan, far_dist, far_z, stride, min_dist):
    n_az, rows, cols = hmap.shape
    cr, cc = far_z.shape
    scale = 180.0 / math.pi / HORIZON_SCALE_DEG
    for k in prange(n_az):
        for r in range(rows):
            gr = r / stride
            r0 = min(int(gr), cr - 2)
            fr = gr - r0
            for c in range(cols):
                gc = c / stride
                c0 = min(int(gc), cc - 2)
                fc = gc - c0
                w00 = (1 - fr) * (1 - fc)
                w01 = (1 - fr) * fc
                w10 = fr * (1 - fc)
                w11 = fr * fc
                t00 = far_tan[k, r0, c0]
                t01 = far_tan[k, r0, c0 + 1]
                t10 = far_tan[k, r0 + 1, c0]
                t11 = far_tan[k, r0 + 1, c0 + 1]
                if math.isnan(t00) or math.isnan(t01) or math.isnan(t10) or math.isnan(t11):
                    continue
                tan_f = t00 * w00 + t01 * w01 + t10 * w10 + t11 * w11
                d = (far_dist[k, r0, c0] * w00 + far_dist[k, r0, c0 + 1] * w01
                     + far_dist[k, r0 + 1, c0] * w10 + far_dist[k, r0 + 1, c0 + 1] * w11)
                zc = (far_z[r0, c0] * w00 + far_z[r0, c0 + 1] * w01 + far_z[r0 + 1, c0] * w10
                      + far_z[r0 + 1, c0 + 1] * w11)
                # interpolation between observers `stride` cells apart is trusted only for terrain much
                # farther than their spacing; closer far-field terrain (cells at the DEM's edge) is left out
                if min(far_dist[k, r0, c0], far_dist[k, r0, c0 + 1], far_dist[k, r0 + 1, c0],
                       far_dist[k, r0 + 1, c0 + 1]) < min_dist:
                    continue
                # the far horizon seen from this cell's own height: d(tan)/d(z_obs) = -1/d at the tangent
                tan_f -= (z[r, c] + obs_h - zc) / d
                v = round(_fast_atan(tan_f) * scale)
                if v > hmap[k, r, c]:
                    hmap[k, r, c] = np.int16(v)


def merge_far_field(hmap, z, observer_height_m, far_tan, far_dist, far_z, stride, min_distance_m):
    """Raise the stored horizons ``hmap`` (n_az, rows, cols) in place to the far-field horizons.

    The far field was computed for observers on every ``stride``-th cell (a grid of shape ``far_z.shape``,
    observer heights ``far_z`` including the observer height); it is interpolated bilinearly to each cell and
    corrected to first order for the cell's own height. Far terrain nearer than ``min_distance_m`` (only
    possible close to the DEM's edge) is left out: interpolating it between observers would be unreliable.
    """
    _merge_far(hmap, np.ascontiguousarray(z, dtype=np.float64), float(observer_height_m),
               np.ascontiguousarray(far_tan), np.ascontiguousarray(far_dist), np.ascontiguousarray(far_z),
               int(stride), float(min_distance_m))
    return hmap
