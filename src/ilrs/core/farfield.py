"""Far-field horizons: terrain beyond a DEM's edge, from a coarser grid, merged into a horizon map."""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import numpy.typing as npt

from ilrs.core._jit import jit, prange
from ilrs.core.arrays import FloatArray, Int16Array
from ilrs.core.horizon import FAST_MATH, HORIZON_SCALE_DEG, _atan_select, _exact_tan, _inv_scale_xy


@jit
def _bilinear_inv(g: FloatArray, x0: float, y0: float, inv_step: float, x: float, y: float) -> float:
    """Bilinear value of grid ``g`` (cell (0, 0) centred at x0, y0, cells 1 / inv_step wide; +x along columns,
    -y along rows); ``-inf`` outside the grid."""
    c = (x - x0) * inv_step
    r = (y0 - y) * inv_step
    rows, cols = g.shape
    if r < 0.0 or c < 0.0 or r > rows - 1 or c > cols - 1:
        return -np.inf
    ri = min(int(r), rows - 2)
    ci = min(int(c), cols - 2)
    fr: float = r - ri
    fc = c - ci
    a: float = g[ri, ci] + (g[ri, ci + 1] - g[ri, ci]) * fc
    b: float = g[ri + 1, ci] + (g[ri + 1, ci + 1] - g[ri + 1, ci]) * fc
    return a + (b - a) * fr


#: Cells per side of the blocks whose highest terrain bounds the far-field march (a power of two).
FAR_BLOCK_SHIFT = 3
FAR_BLOCK = 1 << FAR_BLOCK_SHIFT


@jit
def _block_max(g: FloatArray) -> FloatArray:
    """Highest value of ``g`` over each block of ``FAR_BLOCK`` x ``FAR_BLOCK`` cells and the row and column after
    it: a bound of every bilinear sample whose lower-left cell lies in the block (NaN cells never win)."""
    rows, cols = g.shape
    out = np.full(((rows + FAR_BLOCK - 1) >> FAR_BLOCK_SHIFT, (cols + FAR_BLOCK - 1) >> FAR_BLOCK_SHIFT), -np.inf)
    for r in range(rows):
        # a block's first row (column) is also the row (column) after the block before it
        bi = r >> FAR_BLOCK_SHIFT
        first_r = r > 0 and (r & (FAR_BLOCK - 1)) == 0
        for c in range(cols):
            v = g[r, c]
            if not v > -np.inf:
                continue  # NaN: a sample that touches it is never chosen
            bj = c >> FAR_BLOCK_SHIFT
            first_c = c > 0 and (c & (FAR_BLOCK - 1)) == 0
            out[bi, bj] = max(out[bi, bj], v)
            if first_c:
                out[bi, bj - 1] = max(out[bi, bj - 1], v)
            if first_r:
                out[bi - 1, bj] = max(out[bi - 1, bj], v)
                if first_c:
                    out[bi - 1, bj - 1] = max(out[bi - 1, bj - 1], v)
    return out


