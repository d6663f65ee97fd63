"""Sun and Earth visibility over a horizon map: disk fractions, time fractions and dark runs per cell.

Horizon maps come from :func:`ilrs.core.horizon.horizon_sweep`: int16 hundredths of a degree at ``n_az``
GRID azimuths ``k * 360 / n_az`` (from the map's +y axis toward +x) of a south polar stereographic map
(IAU_2015:30135). ``NO_HORIZON`` (-9000) reads as -90 deg, i.e. no obstruction inside the grid: the caller
fills the far field before calling.

Geometry. A cell with outward unit radial vector ``u`` in MOON_ME sees a direction ``s`` at elevation
``asin(s . u)`` and at grid azimuth ``atan2(s . Ge, s . Gn)``, where ``Gn`` and ``Ge`` are the unit tangent
vectors along which the map's +y and +x axes point (:func:`cell_frames`). At the pole these are MOON_ME +x
and +y, so the grid azimuth there is ``beta0 = atan2(s_y, s_x)``. Elsewhere it differs from ``beta0`` by
``delta`` with ``tan(delta) = (ge cos beta0 - gn sin beta0) / (ge sin beta0 + gn cos beta0)``. For a cell
at angle ``theta`` from the south pole and a direction at latitude ``eps`` in MOON_ME,
``|delta| <= asin((1 - cos theta) + sin theta |tan eps|)`` (the direction's horizontal vector is the pole's
plus a perturbation of at most that length); on the 240 m south-pole DEM (``theta`` <= 8.6 deg) and for the
Sun (``|eps|`` <= 1.6 deg) this is 0.88 deg, and the largest value found over 2e5 random cases is 0.55 deg.

Method. Every (cell, step) pair is first decided by bounds alone: per cell, the largest and smallest stored
horizon over each azimuth sector of width ``360 / n_sectors`` deg (widened by the cell's ``delta`` bound and
by the neighbouring stored azimuth that interpolation reaches), kept as sines of ``h + r_max`` and
``h - r_max``; per step, the sector of ``beta0``; per pair, the sine of the elevation (three multiply-adds).
Pairs between the sector's bounds (4 % of them for the Sun over a year on the 240 m DEM) get the cell's own
grid azimuth, ``beta0 + delta`` with ``delta = atan(q)`` by its series to ``q**5`` (error below
``|q|**7 / 7`` < 1e-13 rad on that DEM; ``atan2`` where a cell's bound exceeds 0.05 rad), and are bounded
again by the two stored azimuths around it; only the rest (2.8 %) get the interpolated horizon and the disk
fraction. The loop runs cell-major over time, so a cell's profile and bounds stay in L1 while the per-step
arrays stream from L2.

The solar disk fraction is the flat-horizon, small-disk formula (:func:`disk_fraction`). The Sun's
direction is taken from the Moon's centre: its parallax across the Moon is below ``R / 1 au`` = 1.2e-5 rad.
The Earth is 'visible' when its CENTRE is above the terrain horizon (its 1 deg disk is not integrated);
its parallax (up to 0.28 deg, in elevation only) is applied exactly: the cell sees it from ``(R + z + h) u``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import numpy.typing as npt

from ilrs.constants import MOON_RADIUS_M
from ilrs.core._jit import jit, prange
from ilrs.core.arrays import AnyFloatArray, BoolArray, Float32Array, FloatArray, Int16Array, Int32Array
from ilrs.core.horizon import HORIZON_SCALE_DEG, NO_HORIZON

__all__ = [
    "disk_fraction",
    "disk_fraction_scalar",
    "cell_frames",
    "grid_azimuth_elevation",
    "to_cell_major",
    "sun_visibility_map",
    "earth_visibility_map",
    "point_series",
    "DEFAULT_ROWS_PER_CHUNK",
    "MAX_SECTORS",
]

#: Rows handed to one numba call between two ``progress`` callbacks.
DEFAULT_ROWS_PER_CHUNK = 64
#: Upper bound on azimuth sectors per cell: with 360 azimuths, a cell's bounds take 2 x 720 float64 (11.5 kB, in L1).
MAX_SECTORS = 360

_STORED_TO_RAD = HORIZON_SCALE_DEG * math.pi / 180.0
# Stored values -9000 .. 9000 (-90 .. 90 deg) index lookup tables of 18001 entries; NO_HORIZON is -9000, so it
# reads as -90 deg through the same scale as any other horizon.
_LUT_OFFSET = -int(NO_HORIZON)
_HALF_PI = 0.5 * math.pi
_TWO_PI = 2.0 * math.pi
_SERIES_MAX_Q = 0.05  # |delta| bound [rad] below which atan(q) is taken by its series (error < q**7/7 = 1e-10)


# --------------------------------------------------------------------------------------------- disk fraction


def disk_fraction(elev_rad: npt.ArrayLike, horizon_rad: npt.ArrayLike, radius_rad: npt.ArrayLike) -> FloatArray:
    """Visible fraction of a disk above a horizon line (flat-horizon, small-disk approximation).

    With ``x = (elev - horizon) / radius`` clipped to [-1, 1], the part of the disk above a straight line at
    distance ``x * radius`` below its centre is ``1/2 + (x sqrt(1 - x**2) + asin(x)) / pi`` (circular
    segment area). A zero radius gives 1 above the horizon, 0 on or below it.

    Parameters
    ----------
    elev_rad : array_like
        Elevation of the disk's centre [rad].
    horizon_rad : array_like
        Elevation of the horizon at the disk's azimuth [rad].
    radius_rad : array_like
        Angular radius of the disk [rad], >= 0.

    Returns
    -------
    numpy.ndarray
        Visible fraction [-] in [0, 1], float64, the broadcast shape of the inputs.
    """
    e, h, r = np.broadcast_arrays(*(np.asarray(a, dtype=np.float64) for a in (elev_rad, horizon_rad, radius_rad)))
    d = e - h
    with np.errstate(divide="ignore", invalid="ignore"):
        x = np.where(r > 0.0, d / np.where(r > 0.0, r, 1.0), np.where(d > 0.0, 1.0, -1.0))
    x = np.clip(x, -1.0, 1.0)
    return 0.5 + (x * np.sqrt(1.0 - x * x) + np.arcsin(x)) / np.pi


@jit
def disk_fraction_scalar(elev_rad: float, horizon_rad: float, radius_rad: float) -> float:
    """Numba twin of :func:`disk_fraction` for scalars [rad] -> [-]."""
    d = elev_rad - horizon_rad
    if radius_rad > 0.0:
        x = d / radius_rad
    else:
        x = 1.0 if d > 0.0 else -1.0
    if x >= 1.0:
        return 1.0
    if x <= -1.0:
        return 0.0
    return 0.5 + (x * math.sqrt(1.0 - x * x) + math.asin(x)) / math.pi


# --------------------------------------------------------------------------------------------- frames


def cell_frames(lat_rad: npt.ArrayLike, lon_rad: npt.ArrayLike) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Local frame of south polar stereographic map cells, in MOON_ME.

    Parameters
    ----------
    lat_rad, lon_rad : array_like
        Planetocentric latitude and east longitude [rad] (south of the equator for a meaningful map frame).

    Returns
    -------
    up : numpy.ndarray, shape (..., 3)
        Outward unit radial vector ``u`` [-].
    map_y : numpy.ndarray, shape (..., 3)
        Unit tangent vector toward the map's +y axis, ``(1 - ux**2/(1-uz), -ux uy/(1-uz), ux)`` [-].
    map_x : numpy.ndarray, shape (..., 3)
        Unit tangent vector toward the map's +x axis, ``(-ux uy/(1-uz), 1 - uy**2/(1-uz), uy)`` [-].
    """
    lat = np.asarray(lat_rad, dtype=np.float64)
    lon = np.asarray(lon_rad, dtype=np.float64)
    cl = np.cos(lat)
    ux, uy, uz = cl * np.cos(lon), cl * np.sin(lon), np.sin(lat)
    w = 1.0 / (1.0 - uz)
    up = np.stack([ux, uy, uz], axis=-1)
    map_y = np.stack([1.0 - ux * ux * w, -ux * uy * w, ux], axis=-1)
    map_x = np.stack([-ux * uy * w, 1.0 - uy * uy * w, uy], axis=-1)
    return up, map_y, map_x


