"""Spherical geometry on the Moon: polar stereographic maps, local frames, elevation angles.

All angles in radians, lengths in metres, unless a name says ``_deg``. Frames: MOON_ME (x toward 0E on the
equator, z toward the north pole).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from ilrs.core.arrays import FloatArray, FloatOrArray


def stereo_south_forward(lat: npt.ArrayLike, lon: FloatOrArray, radius: float) -> tuple[FloatArray, FloatArray]:
    """South polar stereographic (true scale at the pole): lat, lon [rad] -> x, y [m].

    ``x = rho sin(lon)``, ``y = rho cos(lon)``, ``rho = 2 R tan(theta / 2)`` with ``theta`` the angular distance
    from the south pole; this is PROJ ``+proj=stere +lat_0=-90 +lon_0=0 +k=1`` on the sphere (IAU_2015:30135).
    """
    theta = np.pi / 2 + np.asarray(lat, dtype=np.float64)
    rho = 2.0 * radius * np.tan(theta / 2.0)
    return rho * np.sin(lon), rho * np.cos(lon)


def stereo_south_inverse(x: npt.ArrayLike, y: npt.ArrayLike, radius: float) -> tuple[FloatArray, FloatArray]:
    """Inverse of :func:`stereo_south_forward`: x, y [m] -> lat, lon [rad], lon in [0, 2 pi)."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    rho = np.hypot(x, y)
    theta = 2.0 * np.arctan(rho / (2.0 * radius))
    lat = theta - np.pi / 2
    lon = np.mod(np.arctan2(x, y), 2 * np.pi)
    return lat, lon


def stereo_south_scale(lat: npt.ArrayLike) -> FloatArray:
    """Point scale factor k of the south polar stereographic map (k = 1 at the pole) [-]."""
    return 2.0 / (1.0 - np.sin(np.asarray(lat, dtype=np.float64)))


def unit_vector(lat: npt.ArrayLike, lon: npt.ArrayLike) -> FloatArray:
    """Unit radial vector(s) in the body-fixed frame, shape (..., 3)."""
    lat = np.asarray(lat, dtype=np.float64)
    lon = np.asarray(lon, dtype=np.float64)
    cl = np.cos(lat)
    return np.stack([cl * np.cos(lon), cl * np.sin(lon), np.sin(lat)], axis=-1)


def enu_basis(lat: npt.ArrayLike, lon: npt.ArrayLike) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Local east, north, up unit vectors at (lat, lon) [rad], each shape (..., 3)."""
    lat = np.asarray(lat, dtype=np.float64)
    lon = np.asarray(lon, dtype=np.float64)
    sl, cl = np.sin(lat), np.cos(lat)
    so, co = np.sin(lon), np.cos(lon)
    east = np.stack([-so, co, np.zeros_like(so * cl)], axis=-1)
    north = np.stack([-sl * co, -sl * so, cl], axis=-1)
    up = np.stack([cl * co, cl * so, sl], axis=-1)
    return east, north, up


def azimuth_elevation(
    vec_local_e: FloatOrArray, vec_local_n: FloatOrArray, vec_local_u: FloatOrArray
) -> tuple[FloatArray, FloatArray]:
    """Azimuth (from north toward east, [0, 2 pi)) and elevation [rad] from local E, N, U components."""
    az = np.mod(np.arctan2(vec_local_e, vec_local_n), 2 * np.pi)
    el = np.arctan2(vec_local_u, np.hypot(vec_local_e, vec_local_n))
    return az, el


def elevation_angle_sphere(
    obs_radius: FloatOrArray, tgt_radius: FloatOrArray, central_angle: FloatOrArray
) -> FloatArray:
    """Exact elevation angle [rad] of a target seen from an observer on a sphere.

    Observer at radius ``obs_radius`` [m], target at radius ``tgt_radius`` [m], separated by the
    central angle [rad] (great-circle distance / R). The horizontal plane is perpendicular to the observer's
    radius vector.
    """
    return np.arctan2(tgt_radius * np.cos(central_angle) - obs_radius, tgt_radius * np.sin(central_angle))


def destination(
    lat: FloatOrArray, lon: FloatOrArray, azimuth: FloatOrArray, central_angle: FloatOrArray
) -> tuple[FloatArray, FloatArray]:
    """Point reached from (lat, lon) along a great circle at ``azimuth`` for ``central_angle`` [rad]."""
    sl, cl = np.sin(lat), np.cos(lat)
    sd, cd = np.sin(central_angle), np.cos(central_angle)
    lat2 = np.arcsin(np.clip(sl * cd + cl * sd * np.cos(azimuth), -1.0, 1.0))
    lon2 = lon + np.arctan2(np.sin(azimuth) * sd * cl, cd - sl * np.sin(lat2))
    return lat2, np.mod(lon2, 2 * np.pi)


def central_angle(lat1: FloatOrArray, lon1: FloatOrArray, lat2: FloatOrArray, lon2: FloatOrArray) -> FloatArray:
    """Great-circle central angle between two points [rad] (haversine, accurate at small distances)."""
    dlat = lat2 - lat1
    dlon = lon2 - lon1
    a = np.sin(dlat / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin(dlon / 2) ** 2
    angle: FloatArray = 2 * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))
    return angle


def grid_azimuth_offset_south(lon: npt.ArrayLike) -> FloatArray:
    """Grid minus geographic azimuth [rad] on the south polar stereographic map (meridian convergence).

    A geographic azimuth ``alpha`` at longitude ``lon`` points along map direction ``beta = alpha + lon``,
    with ``beta`` measured from map +y toward map +x.
    """
    offset: FloatArray = np.asarray(lon, dtype=np.float64)
    return offset