@jit(parallel=True)
def _far_field(
    ext_z: FloatArray,
    ex0: float,
    ey0: float,
    estep: float,
    obs_x: FloatArray,
    obs_y: FloatArray,
    obs_z: FloatArray,
    betas: FloatArray,
    xmin: float,
    xmax: float,
    ymin: float,
    ymax: float,
    max_dist: float,
    step: float,
    radius: float,
    polar: bool,
    out_tan: FloatArray,
    out_dist: FloatArray,
) -> None:
    n_obs = obs_x.shape[0]
    inv2r = 1.0 / (2.0 * radius)
    inv_step = 1.0 / estep
    # for the early stop: the highest far terrain, and the smallest inverse point scale on the grid (at its
    # corners), so that a sample at map distance s lies at least s * k_min away on the ground
    z_top = -np.inf
    for v in ext_z.ravel():
        if v > z_top:
            z_top = v
    rows_e, cols_e = ext_z.shape
    x_far = max(abs(ex0), abs(ex0 + (cols_e - 1) * estep))
    y_far = max(abs(ey0), abs(ey0 - (rows_e - 1) * estep))
    k_min = _inv_scale_xy(x_far, y_far, radius, polar) * (1.0 - 1e-9)
    bmax = _block_max(ext_z)
    blk_m = FAR_BLOCK * estep
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
            # the steepest far sample; slopes (num / d, d > 0) compared without dividing
            found = False
            best_num = 0.0
            best_z = 0.0
            best_d = 1.0
            s = max(s_exit, step)
            while s <= max_dist:
                # stop when no farther sample can beat the steepest so far: at ground distance d >= s k_min the
                # selection slope is at most (z_top - zo) / d - d / 2R, which falls with d (a rigorous bound,
                # so the result is the one the full march gives)
                if found:
                    d_lo = s * k_min
                    top = z_top - zo
                    bound = (top / d_lo if top > 0.0 else 0.0) - d_lo * inv2r
                    if bound * best_d < best_num:
                        break
                    # the same bound with the highest terrain of the block the ray is in: when no sample in the
                    # block can win, step over the block's samples (the same sample positions, none evaluated)
                    cg = (ox + s * ux - ex0) * inv_step
                    rg = (ey0 - (oy + s * uy)) * inv_step
                    if 0.0 <= rg < rows_e - 1 and 0.0 <= cg < cols_e - 1:
                        bi = int(rg) >> FAR_BLOCK_SHIFT
                        bj = int(cg) >> FAR_BLOCK_SHIFT
                        # 1 cm above the block's top: the bound stays above any sample whatever the rounding
                        top = bmax[bi, bj] + 0.01 - zo
                        bound = (top / d_lo if top > 0.0 else 0.0) - d_lo * inv2r
                        if bound * best_d < best_num:
                            # map distance at which the ray leaves the block (1 mm early, against rounding)
                            s_blk = 1e300
                            if ux > 0.0:
                                s_blk = min(s_blk, (ex0 + (bj + 1) * blk_m - ox) / ux)
                            elif ux < 0.0:
                                s_blk = min(s_blk, (ex0 + bj * blk_m - ox) / ux)
                            if uy > 0.0:
                                s_blk = min(s_blk, (ey0 - bi * blk_m - oy) / uy)
                            elif uy < 0.0:
                                s_blk = min(s_blk, (ey0 - (bi + 1) * blk_m - oy) / uy)
                            s_blk -= 1e-3
                            if s_blk > s:
                                while s < s_blk and s <= max_dist:
                                    s += step
                                continue
                xt = ox + s * ux
                yt = oy + s * uy
                zt = _bilinear_inv(ext_z, ex0, ey0, inv_step, xt, yt)
                if zt > -1e300:
                    kin = (
                        kin_o
                        + 4.0 * _inv_scale_xy(ox + 0.5 * s * ux, oy + 0.5 * s * uy, radius, polar)
                        + _inv_scale_xy(xt, yt, radius, polar)
                    ) / 6.0
                    d = s * kin
                    num = zt - zo - d * d * inv2r
                    if not found or num * best_d > best_num * d:
                        found = True
                        best_num = num
                        best_z = zt
                        best_d = d
                s += step
            if found:
                out_tan[k, p] = _exact_tan(zo, best_z, best_d, radius)
                out_dist[k, p] = best_d
            else:
                out_tan[k, p] = np.nan
                out_dist[k, p] = np.nan


def far_field_march(
    ext_z: npt.ArrayLike,
    ext_x0: float,
    ext_y0: float,
    ext_step: float,
    obs_x: npt.ArrayLike,
    obs_y: npt.ArrayLike,
    obs_z: npt.ArrayLike,
    grid_azimuths_rad: npt.ArrayLike,
    inner_box: Iterable[float],
    max_distance_m: float,
    step_m: float,
    radius_m: float,
    polar: bool = True,
) -> tuple[FloatArray, FloatArray]:
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
    _far_field(
        np.ascontiguousarray(ext_z, dtype=np.float64),
        float(ext_x0),
        float(ext_y0),
        float(ext_step),
        obs_x,
        obs_y,
        obs_z,
        betas,
        xmin,
        xmax,
        ymin,
        ymax,
        float(max_distance_m),
        float(step_m),
        float(radius_m),
        bool(polar),
        out_tan,
        out_dist,
    )
    return out_tan, out_dist