def grid_azimuth_elevation(
    direction_me: npt.ArrayLike, lat_rad: npt.ArrayLike, lon_rad: npt.ArrayLike
) -> tuple[FloatArray, FloatArray]:
    """Exact grid azimuth and elevation of a direction seen from map cells (the reference method).

    Parameters
    ----------
    direction_me : array_like, shape (..., 3)
        Direction in MOON_ME (any length) [-].
    lat_rad, lon_rad : array_like, broadcastable with ``direction_me[..., 0]``
        Planetocentric latitude and east longitude of the cells [rad].

    Returns
    -------
    grid_azimuth : numpy.ndarray
        From the map's +y axis toward +x, in [0, 2 pi) [rad].
    elevation : numpy.ndarray
        Above the plane normal to ``u`` [rad].
    """
    up, map_y, map_x = cell_frames(lat_rad, lon_rad)
    s = np.asarray(direction_me, dtype=np.float64)
    s = s / np.linalg.norm(s, axis=-1, keepdims=True)
    az = np.mod(np.arctan2(np.sum(s * map_x, axis=-1), np.sum(s * map_y, axis=-1)), _TWO_PI)
    el = np.arcsin(np.clip(np.sum(s * up, axis=-1), -1.0, 1.0))
    return az, el


# --------------------------------------------------------------------------------------------- transpose


