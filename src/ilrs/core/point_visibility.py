"""The Sun's visible disk fraction at one site for several observer heights at once (one pass over time)."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from ilrs.core._jit import jit
from ilrs.core.arrays import FloatArray

_TWO_PI = 2.0 * math.pi


@jit
def _fractions(
    prof: FloatArray, az: FloatArray, el: FloatArray, radius: FloatArray, out: FloatArray
) -> None:  # pragma: no cover - compiled
    n_h, n_az = prof.shape
    scale = n_az / _TWO_PI
    for t in range(az.size):
        pos = (az[t] % _TWO_PI) * scale
        i0 = min(int(math.floor(pos)), n_az - 1)
        f = pos - i0
        i1 = (i0 + 1) % n_az
        r = radius[t]
        for k in range(n_h):
            p0 = prof[k, i0]
            h = math.radians(p0 + f * (prof[k, i1] - p0))
            d = el[t] - h
            if r > 0.0:
                x = d / r
            else:
                x = 1.0 if d > 0.0 else -1.0
            x = min(max(x, -1.0), 1.0)
            out[k, t] = 0.5 + (x * math.sqrt(1.0 - x * x) + math.asin(x)) / math.pi


def disk_fractions(
    profiles_deg: npt.ArrayLike, az_geo_rad: npt.ArrayLike, elev_rad: npt.ArrayLike, radius_rad: npt.ArrayLike
) -> FloatArray:
    """Visible disk fraction [-] of a body for several horizon profiles of one site, shape (k, T).

    The same model as :func:`ilrs.core.visibility.point_series` (horizon linear between the stored geographic
    azimuths, NaN as -90 deg, the circular-segment disk fraction), with the azimuth interpolation shared by the
    ``k`` profiles (e.g. the rows of a solar array over its height) in one compiled pass.
    """
    prof = np.asarray(profiles_deg, dtype=np.float64)
    if prof.ndim != 2 or prof.shape[1] < 2:
        raise ValueError(f"profiles_deg must be (k, n_az) with n_az >= 2, got shape {prof.shape}")
    prof = np.ascontiguousarray(np.where(np.isnan(prof), -90.0, prof))
    az = np.ascontiguousarray(az_geo_rad, dtype=np.float64)
    el = np.ascontiguousarray(elev_rad, dtype=np.float64)
    r = np.ascontiguousarray(np.broadcast_to(np.asarray(radius_rad, dtype=np.float64), az.shape))
    out = np.empty((prof.shape[0], az.size))
    _fractions(prof, az, el, r, out)
    return out
