"""Is a DEM fine enough at a point? The horizon error its cell size may hide there, from the relief it resolves.

A gridded DEM carries relief on scales of two cells and more; a crest or rim narrower than that is flattened,
and the horizon a point sees over its nearest cells is then wrong. The DEM itself shows where that happens:
where the heights of the 3 x 3 cells around the point depart from their best-fitting plane, the terrain curves
on the scale of one cell, so it curves on finer scales too (crests, rims, gullies) and the DEM cannot say by how
much. The departure ``r`` [m] seen one cell away bends the horizon of an observer ``h`` above the ground by up
to ``atan(max(r - h, 0) / cell)`` (relief below the eye hides no sky). When that exceeds the Sun's angular
diameter (0.53 deg, taken as 0.5 deg), the Sun can be fully visible or fully hidden depending on terrain the
DEM does not hold: the result must carry a warning naming a finer DEM to bring. A plane (however steep) bends
no horizon, so slopes alone do not raise it.

Tested on the embedded 10 m Connecting Ridge tile against the 240 m DEM over the same points (observers at
2 m, three months of hourly Sun): every point where the two disagree by more than 3 % of the time is flagged on
the 240 m DEM, unflagged points agree within 2 %, and the 10 m tile flags none of them
(``tests/terrain/test_adequacy.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ilrs.terrain.dem import Dem

#: Horizon error above which a point's result gets a warning [deg]: the Sun's angular diameter (0.53 deg), the
#: change of horizon that turns a fully visible Sun into a hidden one.
MAX_HORIZON_ERROR_DEG = 0.5
#: What to bring when a DEM is too coarse (LOLA-derived site DEMs of the Planetary Geodynamics Data Archive).
FINER_DEMS = "a LOLA/PGDA 5-20 m site DEM (GeoTIFF or PDS3)"


@dataclass(frozen=True)
class Adequacy:
    """The DEM-adequacy check of one point."""

    dem: str
    cell_m: float
    residual_m: float  #: largest departure of the 3 x 3 heights from their plane [m]
    horizon_error_deg: float  #: the horizon bend it may hide, atan(max(residual - height, 0) / cell) [deg]
    ok: bool
    warning: str | None

    def as_dict(self) -> dict[str, object]:
        return {
            "dem": self.dem,
            "cell_m": self.cell_m,
            "residual_m": self.residual_m,
            "horizon_error_deg": self.horizon_error_deg,
            "ok": self.ok,
        }


def dem_adequacy(dem: Dem, lat_deg: float, lon_deg: float, height_m: float = 0.0, option: str = "--dem") -> Adequacy:
    """The check of ``dem`` at a point for an observer ``height_m`` [m] above the ground (the module docstring's
    argument; :data:`MAX_HORIZON_ERROR_DEG`)."""
    x, y = dem.projection.forward(np.array([lat_deg]), np.array([lon_deg]))
    off = np.array([-1.0, 0.0, 1.0])
    dx, dy = np.meshgrid(off * dem.dx, off * dem.dy)
    z = dem.sample(x[0] + dx.ravel(), y[0] + dy.ravel())
    cell = float(dem.cell_size_m)
    if not np.isfinite(z).all():
        return Adequacy(dem.name, cell, float("nan"), float("nan"), False, f"{dem.name} has no data around the point")
    a = np.column_stack([np.ones(9), dx.ravel() / abs(dem.dx), dy.ravel() / abs(dem.dy)])
    coef, *_ = np.linalg.lstsq(a, z, rcond=None)
    residual = float(np.max(np.abs(z - a @ coef)))
    error = float(np.degrees(np.arctan(max(residual - max(height_m, 0.0), 0.0) / cell)))
    ok = error <= MAX_HORIZON_ERROR_DEG
    warning = None
    if not ok:
        warning = (
            f"the {dem.name} DEM ({cell:.0f} m cells) cannot resolve the terrain at ({lat_deg:.4f}, {lon_deg:.3f}): "
            f"its heights around the point depart {residual:.0f} m from a plane within one cell, which may bend the "
            f"horizon by up to {error:.1f} deg (more than the Sun's 0.5 deg); bring {FINER_DEMS} with {option} FILE"
        )
    return Adequacy(dem.name, cell, residual, error, ok, warning)