@jit(parallel=True)
def _transpose_kernel(src: npt.NDArray[Any], dst: npt.NDArray[Any], block: int) -> None:
    n_az, rows, cols = src.shape
    for r in prange(rows):
        for c0 in range(0, cols, block):
            c1 = min(c0 + block, cols)
            for a0 in range(0, n_az, block):
                a1 = min(a0 + block, n_az)
                for c in range(c0, c1):
                    for a in range(a0, a1):
                        dst[r, c, a] = src[a, r, c]


def to_cell_major(hmap: npt.ArrayLike) -> npt.NDArray[Any]:
    """Horizon map (n_az, rows, cols) -> (rows, cols, n_az), C-contiguous, same dtype.

    Blocked, parallel over rows: a cell's profile becomes contiguous for the visibility kernels. A window of a
    larger map (a strided view) is read in place: no contiguous copy of it (0.87 GB for the site maps' window).
    """
    src = np.asarray(hmap)
    if src.ndim != 3:
        raise ValueError(f"a horizon map has 3 dimensions (n_az, rows, cols), got shape {src.shape}")
    if src.strides[2] != src.itemsize or min(src.strides) < 0:
        src = np.ascontiguousarray(src)
    dst = np.empty((src.shape[1], src.shape[2], src.shape[0]), dtype=src.dtype)
    _transpose_kernel(src, dst, 64)
    return dst


# --------------------------------------------------------------------------------------------- shared parts


@jit
def _cell_bounds(
    prof: Int16Array,
    n_sec: int,
    inv_step: float,
    sec_w: float,
    dmax: float,
    hi_lut: FloatArray,
    lo_lut: FloatArray,
    work: FloatArray,
) -> None:
    """Sine bounds of one cell's horizon profile into ``work`` (shape (n_az + n_sec, 2)).

    Rows ``i < n_az``: ``hi_lut`` and ``lo_lut`` of stored horizon ``i``. Row ``n_az + k``: the largest
    ``hi_lut`` and smallest ``lo_lut`` over the stored azimuths that interpolation can reach for a pole
    azimuth in sector ``k`` and a cell azimuth within ``dmax`` [rad] of it.
    """
    n_az = prof.shape[0]
    for i in range(n_az):
        v = min(max(int(prof[i]), -_LUT_OFFSET), _LUT_OFFSET) + _LUT_OFFSET
        work[i, 0] = hi_lut[v]
        work[i, 1] = lo_lut[v]
    for k in range(n_sec):
        i_lo = int(math.floor((k * sec_w - dmax) * inv_step))
        i_hi = int(math.ceil(((k + 1) * sec_w + dmax) * inv_step))
        if i_hi - i_lo + 1 >= n_az:
            i_lo = 0
            i_hi = n_az - 1
        hi = -2.0
        lo = 2.0
        for i in range(i_lo, i_hi + 1):
            j = i
            if j < 0:
                j += n_az
            elif j >= n_az:
                j -= n_az
            hi = max(hi, work[j, 0])
            lo = min(lo, work[j, 1])
        work[n_az + k, 0] = hi
        work[n_az + k, 1] = lo


@jit(inline="always")
def _bracket(beta: float, inv_step: float, n_az: int) -> tuple[int, int, float]:
    """Stored azimuths (i0, i1) around grid azimuth ``beta`` [rad] and the weight f of i1 [-]."""
    pos = beta * inv_step
    if pos < 0.0:
        pos += n_az
    elif pos >= n_az:
        pos -= n_az
    i0 = int(pos)
    if i0 >= n_az:
        i0 = n_az - 1
    i1 = i0 + 1 if i0 + 1 < n_az else 0
    return i0, i1, pos - i0


@jit(inline="always")
def _lerp(prof: Int16Array, i0: int, i1: int, f: float) -> float:
    """Horizon [rad] between stored azimuths i0 and i1 at weight f."""
    v0 = float(prof[i0])
    return (v0 + f * (float(prof[i1]) - v0)) * _STORED_TO_RAD


