"""Surface slope of a DEM and at a point."""

from __future__ import annotations

import numpy as np

from ilrs.constants import MOON_RADIUS_M
from ilrs.terrain.dem import Dem
from ilrs.terrain.projection import LonLat


def slope_map_deg(dem: Dem) -> np.ndarray:
    """Slope [deg] of every cell from central differences, with true ground distances.

    On a polar stereographic grid a map step of ``dx`` is ``dx / k`` on the ground (k the point scale), so
    the gradient is multiplied by k. Edge cells use one-sided differences (``numpy.gradient``).
    """
    z = dem.heights_m
    if isinstance(dem.projection, LonLat):
        raise ValueError("slope_map_deg needs a projected grid")
    gy, gx = np.gradient(z, abs(dem.dy), abs(dem.dx))
    k = 1.0
    if dem.projection.polar_stereographic_south:
        xx, yy = np.meshgrid(dem.x_coords(), dem.y_coords())
        r = dem.projection.radius_m  # type: ignore[attr-defined]
        k = 1.0 + (xx * xx + yy * yy) / (4.0 * r * r)
    return np.degrees(np.arctan(np.hypot(gx, gy) * k))


def point_slope_deg(dem: Dem, lat_deg: float, lon_deg: float) -> float:
    """Slope [deg] at a point: the plane fitted to the 3 x 3 cells around it (Horn's method)."""
    x, y = dem.projection.forward(np.array([lat_deg]), np.array([lon_deg]))
    r, c = dem.fractional_index(x, y)
    ri, ci = int(round(float(r[0]))), int(round(float(c[0])))
    rows, cols = dem.shape
    ri = min(max(ri, 1), rows - 2)
    ci = min(max(ci, 1), cols - 2)
    w = dem.heights_m[ri - 1 : ri + 2, ci - 1 : ci + 2]
    step_x, step_y = abs(dem.dx), abs(dem.dy)
    if isinstance(dem.projection, LonLat):  # degrees -> metres on the sphere at this latitude
        step_y = np.radians(step_y) * MOON_RADIUS_M
        step_x = np.radians(step_x) * MOON_RADIUS_M * max(np.cos(np.radians(lat_deg)), 1e-6)
    # Horn (1981): weighted differences of the 3 x 3 window
    gx = ((w[0, 2] + 2 * w[1, 2] + w[2, 2]) - (w[0, 0] + 2 * w[1, 0] + w[2, 0])) / (8 * step_x)
    gy = ((w[0, 0] + 2 * w[0, 1] + w[0, 2]) - (w[2, 0] + 2 * w[2, 1] + w[2, 2])) / (8 * step_y)
    k = 1.0
    if dem.projection.polar_stereographic_south:
        rr = dem.projection.radius_m  # type: ignore[attr-defined]
        k = 1.0 + (float(x[0]) ** 2 + float(y[0]) ** 2) / (4.0 * rr * rr)
    return float(np.degrees(np.arctan(np.hypot(gx, gy) * k)))
