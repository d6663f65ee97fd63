"""Bilinear interpolation on regular grids (numba)."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from ilrs.core._jit import jit, prange
from ilrs.core.arrays import FloatArray


@jit(parallel=True)
def _bilinear(grid: FloatArray, r: FloatArray, c: FloatArray, wrap: bool, out: FloatArray) -> None:
    rows, cols = grid.shape
    n = r.shape[0]
    for k in prange(n):
        rk = r[k]
        ck = c[k]
        if wrap:
            ck = ck - math.floor(ck / cols) * cols
        if not (rk >= 0.0 and ck >= 0.0 and rk <= rows - 1 and (wrap or ck <= cols - 1)):
            out[k] = np.nan
            continue
        r0 = min(int(rk), rows - 1)
        c0 = min(int(ck), cols - 1)
        fr = rk - r0
        fc = ck - c0
        r1 = r0 + 1 if r0 + 1 < rows else r0
        if wrap:
            c1 = c0 + 1 if c0 + 1 < cols else 0
        else:
            c1 = c0 + 1 if c0 + 1 < cols else c0
        out[k] = (grid[r0, c0] * (1.0 - fc) + grid[r0, c1] * fc) * (1.0 - fr) + (
            grid[r1, c0] * (1.0 - fc) + grid[r1, c1] * fc
        ) * fr


def bilinear(grid: npt.ArrayLike, r: npt.ArrayLike, c: npt.ArrayLike, wrap_columns: bool = False) -> FloatArray:
    """Bilinear interpolation of ``grid`` at fractional (row, col); NaN outside the grid (or next to NaN).

    With ``wrap_columns`` the columns are periodic (global longitude grids).
    """
    r = np.asarray(r, dtype=np.float64)
    c = np.asarray(c, dtype=np.float64)
    shape = np.broadcast(r, c).shape
    rr = np.ascontiguousarray(np.broadcast_to(r, shape)).ravel()
    cc = np.ascontiguousarray(np.broadcast_to(c, shape)).ravel()
    out = np.empty(rr.size)
    _bilinear(np.ascontiguousarray(grid, dtype=np.float64), rr, cc, bool(wrap_columns), out)
    return out.reshape(shape)