@jit(inline="always")
def _cell_azimuth(
    gx: float,
    gy: float,
    gz: float,
    ex: float,
    ey: float,
    ez: float,
    sx: float,
    sy: float,
    sz: float,
    cb0: float,
    sb0: float,
    b0: float,
    series: bool,
) -> float:
    """Grid azimuth [rad] at the cell of direction (sx, sy, sz), whose pole azimuth is b0 = atan2(sy, sx)."""
    gn = sx * gx + sy * gy + sz * gz
    ge = sx * ex + sy * ey + sz * ez
    if series:
        q = (ge * cb0 - gn * sb0) / (ge * sb0 + gn * cb0)
        q2 = q * q
        return b0 + q * (1.0 - q2 * (1.0 / 3.0 - q2 * 0.2))
    return math.atan2(ge, gn)


@jit
def _frame(lat: float, lon: float) -> tuple[float, float, float, float, float, float, float, float, float]:
    cl = math.cos(lat)
    ux = cl * math.cos(lon)
    uy = cl * math.sin(lon)
    uz = math.sin(lat)
    w = 1.0 / (1.0 - uz)
    return ux, uy, uz, 1.0 - ux * ux * w, -ux * uy * w, ux, -ux * uy * w, 1.0 - uy * uy * w, uy


# --------------------------------------------------------------------------------------------- Sun


@jit
def _cell_delta_bound(ux: float, uy: float, uz: float, tan_eps_max: float) -> float:
    """Bound [rad] on |cell grid azimuth - pole grid azimuth| (module docstring), with a rounding margin."""
    m = (1.0 + uz) + math.sqrt(ux * ux + uy * uy) * tan_eps_max
    return math.asin(m) + 1e-9 if m < 1.0 else math.pi


@jit(inline="always")
def _sun_step(
    prof: Int16Array,
    work: FloatArray,
    n_az: int,
    k: int,
    se: float,
    gx: float,
    gy: float,
    gz: float,
    ex: float,
    ey: float,
    ez: float,
    sx: float,
    sy: float,
    sz: float,
    cb0: float,
    sb0: float,
    b0: float,
    rad: float,
    inv_step: float,
    series: bool,
) -> tuple[bool, float]:
    """(any part visible, visible disk fraction) of one step at one cell; ``se`` = sin(elevation)."""
    if se >= work[n_az + k, 0]:
        return True, 1.0
    if se <= work[n_az + k, 1]:
        return False, 0.0
    # between the sector's bounds: bracket the cell's own azimuth, bound again, then compute
    i0, i1, f = _bracket(_cell_azimuth(gx, gy, gz, ex, ey, ez, sx, sy, sz, cb0, sb0, b0, series), inv_step, n_az)
    if se >= max(work[i0, 0], work[i1, 0]):
        return True, 1.0
    if se <= min(work[i0, 1], work[i1, 1]):
        return False, 0.0
    x = (math.asin(min(max(se, -1.0), 1.0)) - _lerp(prof, i0, i1, f)) / rad
    if x >= 1.0:
        return True, 1.0
    if x <= -1.0:
        return False, 0.0
    return True, max(0.0, 0.5 + (x * math.sqrt(1.0 - x * x) + math.asin(x)) / math.pi)


@jit(parallel=True)
def _sun_kernel(
    hz: Int16Array,
    lat: FloatArray,
    lon: FloatArray,
    r0: int,
    r1: int,
    sx: FloatArray,
    sy: FloatArray,
    sz: FloatArray,
    cb0: FloatArray,
    sb0: FloatArray,
    b0: FloatArray,
    rad: FloatArray,
    sec: Int32Array,
    n_sec: int,
    tan_eps_max: float,
    hi_lut: FloatArray,
    lo_lut: FloatArray,
    out_vis: Float32Array,
    out_frac: Float32Array,
    out_dark: Int32Array,
    out_lit: BoolArray,
    restart: BoolArray,
) -> None:
    rows, cols, n_az = hz.shape
    n_t = sx.shape[0]
    inv_step = n_az / _TWO_PI
    sec_w = _TWO_PI / n_sec
    for p in prange((r1 - r0) * cols):
        r = r0 + p // cols
        c = p % cols
        prof = hz[r, c]
        ux, uy, uz, gx, gy, gz, ex, ey, ez = _frame(lat[r, c], lon[r, c])
        dmax = _cell_delta_bound(ux, uy, uz, tan_eps_max)
        series = dmax < _SERIES_MAX_Q
        work = np.empty((n_az + n_sec, 2))
        _cell_bounds(prof, n_sec, inv_step, sec_w, dmax, hi_lut, lo_lut, work)
        n_vis = 0
        f_sum = 0.0
        run = 0
        longest = 0
        for t in range(n_t):
            if restart[t]:
                run = 0
            se = sx[t] * ux + sy[t] * uy + sz[t] * uz
            visible, fr = _sun_step(
                prof,
                work,
                n_az,
                sec[t],
                se,
                gx,
                gy,
                gz,
                ex,
                ey,
                ez,
                sx[t],
                sy[t],
                sz[t],
                cb0[t],
                sb0[t],
                b0[t],
                rad[t],
                inv_step,
                series,
            )
            if visible:
                n_vis += 1
                f_sum += fr
                run = 0
            else:
                run += 1
                longest = max(longest, run)
        out_vis[r, c] = n_vis / n_t
        out_frac[r, c] = f_sum / n_t
        out_dark[r, c] = longest
        out_lit[r, c] = n_vis > 0