@jit(parallel=True)
def _merge_far(
    hmap: Int16Array,
    z: FloatArray,
    obs_h: float,
    far_tan: FloatArray,
    far_dist: FloatArray,
    far_z: FloatArray,
    stride: int,
    min_dist: float,
) -> None:
    n_az, rows, cols = hmap.shape
    cr, cc = far_z.shape
    scale = 180.0 / math.pi / HORIZON_SCALE_DEG
    # raise_at[h + 9000]: a tangent below it rounds to at most stored value h (the bin's upper edge, less a margin
    # far above _atan_select's 2e-8 rad error), so the arctangent is needed only above it
    raise_at = np.empty(18001)
    for h in range(-9000, 9001):
        edge_deg = min(89.9999, (h + 0.5 - 1e-3) * HORIZON_SCALE_DEG)
        raise_at[h + 9000] = math.tan(math.radians(edge_deg))
    # per map column: its column of the observer grid (the bilinear patch) and the weight of the next one
    c_lo = np.empty(cols, dtype=np.int64)
    w_c = np.empty(cols)
    for c in range(cols):
        gc = c / stride
        c_lo[c] = min(int(gc), cc - 2)
        w_c[c] = gc - c_lo[c]
    for k in prange(n_az):
        t_row = np.empty(cc)
        d_row = np.empty(cc)
        z_row = np.empty(cc)
        ok_col = np.empty(cc, dtype=np.bool_)
        for r in range(rows):
            gr = r / stride
            r0 = min(int(gr), cr - 2)
            fr = gr - r0
            # the observer grid interpolated to this map row; a patch corner without far terrain, or with far
            # terrain nearer than ``min_dist``, leaves the patch out (interpolation between observers
            # ``stride`` cells apart is trusted only for terrain much farther than their spacing)
            for j in range(cc):
                t0 = far_tan[k, r0, j]
                t1 = far_tan[k, r0 + 1, j]
                d0 = far_dist[k, r0, j]
                d1 = far_dist[k, r0 + 1, j]
                ok_col[j] = not (math.isnan(t0) or math.isnan(t1) or d0 < min_dist or d1 < min_dist)
                t_row[j] = t0 * (1.0 - fr) + t1 * fr
                d_row[j] = d0 * (1.0 - fr) + d1 * fr
                z_row[j] = far_z[r0, j] * (1.0 - fr) + far_z[r0 + 1, j] * fr
            hrow = hmap[k, r]
            zrow = z[r]
            c = 0
            while c < cols:
                j = c_lo[c]
                c_end = c
                while c_end < cols and c_lo[c_end] == j:
                    c_end += 1
                if ok_col[j] and ok_col[j + 1]:
                    _merge_segment(
                        hrow[c:c_end],
                        zrow[c:c_end],
                        w_c[c:c_end],
                        t_row[j],
                        t_row[j + 1],
                        d_row[j],
                        d_row[j + 1],
                        z_row[j],
                        z_row[j + 1],
                        obs_h,
                        scale,
                        raise_at,
                    )
                c = c_end


@jit(fastmath=FAST_MATH)
def _merge_segment(
    hrow: Int16Array,
    zrow: FloatArray,
    w_c: FloatArray,
    ta: float,
    tb: float,
    da: float,
    db: float,
    za: float,
    zb: float,
    obs_h: float,
    scale: float,
    raise_at: FloatArray,
) -> None:
    """Cells of a map row that share one patch of the observer grid (contiguous slices: LLVM vectorises this)."""
    for c in range(hrow.shape[0]):
        w = w_c[c]
        tan_f = ta + (tb - ta) * w
        d = da + (db - da) * w
        zc = za + (zb - za) * w
        # the far horizon seen from this cell's own height: d(tan)/d(z_obs) = -1/d at the tangent
        tan_f -= (zrow[c] + obs_h - zc) / d
        if tan_f < raise_at[hrow[c] + 9000]:
            continue
        v = np.int16(np.floor(_atan_select(tan_f) * scale + 0.5))
        hrow[c] = max(hrow[c], v)


def merge_far_field(
    hmap: Int16Array,
    z: npt.ArrayLike,
    observer_height_m: float,
    far_tan: npt.ArrayLike,
    far_dist: npt.ArrayLike,
    far_z: npt.ArrayLike,
    stride: int,
    min_distance_m: float,
) -> Int16Array:
    """Raise the stored horizons ``hmap`` (n_az, rows, cols) in place to the far-field horizons.

    The far field was computed for observers on every ``stride``-th cell (a grid of shape ``far_z.shape``,
    observer heights ``far_z`` including the observer height); it is interpolated bilinearly to each cell and
    corrected to first order for the cell's own height. Far terrain nearer than ``min_distance_m`` (only
    possible close to the DEM's edge) is left out: interpolating it between observers would be unreliable.
    """
    _merge_far(
        hmap,
        np.ascontiguousarray(z, dtype=np.float64),
        float(observer_height_m),
        np.ascontiguousarray(far_tan),
        np.ascontiguousarray(far_dist),
        np.ascontiguousarray(far_z),
        int(stride),
        float(min_distance_m),
    )
    return hmap
