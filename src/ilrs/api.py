"""The curated public API of ilrs: thin wrappers that take user units (UTC, degrees) and call the packages.

Everything here is importable as ``from ilrs.api import ...``; the packages below stay free to change.
"""

from __future__ import annotations

import numpy as np

from ilrs.ephem.directions import BODIES, angular_radius, body_position_me, topocentric_az_el
from ilrs.ephem.time import et_to_utc, parse_step, to_et, utc_grid
from ilrs.errors import IlrsError
from ilrs.services.data import default_mosaic, load_dem
from ilrs.services.site import PointEnvironment, cached_point_horizon, point_environment
from ilrs.services.site_maps import RankedSite, SiteMaps, rank_sites, site_maps
from ilrs.terrain.sites import SITES, site_by_key

__all__ = [
    "BODIES",
    "IlrsError",
    "PointEnvironment",
    "RankedSite",
    "SITES",
    "SiteMaps",
    "default_mosaic",
    "horizon_profile",
    "load_dem",
    "point_environment",
    "rank_sites",
    "site_by_key",
    "site_maps",
    "angular_radius",
    "body_position_me",
    "et_to_utc",
    "parse_step",
    "to_et",
    "topocentric",
    "utc_grid",
]


def _is_scalar_time(times) -> bool:
    return np.ndim(times) == 0


def topocentric(body: str, lat_deg: float, lon_deg: float, times, height_m: float = 0.0) -> tuple:
    """Apparent azimuth and elevation of the Sun or the Earth from a point on the lunar sphere.

    Parameters
    ----------
    body : str
        'SUN' or 'EARTH'.
    lat_deg, lon_deg : float
        Planetocentric latitude and east longitude of the observer in MOON_ME (the frame of LOLA data) [deg].
    times : str, datetime, numpy.datetime64, or a sequence / array of these
        UTC epochs (see :func:`ilrs.ephem.time.to_et` for the accepted forms).
    height_m : float
        Height above the sphere of radius 1737.4 km [m].

    Returns
    -------
    azimuth_deg : numpy.ndarray or numpy.float64
        From local north toward east, in [0, 360) [deg].
    elevation_deg : numpy.ndarray or numpy.float64
        Above the local horizontal plane of the sphere (no terrain) [deg], light time and stellar aberration
        corrected, as SPICE spkcpo 'LT+S' gives it.

    A scalar ``times`` gives numpy scalars; a sequence or array of n times gives arrays of shape (n,) (a
    multi-dimensional array of times is flattened).

    Examples
    --------
    >>> az, el = topocentric("SUN", -89.45, 222.69, ["2030-01-01T00:00:00", "2030-01-01T06:00:00"])
    """
    et = to_et(times).ravel()
    azimuth, elevation, _ = topocentric_az_el(body, et, lat_deg, lon_deg, height_m)
    azimuth_deg, elevation_deg = np.degrees(azimuth), np.degrees(elevation)
    if _is_scalar_time(times):
        return azimuth_deg[0], elevation_deg[0]
    return azimuth_deg, elevation_deg


def horizon_profile(lat_deg: float, lon_deg: float, height_m: float = 0.0, n_azimuths: int = 3600):
    """Terrain horizon at a point from the embedded nested mosaic (cached): a ``HorizonProfile`` whose
    ``elevation_deg[k]`` is the horizon at geographic azimuth ``k * 360 / n_azimuths`` [deg]."""
    return cached_point_horizon(default_mosaic(), lat_deg, lon_deg, height_m, n_azimuths)