def _check_cells(
    horizons: npt.ArrayLike, lat_rad: npt.ArrayLike, lon_rad: npt.ArrayLike
) -> tuple[Int16Array, FloatArray, FloatArray]:
    hz = np.asarray(horizons)
    if hz.ndim != 3 or hz.dtype != np.int16:
        raise ValueError(f"horizons must be int16 of shape (rows, cols, n_az), got {hz.dtype} {hz.shape}")
    if hz.shape[2] < 2:
        raise ValueError("horizons need at least 2 azimuths")
    hz = np.ascontiguousarray(hz)
    lat = np.ascontiguousarray(lat_rad, dtype=np.float64)
    lon = np.ascontiguousarray(lon_rad, dtype=np.float64)
    if lat.shape != hz.shape[:2] or lon.shape != hz.shape[:2]:
        raise ValueError(f"lat_rad and lon_rad must have shape {hz.shape[:2]}, got {lat.shape} and {lon.shape}")
    return hz, lat, lon


def _step_arrays(direction_me: npt.ArrayLike, n_sec: int) -> tuple[list[FloatArray], Int32Array, float, FloatArray]:
    """Per-step unit direction, its pole grid azimuth b0 in [0, 2 pi) with cos/sin, and b0's sector."""
    d = np.asarray(direction_me, dtype=np.float64)
    if d.ndim != 2 or d.shape[1] != 3 or d.shape[0] == 0:
        raise ValueError(f"directions must have shape (T, 3) with T >= 1, got {d.shape}")
    norm = np.linalg.norm(d, axis=1)
    if not (np.isfinite(norm).all() and (norm > 0).all()):
        raise ValueError("directions must be finite and non-zero")
    s = d / norm[:, None]
    hxy = np.hypot(s[:, 0], s[:, 1])
    b0 = np.mod(np.arctan2(s[:, 1], s[:, 0]), _TWO_PI)
    with np.errstate(divide="ignore", invalid="ignore"):
        cb0 = np.where(hxy > 0, s[:, 0] / hxy, 1.0)
        sb0 = np.where(hxy > 0, s[:, 1] / hxy, 0.0)
        tan_eps_max = float(np.max(np.abs(s[:, 2]) / hxy))
    sec = np.minimum((b0 / (_TWO_PI / n_sec)).astype(np.int32), n_sec - 1)
    cols = [np.ascontiguousarray(a) for a in (s[:, 0], s[:, 1], s[:, 2], cb0, sb0, b0)]
    return cols, np.ascontiguousarray(sec), (tan_eps_max if np.isfinite(tan_eps_max) else np.inf), norm


def _stored_horizons_rad() -> AnyFloatArray:
    """Every storable horizon, -90 .. 90 deg, in stored order [rad] (the lookup tables' argument)."""
    return np.arange(-_LUT_OFFSET, _LUT_OFFSET + 1) * _STORED_TO_RAD


def _sine_luts(margin_rad: float) -> tuple[FloatArray, FloatArray]:
    """sin(h + margin) and sin(h - margin) for every stored horizon h, clipped to [-pi/2, pi/2]."""
    h = _stored_horizons_rad()
    return (np.sin(np.minimum(h + margin_rad, _HALF_PI)), np.sin(np.maximum(h - margin_rad, -_HALF_PI)))


def _chunks(rows: int, rows_per_chunk: int, progress: Callable[[float], object] | None) -> Iterator[tuple[int, int]]:
    step = max(1, int(rows_per_chunk))
    if progress is not None:
        progress(0.0)
    for r0 in range(0, rows, step):
        r1 = min(rows, r0 + step)
        yield r0, r1
        if progress is not None:
            progress(r1 / rows)


