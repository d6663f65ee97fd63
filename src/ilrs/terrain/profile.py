"""Horizon profile at one point by marching great-circle rays through a nested mosaic (fine azimuths)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ilrs.constants import MOON_RADIUS_M
from ilrs.core import geometry
from ilrs.errors import IlrsError
from ilrs.terrain.dem import Mosaic

#: Farthest terrain that can rise above the horizon of a south-pole observer [m]: a 2 km high observer and a
#: 7 km high peak see each other up to sqrt(2 R h1) + sqrt(2 R h2) = 83 + 156 km; 350 km leaves a wide margin.
DEFAULT_MAX_DISTANCE_M = 350_000.0


@dataclass(frozen=True)
class HorizonProfile:
    """Terrain horizon at one point, on a uniform grid of geographic azimuths.

    ``elevation_deg[k]`` is the horizon elevation [deg] at azimuth ``k * 360 / n`` (from north toward east),
    seen from ``height_m`` above the ground at (``lat_deg``, ``lon_deg``) whose ground height above the
    reference sphere is ``ground_m``. ``distance_m[k]`` is the distance to the terrain that forms it.
    """

    lat_deg: float
    lon_deg: float
    height_m: float
    ground_m: float
    elevation_deg: np.ndarray
    distance_m: np.ndarray

    @property
    def azimuth_deg(self) -> np.ndarray:
        return np.arange(self.elevation_deg.size) * (360.0 / self.elevation_deg.size)

    def to_xarray(self):
        """The profile as an ``xarray.Dataset`` over geographic azimuth [deg]: the horizon's elevation [deg] and
        the distance to the terrain that forms it [m]."""
        import xarray as xr

        return xr.Dataset(
            {
                "elevation_deg": (
                    "azimuth_deg",
                    self.elevation_deg,
                    {"units": "degree", "long_name": "horizon elevation"},
                ),
                "distance_m": ("azimuth_deg", self.distance_m, {"units": "m", "long_name": "distance to the horizon"}),
            },
            coords={
                "azimuth_deg": (
                    "azimuth_deg",
                    self.azimuth_deg,
                    {"units": "degree", "long_name": "azimuth from north toward east"},
                )
            },
            attrs={
                "lat_deg": self.lat_deg,
                "lon_deg": self.lon_deg,
                "height_m": self.height_m,
                "ground_m": self.ground_m,
            },
        )

    def at(self, azimuth_deg) -> np.ndarray:
        """Horizon elevation [deg] at any geographic azimuth, linear between samples with wrap-around."""
        n = self.elevation_deg.size
        a = np.mod(np.asarray(azimuth_deg, dtype=float), 360.0) * (n / 360.0)
        i0 = np.floor(a).astype(np.int64) % n
        f = a - np.floor(a)
        return self.elevation_deg[i0] * (1 - f) + self.elevation_deg[(i0 + 1) % n] * f


def march_distances(first_m: float, max_m: float, growth: float = 0.002, max_step_m: float = 1000.0):
    """Sample distances [m] along a ray: ``first_m`` apart near the observer, then growing with distance.

    A step of ``growth * d`` keeps the elevation-angle error of a missed terrain detail near ``growth`` of the
    terrain's slope, i.e. hundredths of a degree, while the ray stays short (about 3,000 samples to 350 km).
    """
    d = [first_m]
    while d[-1] < max_m:
        d.append(d[-1] + min(max(first_m, growth * d[-1]), max_step_m))
    return np.asarray(d)


def point_horizon(
    mosaic: Mosaic,
    lat_deg: float,
    lon_deg: float,
    height_m: float = 0.0,
    n_azimuths: int = 3600,
    max_distance_m: float = DEFAULT_MAX_DISTANCE_M,
    chunk: int = 240,
) -> HorizonProfile:
    """Horizon profile at a point: every ray marched through the mosaic with exact spherical geometry.

    Each ray follows a great circle from the point; terrain is sampled bilinearly from the finest layer that
    covers each sample, so the far field comes from the coarser layers. Elevation angles are exact on the
    sphere (curvature included): ``atan2(r_t cos g - r_o, r_t sin g)``.
    """
    return point_horizons(mosaic, lat_deg, lon_deg, (height_m,), n_azimuths, max_distance_m, chunk)[0]


def point_horizons(
    mosaic: Mosaic,
    lat_deg: float,
    lon_deg: float,
    heights_m: Sequence[float],
    n_azimuths: int = 3600,
    max_distance_m: float = DEFAULT_MAX_DISTANCE_M,
    chunk: int = 240,
) -> list[HorizonProfile]:
    """:func:`point_horizon` at several observer heights above one point, in the order given: the rays are
    marched and the terrain sampled once, and only the elevation angles differ per height, so each profile is
    the one :func:`point_horizon` gives alone at a fraction of the cost."""
    lat0 = np.radians(lat_deg)
    lon0 = np.radians(lon_deg)
    ground = float(mosaic.sample_latlon(np.array([lat_deg]), np.array([lon_deg]))[0])
    if not np.isfinite(ground):
        raise IlrsError(
            f"point ({lat_deg:.4f}, {lon_deg:.4f}) lies outside every DEM of the mosaic",
            source="--lat/--lon",
            hint=describe_coverage(mosaic),
        )
    cell = float(mosaic.cell_size_at(np.array([lat_deg]), np.array([lon_deg]))[0])
    dist = march_distances(max(cell / 2.0, 1.0), max_distance_m)
    gamma = dist / MOON_RADIUS_M
    r_obs = [MOON_RADIUS_M + ground + float(h) for h in heights_m]
    az = np.radians(np.arange(n_azimuths) * (360.0 / n_azimuths))
    elev = np.empty((len(r_obs), n_azimuths))
    where = np.empty((len(r_obs), n_azimuths))
    # a layer cannot serve samples farther than its farthest corner: beyond that, start at the next layer
    reach = np.array([_reach_m(layer, lat_deg, lon_deg) for layer in mosaic.layers])
    first_layer = np.array([int(np.argmax(d <= reach)) if (d <= reach).any() else len(reach) for d in dist])
    bands = np.flatnonzero(np.diff(first_layer)) + 1
    bounds = [0, *bands.tolist(), dist.size]
    for a0 in range(0, n_azimuths, chunk):
        a = az[a0 : a0 + chunk, None]
        lat, lon = geometry.destination(lat0, lon0, a, gamma[None, :])
        lat_d, lon_d = np.degrees(lat), np.degrees(lon)
        z = np.full(lat.shape, np.nan)
        for b0, b1 in zip(bounds[:-1], bounds[1:], strict=True):
            k = first_layer[b0]
            if k < len(mosaic.layers):
                z[:, b0:b1] = Mosaic(mosaic.layers[k:]).sample_latlon(lat_d[:, b0:b1], lon_d[:, b0:b1])
        for i, r in enumerate(r_obs):
            e = geometry.elevation_angle_sphere(r, MOON_RADIUS_M + z, gamma[None, :])
            e = np.where(np.isfinite(e), e, -np.inf)
            k = np.argmax(e, axis=1)
            elev[i, a0 : a0 + chunk] = np.degrees(e[np.arange(e.shape[0]), k])
            where[i, a0 : a0 + chunk] = dist[k]
    return [
        HorizonProfile(float(lat_deg), float(lon_deg), float(h), ground, elev[i], where[i])
        for i, h in enumerate(heights_m)
    ]


def _reach_m(layer, lat_deg: float, lon_deg: float) -> float:
    """Largest ground distance [m] from the point to the layer's footprint (inf for global grids)."""
    from ilrs.terrain.projection import LonLat

    if isinstance(layer.projection, LonLat):
        return np.inf
    xmin, xmax, ymin, ymax = layer.bounds
    xs = np.array([xmin, xmax, xmin, xmax])
    ys = np.array([ymin, ymin, ymax, ymax])
    lat, lon = layer.projection.inverse(xs, ys)
    ang = geometry.central_angle(np.radians(lat_deg), np.radians(lon_deg), np.radians(lat), np.radians(lon))
    # map-straight edges bulge beyond the corners' great circles by far less than this 2 % margin
    return float(ang.max()) * MOON_RADIUS_M * 1.02


def describe_coverage(mosaic: Mosaic) -> str:
    parts = []
    for layer in mosaic.layers:
        lat, _ = layer.latlon_grid() if layer.heights_m.size <= 4_000_000 else (None, None)
        if lat is not None:
            parts.append(f"{layer.name}: latitudes {np.nanmin(lat):.2f} to {np.nanmax(lat):.2f}")
    return "; ".join(parts) or "no layer"
