"""When an orbiter is in view from a surface site, above the real terrain horizon."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from ilrs.constants import MOON_RADIUS_M
from ilrs.core.geometry import azimuth_elevation, enu_basis
from ilrs.ephem.directions import rotation_j2000_to_me
from ilrs.transport.orbits import KeplerOrbit


def orbiter_position_me(orbit: KeplerOrbit, et: npt.ArrayLike) -> np.ndarray:
    """The orbiter's position in MOON_ME at each epoch [m], shape (n, 3) (geometric: light time < 0.06 s)."""
    et = np.atleast_1d(np.asarray(et, dtype=float))
    r_epoch, _ = orbit.state_epoch_frame(et)
    r0 = rotation_j2000_to_me(np.array([orbit.epoch_et]))[0]  # epoch frame -> J2000 is r0.T
    r_j2000 = r_epoch @ r0
    rot = rotation_j2000_to_me(et)
    r_me: np.ndarray = np.einsum("nij,nj->ni", rot, r_j2000)
    return r_me


def orbiter_az_el(
    orbit: KeplerOrbit, et: npt.ArrayLike, lat_deg: float, lon_deg: float, height_m: float = 0.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Geographic azimuth, elevation [rad] and range [m] of the orbiter from a point on the lunar sphere."""
    return positions_az_el(orbiter_position_me(orbit, et), lat_deg, lon_deg, height_m)


def positions_az_el(
    positions_me: npt.NDArray[np.float64], lat_deg: float, lon_deg: float, height_m: float = 0.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Geographic azimuth, elevation [rad] and range [m] of MOON_ME positions (n, 3) [m] from a surface point."""
    lat, lon = np.radians(lat_deg), np.radians(lon_deg)
    east, north, up = enu_basis(lat, lon)
    site = up * (MOON_RADIUS_M + height_m)
    d = np.asarray(positions_me, dtype=np.float64) - site
    az, el = azimuth_elevation(d @ east, d @ north, d @ up)
    return az, el, np.linalg.norm(d, axis=1)


def orbiter_visible(
    orbit: KeplerOrbit,
    et: npt.ArrayLike,
    lat_deg: float,
    lon_deg: float,
    horizon_profile_deg: npt.ArrayLike,
    height_m: float = 0.0,
    min_elevation_deg: float = 5.0,
) -> np.ndarray:
    """True where the orbiter is above both the terrain horizon (geographic-azimuth profile) and a mask."""
    from ilrs.core.visibility import point_series

    az, el, _ = orbiter_az_el(orbit, et, lat_deg, lon_deg, height_m)
    horizon_deg, _ = point_series(horizon_profile_deg, az, el, 0.0)
    el_deg = np.degrees(el)
    visible: np.ndarray = (el_deg > horizon_deg) & (el_deg >= min_elevation_deg)
    return visible