def sun_visibility_map(
    horizons_cell_major: npt.ArrayLike,
    lat_rad: npt.ArrayLike,
    lon_rad: npt.ArrayLike,
    sun_dir_me: npt.ArrayLike,
    sun_angular_radius_rad: npt.ArrayLike,
    progress: Callable[[float], object] | None = None,
    *,
    rows_per_chunk: int = DEFAULT_ROWS_PER_CHUNK,
    n_sectors: int | None = None,
    segment_starts: npt.ArrayLike = (),
) -> dict[str, np.ndarray]:
    """Sunlight statistics of every map cell over a time series of Sun directions.

    Parameters
    ----------
    horizons_cell_major : numpy.ndarray of int16, shape (rows, cols, n_az)
        Horizon elevations [0.01 deg] at grid azimuths ``k * 360 / n_az`` (:func:`to_cell_major` of a
        :func:`~ilrs.core.horizon.horizon_sweep` map); ``NO_HORIZON`` counts as -90 deg.
    lat_rad, lon_rad : numpy.ndarray, shape (rows, cols)
        Planetocentric latitude and east longitude of the cell centres [rad], south polar map.
    sun_dir_me : numpy.ndarray, shape (T, 3)
        Direction of the Sun from the Moon's centre in MOON_ME (normalised here) [-].
    sun_angular_radius_rad : float or numpy.ndarray, shape (T,)
        Apparent angular radius of the Sun [rad].
    progress : callable, optional
        Called with the fraction done, 0 .. 1 [-], before the first and after every chunk of rows.
    rows_per_chunk : int
        Rows per numba call (the granularity of ``progress``).
    n_sectors : int, optional
        Azimuth sectors of the per-cell bounds (default ``min(n_az, MAX_SECTORS)``); speed only.
    segment_starts : sequence of int, optional
        Steps where a new stretch of time begins (the series is several sampled windows end to end): a dark run
        does not continue across them. The cells' bounds are computed once for all the windows.

    Returns
    -------
    dict of numpy.ndarray, shape (rows, cols)
        ``sun_visible_fraction`` (float32, [-]): fraction of steps with any part of the disk above the
        horizon; ``mean_disk_fraction`` (float32, [-]): mean visible fraction of the disk;
        ``longest_dark_steps`` (int32, [steps]): longest run of consecutive steps with the disk fully
        hidden, within a segment (T for a cell never lit in one stretch); ``ever_lit`` (bool).
    """
    hz, lat, lon = _check_cells(horizons_cell_major, lat_rad, lon_rad)
    rows, cols, n_az = hz.shape
    n_sec = int(n_sectors) if n_sectors is not None else min(n_az, MAX_SECTORS)
    if n_sec < 1:
        raise ValueError("n_sectors must be at least 1")
    (sx, sy, sz, cb0, sb0, b0), sec, tan_eps_max, _ = _step_arrays(sun_dir_me, n_sec)
    n_t = sx.size
    rad = np.ascontiguousarray(np.broadcast_to(np.asarray(sun_angular_radius_rad, dtype=np.float64), (n_t,)))
    if not (np.isfinite(rad).all() and (rad >= 0).all()):
        raise ValueError("sun_angular_radius_rad must be finite and >= 0")
    hi_lut, lo_lut = _sine_luts(float(rad.max()))
    restart = np.zeros(n_t, dtype=np.bool_)
    starts = np.asarray(segment_starts, dtype=np.int64)
    if starts.size and (starts.min() < 0 or starts.max() >= n_t):
        raise ValueError(f"segment_starts must be step indices in [0, {n_t}), got {starts.min()}..{starts.max()}")
    restart[starts] = True
    out_vis = np.empty((rows, cols), dtype=np.float32)
    out_frac = np.empty((rows, cols), dtype=np.float32)
    out_dark = np.empty((rows, cols), dtype=np.int32)
    out_lit = np.empty((rows, cols), dtype=np.bool_)
    for r0, r1 in _chunks(rows, rows_per_chunk, progress):
        _sun_kernel(
            hz,
            lat,
            lon,
            r0,
            r1,
            sx,
            sy,
            sz,
            cb0,
            sb0,
            b0,
            rad,
            sec,
            n_sec,
            tan_eps_max,
            hi_lut,
            lo_lut,
            out_vis,
            out_frac,
            out_dark,
            out_lit,
            restart,
        )
    return {
        "sun_visible_fraction": out_vis,
        "mean_disk_fraction": out_frac,
        "longest_dark_steps": out_dark,
        "ever_lit": out_lit,
    }


# --------------------------------------------------------------------------------------------- Earth


