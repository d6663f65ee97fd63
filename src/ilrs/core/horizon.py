"""Topographic horizons on a grid: a linear-time convex-hull sweep, and a brute-force ray march to check it.

Method (Dozier 2022, IEEE GRSL 19, "Revisiting topographic horizons in the era of big data and parallel
computing"): for one azimuth, walk every grid line running in that direction, from the far end toward the
observer side, keeping the upper convex hull of the terrain already passed; the tangent from a point to that
hull gives its horizon. The Moon's curvature enters exactly in the parabolic approximation: with
``w = z - t**2 / (2 R)`` along a line of arc length ``t``, the drop ``d**2 / (2 R)`` over a distance ``d``
becomes a constant ``-t_obs / R`` per observer, so the hull of (t, w) still gives the tangent point.

A cell's own ray lies between two such lines, up to one cell to either side, and the lines' horizons differ
from the cell's most where the terrain is near or narrow. So each cell marches its own ray for the first
``near`` steps (24 by default; vectorised across the cells of a row, which share the step's offsets), and
beyond them evaluates its own ray at the steps where the two bracketing lines found their tangents, and
everywhere between them. The lines' hulls lag their samples by
half the near field, so that a feature just beyond the near field is still a tangent candidate. The winner's
elevation is evaluated on the sphere (series of the exact formula to ``(d/R)**4``). Where the two lines'
tangents lie far apart, the steps between them are searched block by block with a rigorous bound (the highest
grid heights around the lines in each block of 8 steps), so only blocks that could hold a higher horizon are
evaluated. Terrain is sampled where a ray crosses each row (or column), linearly between the two cell centres
there; distances are true ground distances: map distances divided by the polar stereographic point scale
``k = 1 + rho**2 / (4 R**2)``.

Accuracy against the brute-force march of every ray (:func:`horizon_ray_march`), 300 cells x 360 azimuths on
each of 19 crops of 320 x 320 cells of the real 240 m DEM: 99th percentile 0.0055 deg (the storage step is
0.01 deg), 99.9th 0.009 deg, maximum 0.12 deg (the three crops of tests/core/test_horizon.py: 0.0056 and 0.075).
The errors left are misses: the cell's highest step lies where neither bracketing line found its tangent.
Evaluating one step either side of the lines' tangents as well, with a 16-step near field (the kernel before
2026-11-27), costs about 10 % more time for a 99.9th percentile of 0.008 deg but a maximum of 0.19 deg.

Grid azimuths are measured from the map's +y axis toward +x. Heights are metres above the sphere of radius R.
Horizons are stored as int16 hundredths of a degree (quantisation <= 0.005 deg); ``NO_HORIZON`` marks a
direction in which the grid holds no terrain (the far field must fill it).
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from ilrs.core._jit import jit, prange, threads
from ilrs.core.arrays import AnyIntArray, Float32Array, FloatArray, Int16Array, IntArray

#: Stored value for "no terrain in this direction inside the grid" [0.01 deg].
NO_HORIZON = np.int16(-9000)
#: Steps marched exactly from each cell before the sweep's hull takes over (accuracy/speed trade-off).
DEFAULT_NEAR_STEPS = 24
#: LLVM fast-math flags for the sweep (no NaN or inf reach it: heights are checked finite; vectorises loops).
FAST_MATH = {"nsz", "arcp", "contract", "afn", "reassoc", "nnan", "ninf"}
#: Steps per block of the pruning bound between two lines' tangents (a power of two).
BLOCK_SHIFT = 3
BLOCK = 1 << BLOCK_SHIFT
#: Scale of stored horizons [deg per unit].
HORIZON_SCALE_DEG = 0.01


@jit
def _exact_tan(z_obs: float, z_tgt: float, dist: float, radius: float) -> float:
    """Tangent of the exact elevation angle of a target at ground distance ``dist`` [m] (heights above R)."""
    g = dist / radius
    g2 = g * g
    # cos and sin of the central angle by their series: g < 0.2 rad here, so the error is below 1e-9
    cg = 1.0 - g2 / 2.0 + g2 * g2 / 24.0 - g2 * g2 * g2 / 720.0
    sg = g * (1.0 - g2 / 6.0 + g2 * g2 / 120.0)
    rt = radius + z_tgt
    return (rt * cg - (radius + z_obs)) / (rt * sg)


@jit
def _exact_elevation(z_obs: float, z_tgt: float, dist: float, radius: float) -> float:
    """Exact elevation angle [rad] of a target at ground distance ``dist`` [m], heights above the sphere [m]."""
    return math.atan(_exact_tan(z_obs, z_tgt, dist, radius))


@jit
def _rises(hull_t: FloatArray, hull_w: FloatArray, a: int, t: float, w_obs: float) -> bool:
    """True if the observer at (t, w_obs) sees hull vertex a + 1 under a steeper slope than vertex a."""
    # (w_a - w_o) / (t - t_a) < (w_b - w_o) / (t - t_b), both distances positive
    rises: bool = (hull_w[a] - w_obs) * (t - hull_t[a + 1]) < (hull_w[a + 1] - w_obs) * (t - hull_t[a])
    return rises


@jit
def _fast_atan(x: float) -> float:
    """arctan [rad] to 2e-8 rad: range reduction to |x| <= 1 and an odd minimax polynomial."""
    ax = abs(x)
    inv = ax > 1.0
    if inv:
        ax = 1.0 / ax
    # reduce further with atan(x) = pi/8 + atan((x - tan(pi/8)) / (1 + x tan(pi/8)))
    t8 = 0.41421356237309503
    big = ax > t8
    if big:
        ax = (ax - t8) / (1.0 + ax * t8)
    x2 = ax * ax
    r = ax * (
        1.0
        + x2
        * (
            -0.33333333333287
            + x2 * (0.19999999958 + x2 * (-0.142857049 + x2 * (0.11110863 + x2 * (-0.0908470 + x2 * 0.0727))))
        )
    )
    if big:
        r += 0.39269908169872414
    if inv:
        r = 1.5707963267948966 - r
    return -r if x < 0 else r


@jit
def _atan_select(x: float) -> float:
    """:func:`_fast_atan` written with selects instead of branches, so that loops calling it vectorise."""
    ax = abs(x)
    inv = ax > 1.0
    ax = 1.0 / ax if inv else ax
    big = ax > 0.41421356237309503
    ax = (ax - 0.41421356237309503) / (1.0 + ax * 0.41421356237309503) if big else ax
    x2 = ax * ax
    r = ax * (
        1.0
        + x2
        * (
            -0.33333333333287
            + x2 * (0.19999999958 + x2 * (-0.142857049 + x2 * (0.11110863 + x2 * (-0.0908470 + x2 * 0.0727))))
        )
    )
    r = r + 0.39269908169872414 if big else r
    r = 1.5707963267948966 - r if inv else r
    return -r if x < 0.0 else r


@jit
def _line_geometry(rows: int, cols: int, dx: float, dy: float, beta: float) -> tuple[bool, int, int, int, int, float]:
    """How lines at grid azimuth ``beta`` cross the grid.

    Returns (along_rows, n_major, n_minor, step_major, start, minor_per_major): lines advance one row (or
    column, whichever the direction is closer to) per step against the ray, so that the terrain already
    passed lies in the ray's direction.
    """
    dcol = math.sin(beta) * (1.0 if dx > 0 else -1.0)
    drow = math.cos(beta) * (1.0 if dy > 0 else -1.0)
    along_rows = abs(drow) >= abs(dcol)
    if along_rows:
        n_major, n_minor = rows, cols
        major_dir = -drow
        minor_per_major = -dcol / abs(drow)
    else:
        n_major, n_minor = cols, rows
        major_dir = -dcol
        minor_per_major = -drow / abs(dcol)
    step_major = 1 if major_dir > 0 else -1
    start = 0 if step_major > 0 else n_major - 1
    return along_rows, n_major, n_minor, step_major, start, minor_per_major


@jit
def _sample(z: FloatArray, along_rows: bool, mj: int, pos: float, n_minor: int) -> float:
    """Terrain at a line sample: linear between the two cell centres of row (or column) ``mj``."""
    n0 = int(math.floor(pos))
    f = pos - n0
    n1 = n0 + 1 if n0 + 1 < n_minor else n0
    zt: float
    if along_rows:
        zt = z[mj, n0] * (1.0 - f) + z[mj, n1] * f
    else:
        zt = z[n0, mj] * (1.0 - f) + z[n1, mj] * f
    return zt


@jit
def _inv_scale_xy(x: float, y: float, radius: float, polar: bool) -> float:
    """1 / k, the inverse point scale of the polar stereographic map (1 for other grids)."""
    if not polar:
        return 1.0
    e = (x * x + y * y) / (4.0 * radius * radius)  # k = 1 + e, e < 0.003 on the polar DEMs
    return 1.0 - e + e * e - e * e * e


@jit
def _inv_scale(
    along_rows: bool, mj: int, pos: float, x0: float, y0: float, dx: float, dy: float, radius: float, polar: bool
) -> float:
    if along_rows:
        return _inv_scale_xy(x0 + pos * dx, y0 + mj * dy, radius, polar)
    return _inv_scale_xy(x0 + mj * dx, y0 + pos * dy, radius, polar)


@jit
def _candidate(
    zz: Float32Array,
    ic: int,
    s: int,
    c: int,
    start: int,
    step_major: int,
    noff: IntArray,
    foff: FloatArray,
    n_minor: int,
    zo_c: float,
    kv_c: float,
    inv2r: float,
    inv_r: float,
) -> tuple[float, float, float]:
    """(numerator, denominator, height) of the selection slope of step ``s`` back (row ``ic``) on the ray of
    cell ``c``; denominator 0 if the ray is off the grid there."""
    n0 = c + noff[s]
    fp = foff[s]
    if n0 < 0 or n0 > n_minor - 1 or (n0 == n_minor - 1 and fp > 0.0):
        return 0.0, 0.0, 0.0
    n1 = n0 + 1 if n0 + 1 < n_minor else n0
    mj = start + ic * step_major
    za = zz[mj, n0]
    zt = za + (zz[mj, n1] - za) * fp
    d = s * kv_c
    return zt - zo_c - d * d * inv2r, d + d * zt * inv_r, zt


@jit(fastmath=FAST_MATH)
def _sweep_plane(
    z: Float32Array,
    zt_: Float32Array,
    obs_h: float,
    cell_m: float,
    x0: float,
    y0: float,
    dx: float,
    dy: float,
    beta: float,
    radius: float,
    polar: bool,
    near: int,
    tang: AnyIntArray,
    bmax: FloatArray,
    qrow: IntArray,
    frow: FloatArray,
    noff: IntArray,
    foff: FloatArray,
    zobs: FloatArray,
    kinv: FloatArray,
    best: FloatArray,
    zo32: Float32Array,
    kv32: Float32Array,
    ikv32: Float32Array,
    best32: Float32Array,
    res: Int16Array,
    out: Int16Array,
) -> None:
    """Horizons of every cell of ``z`` at grid azimuth ``beta`` [rad] into ``out`` (int16, 0.01 deg).

    Every cell's own ray is evaluated exactly at a few places only: its first ``near`` steps, and the steps
    from one to the other of the tangents found by the two grid lines that bracket the cell (widened by one
    step either side). The lines' hulls, built in one linear sweep, thus point each cell's ray to where its
    horizon lies; where the lines disagree, the cell's ray is searched between them, block by block, skipping
    every block of ``BLOCK`` steps whose highest terrain (``bmax``: per line and block, the higher of the two
    cell centres around each line sample, which bound the ray's samples between the two lines) cannot beat the
    best step found so far. ``zt_`` is ``z`` transposed: directions closer to the columns work on it, so that
    every access runs along memory.
    """
    rows, cols = z.shape
    along_rows, n_major, n_minor, step_major, start, mpm = _line_geometry(rows, cols, dx, dy, beta)
    zz = z if along_rows else zt_
    step_m = cell_m * math.sqrt(1.0 + mpm * mpm)
    inv2r = 1.0 / (2.0 * radius)
    inv_r = 1.0 / radius
    # row i of the lines: line j crosses it at j + qrow[i] + frow[i]; s steps back along a ray, the ray is
    # noff[s] + foff[s] cells across from where it started
    for i in range(n_major):
        p = i * mpm
        q = math.floor(p)
        qrow[i] = int(q)
        frow[i] = p - q
        o = -p
        qo = math.floor(o)
        noff[i] = int(qo)
        foff[i] = o - qo
    for m in range(n_major):
        tang[m, n_minor - 1] = -1
    hull_t = np.empty(n_major)
    hull_w = np.empty(n_major)
    hull_i = np.empty(n_major, dtype=np.int32)
    # the hull lags the line by half the near field: features just beyond the near field stay visible to the
    # lines whatever their lateral offset from the cell's own ray
    lag = max(1, near // 2)
    ring_t = np.empty(lag)
    ring_w = np.empty(lag)
    ring_i = np.empty(lag, dtype=np.int32)
    if mpm >= 0:
        j_lo = -int(math.ceil((n_major - 1) * mpm)) - 1
        j_hi = n_minor - 1
    else:
        j_lo = 0
        j_hi = n_minor - 1 + int(math.ceil((n_major - 1) * -mpm)) + 1
    for j in range(j_lo, j_hi + 1):
        jj = j - j_lo
        nh = 0
        t = 0.0
        count = 0
        head = 0
        tp = 0
        run = 0.0
        # first row where the line may be on the grid
        i_first = 0
        if mpm > 0.0 and j < 0:
            i_first = max(0, int(-j / mpm) - 2)
        elif mpm < 0.0 and j > n_minor - 1:
            i_first = max(0, int((j - (n_minor - 1)) / -mpm) - 2)
        for i in range(i_first, n_major):
            n0 = j + qrow[i]
            f = frow[i]
            if n0 < 0 or n0 > n_minor - 1 or (n0 == n_minor - 1 and f > 0.0):
                if count > 0:
                    break
                continue
            mj = start + i * step_major
            n1 = n0 + 1 if n0 + 1 < n_minor else n0
            za = zz[mj, n0]
            zb = zz[mj, n1]
            zt = za + (zb - za) * f
            # highest terrain near the line in this block of rows (bounds every ray between it and a neighbour)
            g = max(za, zb)
            run = g if (count == 0) | ((i & (BLOCK - 1)) == 0) else max(run, g)
            bmax[jj, i >> BLOCK_SHIFT] = run
            if count > 0:
                t += step_m * _inv_scale(along_rows, mj, n0 + f, x0, y0, dx, dy, radius, polar)
            # the sample ``lag`` steps back joins the hull now; the ring holds the last ``lag`` samples and
            # ``head`` is the oldest
            if count >= lag:
                tq = ring_t[head]
                wq = ring_w[head]
                while nh >= 2:
                    t1 = hull_t[nh - 2]
                    w1 = hull_w[nh - 2]
                    if (hull_t[nh - 1] - t1) * (wq - w1) - (hull_w[nh - 1] - w1) * (tq - t1) >= 0.0:
                        nh -= 1
                    else:
                        break
                hull_t[nh] = tq
                hull_w[nh] = wq
                hull_i[nh] = ring_i[head]
                nh += 1
            ring_t[head] = t
            ring_w[head] = zt - t * t * inv2r
            ring_i[head] = i
            head = head + 1 if head + 1 < lag else 0
            count += 1
            if nh > 0:
                # the tangent seen from this place on the line (raised by the observer height) serves both
                # cells around it: the sample is the right neighbour of cell n0 and the left one of cell n0 + 1.
                # Seen from the observer the hull's slopes rise then fall, so a local search from the previous
                # sample's tangent finds it (it rarely moves far).
                w_obs = zt - t * t * inv2r + obs_h
                if tp > nh - 1:
                    tp = nh - 1
                while tp < nh - 1 and _rises(hull_t, hull_w, tp, t, w_obs):
                    tp += 1
                while tp > 0 and not _rises(hull_t, hull_w, tp - 1, t, w_obs):
                    tp -= 1
                tang[i, n0] = hull_i[tp]  # int16 or int32 (the caller's choice)
            else:
                tang[i, n0] = -1
    scale = 180.0 / math.pi / HORIZON_SCALE_DEG
    # the near field runs in float32 (see the module docstring): twice the lanes per instruction
    one32 = np.float32(1.0)
    inv2r32 = np.float32(inv2r)
    inv_r32 = np.float32(inv_r)
    low32 = np.float32(-3.0e38)
    for i in range(n_major):
        mj = start + i * step_major
        f = frow[i]
        q = qrow[i]
        for c in range(n_minor):
            zo_c = zz[mj, c] + obs_h
            kv_c = _inv_scale(along_rows, mj, float(c), x0, y0, dx, dy, radius, polar) * step_m
            zobs[c] = zo_c
            kinv[c] = kv_c
            zo32[c] = zo_c
            kv32[c] = kv_c
            ikv32[c] = 1.0 / kv_c
            best32[c] = low32
        # near field along each cell's own ray; all cells of a row share the step's offset and weights.
        # Within a few km, (z_t - z_o - d^2/2R) / (d (1 + z_t/R)) is the exact tangent to 1e-5 relative; the
        # division by 1 + z_t/R (|z_t/R| < 0.005) is its series to second order (relative error < 1.3e-7) and
        # 1 / d = (1 / s) (1 / kv): no division in the loop.
        for s in range(1, near + 1):
            ii = i - s
            if ii < 0:
                break
            mjs = start + ii * step_major
            n_off = noff[s]
            fs = np.float32(foff[s])
            gs = one32 - fs
            s32 = np.float32(s)
            inv_s = np.float32(1.0 / s)
            c_lo = max(0, -n_off)
            c_hi = min(n_minor, n_minor - n_off - 1)
            # contiguous slices let LLVM vectorise this loop
            r0 = zz[mjs, c_lo + n_off : c_hi + n_off]
            r1 = zz[mjs, c_lo + n_off + 1 : c_hi + n_off + 1]
            zo = zo32[c_lo:c_hi]
            kv = kv32[c_lo:c_hi]
            ik = ikv32[c_lo:c_hi]
            bb = best32[c_lo:c_hi]
            for c in range(c_hi - c_lo):
                zt = r0[c] * gs + r1[c] * fs
                d = s32 * kv[c]
                e = zt * inv_r32
                slope = (zt - zo[c] - d * d * inv2r32) * (inv_s * ik[c]) * (one32 - e + e * e)
                bb[c] = max(bb[c], slope)
            if foff[s] == 0.0 and c_hi < n_minor and c_hi + n_off < n_minor and c_hi >= c_lo:
                c = c_hi
                zt = zz[mjs, c + n_off]
                d = s32 * kv32[c]
                e = zt * inv_r32
                slope = (zt - zo32[c] - d * d * inv2r32) * (inv_s * ikv32[c]) * (one32 - e + e * e)
                best32[c] = max(best32[c], slope)
        for c in range(n_minor):
            b = best32[c]
            best[c] = b if b > np.float32(-1.0e38) else -1e300
        for c in range(n_minor):
            # far field: the steps where the bracketing lines found their tangents, and their neighbours
            it_r = tang[i, c]
            it_l = tang[i, c - 1] if (f > 0.0 and c > 0) else it_r
            if it_l < 0:
                it_l = it_r
            if it_r < 0:
                it_r = it_l
            if it_r < 0:
                continue
            a = min(it_l, it_r)
            e = max(it_l, it_r)
            ic_lo = a
            ic_hi = min(i - near - 1, e)
            if ic_hi < ic_lo:
                continue
            # pick the best step (distances scaled by the point scale at the observer: along 100 km of ray
            # k changes by < 0.1 %, i.e. < 0.005 deg here), then measure the winner on the sphere. Slopes are
            # compared as fractions (num / den, den > 0) without dividing.
            zo_c = zobs[c]
            kv_c = kinv[c]
            near_c = best[c]
            bn = 0.0
            bd = 0.0
            s_far = -1
            z_far = 0.0
            # at the first tangent step and at the second (the same step again if the lines agree: cheaper than
            # a branch that the processor cannot predict)
            s1 = i - ic_lo
            num, den, zt = _candidate(
                zz, ic_lo, s1, c, start, step_major, noff, foff, n_minor, zo_c, kv_c, inv2r, inv_r
            )
            ic2 = min(e, ic_hi)
            s2 = i - ic2
            num2, den2, zt2 = _candidate(
                zz, ic2, s2, c, start, step_major, noff, foff, n_minor, zo_c, kv_c, inv2r, inv_r
            )
            ok1 = den > 0.0
            ok2 = den2 > 0.0
            second = ok2 & ((not ok1) | (num2 * den > num * den2))
            if ok1 | ok2:
                bn = num2 if second else num
                bd = den2 if second else den
                s_far = s2 if second else s1
                z_far = zt2 if second else zt
            # between them, block by block: skip a block whose highest terrain cannot beat the best so far
            g_lo = a + 1
            g_hi = min(ic_hi, e - 1)
            if g_hi >= g_lo:
                j_r = c - q
                j_l = j_r - 1 if f > 0.0 else j_r
                if j_l < j_lo:
                    j_l = j_r
                for blk in range(g_lo >> BLOCK_SHIFT, (g_hi >> BLOCK_SHIFT) + 1):
                    lo_b = max(g_lo, blk << BLOCK_SHIFT)
                    hi_b = min(g_hi, (blk << BLOCK_SHIFT) + BLOCK - 1)
                    zm = max(bmax[j_l - j_lo, blk], bmax[j_r - j_lo, blk])
                    aa = zm - zo_c
                    kz = 1.0 + zm * inv_r
                    d1 = (i - hi_b) * kv_c
                    d2 = (i - lo_b) * kv_c
                    # the selection slope (z - zo - d^2/2R) / (d (1 + z/R)) rises with z; over the block's
                    # distances [d1, d2] it is at most (A / d_A - d1 / 2R) / (1 + zm/R), A = zm - zo: skip the
                    # block if that cannot beat the best step so far
                    d_a = d1 if aa > 0.0 else d2
                    if s_far > 0 and (aa / d_a - d1 * inv2r) * bd < bn * kz:
                        continue
                    # nor if the exact elevation (which also rises with z) cannot beat the near field: the
                    # numerator is at most nb, the denominator d (1 + z/R) (1 - d^2/6R^2) lies within
                    # [d1 (1 - d1^2/6R^2), d2] (1 + zm/R)
                    nb = aa - d1 * d1 * inv2r * kz + d2 * d2 * d2 * d2 * inv_r * inv_r * inv_r / 24.0
                    den_b = d1 * (1.0 - d1 * d1 * inv_r * inv_r / 6.0) if nb > 0.0 else d2
                    if nb < near_c * den_b * kz:
                        continue
                    for ic in range(lo_b, hi_b + 1):
                        s = i - ic
                        num, den, zt = _candidate(
                            zz, ic, s, c, start, step_major, noff, foff, n_minor, zo_c, kv_c, inv2r, inv_r
                        )
                        if den > 0.0 and (s_far < 0 or num * bd > bn * den):
                            bn = num
                            bd = den
                            s_far = s
                            z_far = zt
            if s_far > 0:
                # the winner's exact elevation: add the terms the selection's closed form leaves out
                # (cos g = 1 - g^2/2 + g^4/24, sin g = g (1 - g^2/6), g = d/R)
                d = s_far * kv_c
                g2 = d * d * inv_r * inv_r
                num = z_far - zo_c - d * d * inv2r - z_far * g2 * 0.5 + radius * g2 * g2 / 24.0
                best[c] = max(best[c], num / (d * (1.0 + z_far * inv_r) * (1.0 - g2 / 6.0)))
        # elevation angles, stored in hundredths of a degree (a loop LLVM vectorises)
        dst = out[mj] if along_rows else res[i]
        for c in range(n_minor):
            b = best[c]
            v = math.floor(_atan_select(b) * scale + 0.5)
            dst[c] = NO_HORIZON if b < -1e299 else np.int16(v)
    if not along_rows:
        # transposed in tiles of 32 major steps: each output row then receives 64 contiguous bytes at a time
        for i0 in range(0, n_major, 32):
            i1 = min(n_major, i0 + 32)
            if step_major > 0:
                for c in range(n_minor):
                    orow = out[c]
                    for i in range(i0, i1):
                        orow[start + i] = res[i, c]
            else:
                for c in range(n_minor):
                    orow = out[c]
                    for i in range(i0, i1):
                        orow[start - i] = res[i, c]


@jit(parallel=True)
def _sweep_all(
    z: Float32Array,
    zt_: Float32Array,
    obs_h: float,
    cell_m: float,
    x0: float,
    y0: float,
    dx: float,
    dy: float,
    betas: FloatArray,
    radius: float,
    polar: bool,
    near: int,
    tangs: AnyIntArray,
    out: Int16Array,
) -> None:
    rows, cols = z.shape
    nb = betas.shape[0]
    big = max(rows, cols)
    n_workers = tangs.shape[0]
    # one set of work buffers per worker, reused across its azimuths (fresh pages cost page faults)
    for w in prange(n_workers):
        tang = tangs[w]
        res = np.empty(big * big, dtype=np.int16)
        bmax = np.full((rows + cols + 3) * ((big >> BLOCK_SHIFT) + 1), -1e300)
        iv = np.empty((2, big), dtype=np.int64)
        v = np.empty((5, big))
        v32 = np.empty((4, big), dtype=np.float32)
        for k in range(w, nb, n_workers):
            beta = betas[k]
            along_rows = abs(math.cos(beta)) >= abs(math.sin(beta))
            n_major, n_minor = (rows, cols) if along_rows else (cols, rows)
            _sweep_plane(
                z,
                zt_,
                obs_h,
                cell_m,
                x0,
                y0,
                dx,
                dy,
                beta,
                radius,
                polar,
                near,
                tang[: n_major * n_minor].reshape((n_major, n_minor)),
                bmax.reshape((rows + cols + 3, (big >> BLOCK_SHIFT) + 1)),
                iv[0],
                v[0],
                iv[1],
                v[1],
                v[2, :n_minor],
                v[3, :n_minor],
                v[4, :n_minor],
                v32[0, :n_minor],
                v32[1, :n_minor],
                v32[2, :n_minor],
                v32[3, :n_minor],
                res[: n_major * n_minor].reshape((n_major, n_minor)),
                out[k],
            )


def horizon_sweep(
    z: npt.ArrayLike,
    cell_m: float,
    x0: float,
    y0: float,
    dx: float,
    dy: float,
    grid_azimuths_rad: npt.ArrayLike,
    observer_height_m: float,
    radius_m: float,
    polar: bool,
    near_steps: int = DEFAULT_NEAR_STEPS,
    out: Int16Array | None = None,
) -> Int16Array:
    """Horizon map by convex-hull sweeps: int16 [0.01 deg], shape (n_azimuths, rows, cols).

    Parameters
    ----------
    z : (rows, cols) float64 heights above the sphere [m], all finite.
    cell_m : ground size of a cell at the projection's true-scale point [m] (square cells).
    x0, y0, dx, dy : centre of cell (0, 0) and the steps [m] of the map grid.
    grid_azimuths_rad : azimuths measured from the map's +y toward +x [rad].
    observer_height_m : observer height above the ground [m].
    radius_m : sphere radius [m].
    polar : True for a polar stereographic grid (distances corrected by the point scale).
    near_steps : steps along each ray marched exactly from the cell centre before the hull takes over.
    out : where to write the map (C-contiguous int16 of that shape, e.g. a slice of a larger cube); returned.
    """
    if int(near_steps) < 1:
        raise ValueError("near_steps must be at least 1")
    z = np.asarray(z)
    if not np.isfinite(z).all():
        raise ValueError("horizon_sweep needs finite heights; fill no-data first")
    # heights are read as float32 (0.5 mm steps below 8 km: 2e-6 rad at one cell; LOLA DEMs are float32) and the
    # lines' tangent steps as int16 where the grid allows: half the memory traffic, the arithmetic stays float64
    z32 = np.ascontiguousarray(z, dtype=np.float32)
    betas = np.ascontiguousarray(grid_azimuths_rad, dtype=np.float64)
    shape = (betas.size,) + z.shape
    if out is None:
        out = np.empty(shape, dtype=np.int16)
    elif out.shape != shape or out.dtype != np.int16 or not out.flags.c_contiguous or not out.flags.writeable:
        raise ValueError(f"out must be a writeable C-contiguous int16 array of shape {shape}")
    big = max(z.shape)
    n_workers = max(1, min(threads(), betas.size))
    tangs = np.empty((n_workers, big * big), dtype=np.int16 if big < 32000 else np.int32)
    _sweep_all(
        z32,
        np.ascontiguousarray(z32.T),
        float(observer_height_m),
        float(cell_m),
        float(x0),
        float(y0),
        float(dx),
        float(dy),
        betas,
        float(radius_m),
        bool(polar),
        int(near_steps),
        tangs,
        out,
    )
    return out


@jit(parallel=True)
def _ray_march(
    z: FloatArray,
    obs_h: float,
    cell_m: float,
    x0: float,
    y0: float,
    dx: float,
    dy: float,
    rows_idx: IntArray,
    cols_idx: IntArray,
    betas: FloatArray,
    radius: float,
    polar: bool,
    out: FloatArray,
) -> None:
    rows, cols = z.shape
    npts = rows_idx.shape[0]
    for p in prange(npts):
        for k in range(betas.shape[0]):
            along_rows, n_major, n_minor, step_major, start, mpm = _line_geometry(rows, cols, dx, dy, betas[k])
            step_m = cell_m * math.sqrt(1.0 + mpm * mpm)
            if along_rows:
                mj0, c0 = rows_idx[p], cols_idx[p]
                z_obs = z[mj0, c0] + obs_h
            else:
                mj0, c0 = cols_idx[p], rows_idx[p]
                z_obs = z[c0, mj0] + obs_h
            i0 = (mj0 - start) * step_major
            best = -math.pi / 2
            found = False
            t = 0.0
            for s in range(1, i0 + 1):
                pos = c0 - s * mpm
                if pos < 0.0 or pos > n_minor - 1:
                    break
                mj = start + (i0 - s) * step_major
                zt = _sample(z, along_rows, mj, pos, n_minor)
                t += step_m * _inv_scale(along_rows, mj, pos, x0, y0, dx, dy, radius, polar)
                el = _exact_elevation(z_obs, zt, t, radius)
                if el > best:
                    best = el
                found = True
            out[p, k] = best if found else np.nan


def horizon_ray_march(
    z: npt.ArrayLike,
    cell_m: float,
    x0: float,
    y0: float,
    dx: float,
    dy: float,
    rows_idx: npt.ArrayLike,
    cols_idx: npt.ArrayLike,
    grid_azimuths_rad: npt.ArrayLike,
    observer_height_m: float,
    radius_m: float,
    polar: bool,
) -> FloatArray:
    """Brute-force horizons [rad] at selected cells: every ray marched from the cell centre to the grid edge.

    The reference for :func:`horizon_sweep`. Terrain is sampled where the ray crosses each row (or column,
    for directions closer to the rows), linearly between the two cell centres there, as the sweep samples
    its lines; elevation angles are exact on the sphere, distances true (map length / point scale). Returns
    shape (n_points, n_azimuths); NaN where the ray leaves the grid at once. Cost: O(grid size) per ray.
    """
    z = np.ascontiguousarray(z, dtype=np.float64)
    ri = np.ascontiguousarray(rows_idx, dtype=np.int64)
    ci = np.ascontiguousarray(cols_idx, dtype=np.int64)
    betas = np.ascontiguousarray(grid_azimuths_rad, dtype=np.float64)
    out = np.empty((ri.size, betas.size))
    _ray_march(
        z,
        float(observer_height_m),
        float(cell_m),
        float(x0),
        float(y0),
        float(dx),
        float(dy),
        ri,
        ci,
        betas,
        float(radius_m),
        bool(polar),
        out,
    )
    return out


def to_degrees(stored: npt.ArrayLike) -> Float32Array:
    """Stored int16 horizons -> degrees (float32), NaN where there is no terrain."""
    a = np.asarray(stored)
    deg = a.astype(np.float32) * np.float32(HORIZON_SCALE_DEG)
    return np.where(a == NO_HORIZON, np.float32(np.nan), deg)