@jit(inline="always")
def _earth_step(
    prof: Int16Array,
    work: FloatArray,
    n_az: int,
    k: int,
    su: float,
    a: float,
    gx: float,
    gy: float,
    gz: float,
    ex: float,
    ey: float,
    ez: float,
    sx: float,
    sy: float,
    sz: float,
    cb0: float,
    sb0: float,
    b0: float,
    inv_step: float,
    series: bool,
) -> bool:
    """True if the Earth's centre is above the horizon at one step.

    ``su`` is the sine of its elevation seen from the Moon's centre, ``a`` = (cell radius) / (Earth distance);
    the bounds in ``work`` hold the parallax margins (see :func:`earth_visibility_map`).
    """
    if su > work[n_az + k, 0]:
        return True
    if su <= work[n_az + k, 1]:
        return False
    i0, i1, f = _bracket(_cell_azimuth(gx, gy, gz, ex, ey, ez, sx, sy, sz, cb0, sb0, b0, series), inv_step, n_az)
    if su > max(work[i0, 0], work[i1, 0]):
        return True
    if su <= min(work[i0, 1], work[i1, 1]):
        return False
    se = (su - a) / math.sqrt(1.0 - 2.0 * a * su + a * a)  # sine of the elevation seen from the cell
    return math.asin(min(max(se, -1.0), 1.0)) > _lerp(prof, i0, i1, f)


@jit(parallel=True)
def _earth_kernel(
    hz: Int16Array,
    lat: FloatArray,
    lon: FloatArray,
    rc_map: FloatArray,
    r0: int,
    r1: int,
    sx: FloatArray,
    sy: FloatArray,
    sz: FloatArray,
    cb0: FloatArray,
    sb0: FloatArray,
    b0: FloatArray,
    dist: FloatArray,
    sec: Int32Array,
    n_sec: int,
    tan_eps_max: float,
    hi_lut: FloatArray,
    lo_lut: FloatArray,
    out_vis: Float32Array,
) -> None:
    rows, cols, n_az = hz.shape
    n_t = sx.shape[0]
    inv_step = n_az / _TWO_PI
    sec_w = _TWO_PI / n_sec
    for p in prange((r1 - r0) * cols):
        r = r0 + p // cols
        c = p % cols
        prof = hz[r, c]
        ux, uy, uz, gx, gy, gz, ex, ey, ez = _frame(lat[r, c], lon[r, c])
        rc = rc_map[r, c]
        # the Earth's azimuth is that of its direction from the Moon's centre: the cell's offset rc * u is
        # radial, so it moves the elevation only
        dmax = _cell_delta_bound(ux, uy, uz, tan_eps_max)
        series = dmax < _SERIES_MAX_Q
        work = np.empty((n_az + n_sec, 2))
        _cell_bounds(prof, n_sec, inv_step, sec_w, dmax, hi_lut, lo_lut, work)
        n_vis = 0
        for t in range(n_t):
            su = sx[t] * ux + sy[t] * uy + sz[t] * uz
            if _earth_step(
                prof,
                work,
                n_az,
                sec[t],
                su,
                rc / dist[t],
                gx,
                gy,
                gz,
                ex,
                ey,
                ez,
                sx[t],
                sy[t],
                sz[t],
                cb0[t],
                sb0[t],
                b0[t],
                inv_step,
                series,
            ):
                n_vis += 1
        out_vis[r, c] = n_vis / n_t


def earth_visibility_map(
    horizons_cell_major: npt.ArrayLike,
    lat_rad: npt.ArrayLike,
    lon_rad: npt.ArrayLike,
    heights_m: npt.ArrayLike,
    observer_height_m: float,
    earth_pos_me: npt.ArrayLike,
    progress: Callable[[float], object] | None = None,
    *,
    radius_m: float = MOON_RADIUS_M,
    rows_per_chunk: int = DEFAULT_ROWS_PER_CHUNK,
    n_sectors: int | None = None,
) -> dict[str, np.ndarray]:
    """Fraction of time the Earth's centre is above the terrain horizon, for every map cell.

    Parameters
    ----------
    horizons_cell_major : numpy.ndarray of int16, shape (rows, cols, n_az)
        As in :func:`sun_visibility_map` [0.01 deg].
    lat_rad, lon_rad : numpy.ndarray, shape (rows, cols)
        Cell centres [rad].
    heights_m : numpy.ndarray, shape (rows, cols)
        Terrain heights above the sphere of radius ``radius_m`` [m].
    observer_height_m : float
        Observer height above the terrain [m] (the height the horizon map was computed for).
    earth_pos_me : numpy.ndarray, shape (T, 3)
        Position of the Earth relative to the Moon's centre in MOON_ME [m]
        (:func:`ilrs.ephem.directions.body_position_me`).
    progress, rows_per_chunk, n_sectors
        As in :func:`sun_visibility_map`.
    radius_m : float
        Radius of the reference sphere [m].

    Returns
    -------
    dict of numpy.ndarray, shape (rows, cols)
        ``earth_visible_fraction`` (float32, [-]): fraction of steps with the Earth's centre above the
        horizon, seen from ``(radius_m + heights_m + observer_height_m) u`` (parallax exact).
    """
    hz, lat, lon = _check_cells(horizons_cell_major, lat_rad, lon_rad)
    rows, cols, n_az = hz.shape
    z = np.asarray(heights_m, dtype=np.float64)
    if z.shape != (rows, cols) or not np.isfinite(z).all():
        raise ValueError(f"heights_m must be finite with shape {(rows, cols)}, got {z.shape}")
    rc_map = np.ascontiguousarray(radius_m + z + float(observer_height_m))
    n_sec = int(n_sectors) if n_sectors is not None else min(n_az, MAX_SECTORS)
    if n_sec < 1:
        raise ValueError("n_sectors must be at least 1")
    (sx, sy, sz, cb0, sb0, b0), sec, tan_eps_max, dist = _step_arrays(earth_pos_me, n_sec)
    if (dist <= rc_map.max()).any():
        raise ValueError("earth_pos_me must be positions [m] outside the Moon")
    # Seen from the cell the Earth stands lower by the parallax p, sin p = a cos(e_cell) with a = rc / dist;
    # e_centre = e_cell + p rises with e_cell, so e_cell > h iff e_centre > h + asin(a cos h): the bounds are
    # taken on the elevation from the Moon's centre with the margin at the largest and the smallest a.
    a_max = float(rc_map.max() / dist.min())
    a_min = float(rc_map.min() / dist.max())
    h = _stored_horizons_rad()
    hi_lut = np.sin(np.minimum(h + np.arcsin(a_max * np.cos(h)), _HALF_PI))
    lo_lut = np.sin(np.minimum(h + np.arcsin(a_min * np.cos(h)), _HALF_PI))
    out_vis = np.empty((rows, cols), dtype=np.float32)
    for r0, r1 in _chunks(rows, rows_per_chunk, progress):
        _earth_kernel(
            hz,
            lat,
            lon,
            rc_map,
            r0,
            r1,
            sx,
            sy,
            sz,
            cb0,
            sb0,
            b0,
            np.ascontiguousarray(dist),
            sec,
            n_sec,
            tan_eps_max,
            hi_lut,
            lo_lut,
            out_vis,
        )
    return {"earth_visible_fraction": out_vis}


# --------------------------------------------------------------------------------------------- one site


def point_series(
    horizon_profile_deg: npt.ArrayLike, az_geo_rad: npt.ArrayLike, elev_rad: npt.ArrayLike, radius_rad: npt.ArrayLike
) -> tuple[FloatArray, FloatArray]:
    """Horizon at a body's azimuth and the body's visible disk fraction, over time, for one site.

    Parameters
    ----------
    horizon_profile_deg : array_like, shape (n_az,)
        Horizon elevation [deg] at GEOGRAPHIC azimuths ``k * 360 / n_az`` (from local north toward east);
        NaN (no terrain) counts as -90 deg.
    az_geo_rad : array_like, shape (T,)
        Geographic azimuth of the body [rad].
    elev_rad : array_like, shape (T,)
        Elevation of the body's centre [rad].
    radius_rad : float or array_like, shape (T,)
        Angular radius of the body [rad].

    Returns
    -------
    horizon_at_body_deg : numpy.ndarray, shape (T,)
        Horizon elevation at the body's azimuth, linear between the stored azimuths (with wrap-around) [deg].
    disk_fraction : numpy.ndarray, shape (T,)
        Visible fraction of the body's disk, :func:`disk_fraction` [-].
    """
    prof = np.asarray(horizon_profile_deg, dtype=np.float64)
    if prof.ndim != 1 or prof.size < 2:
        raise ValueError(f"horizon_profile_deg must be 1-D with at least 2 azimuths, got shape {prof.shape}")
    prof = np.where(np.isnan(prof), -90.0, prof)
    n_az = prof.size
    pos = np.mod(np.asarray(az_geo_rad, dtype=np.float64), _TWO_PI) * (n_az / _TWO_PI)
    i0 = np.minimum(np.floor(pos).astype(np.int64), n_az - 1)
    f = pos - i0
    p0 = prof[i0]
    h_deg = p0 + f * (prof[(i0 + 1) % n_az] - p0)
    return h_deg, disk_fraction(elev_rad, np.radians(h_deg), radius_rad)
