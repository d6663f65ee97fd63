"""Map projections of DEM layers, vectorised, with a fast closed form for the lunar polar maps."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ilrs.constants import MOON_RADIUS_M
from ilrs.core import geometry


class Projection:
    """Maps (lat, lon) in degrees (planetocentric, east-positive) to grid coordinates (x, y) and back."""

    #: True if x, y are metres on a conformal polar map (grid azimuth = geographic azimuth + lon).
    polar_stereographic_south: bool = False

    def forward(self, lat_deg, lon_deg):  # pragma: no cover - interface
        raise NotImplementedError

    def inverse(self, x, y):  # pragma: no cover - interface
        raise NotImplementedError

    def describe(self) -> str:  # pragma: no cover - interface
        raise NotImplementedError


@dataclass(frozen=True)
class SouthPolarStereographic(Projection):
    """South polar stereographic on the lunar sphere, true scale at the pole (IAU_2015:30135)."""

    radius_m: float = MOON_RADIUS_M
    polar_stereographic_south = True

    def forward(self, lat_deg, lon_deg):
        return geometry.stereo_south_forward(np.radians(lat_deg), np.radians(lon_deg), self.radius_m)

    def inverse(self, x, y):
        lat, lon = geometry.stereo_south_inverse(x, y, self.radius_m)
        return np.degrees(lat), np.degrees(lon)

    def describe(self) -> str:
        return f"south polar stereographic, sphere R={self.radius_m:.0f} m"


@dataclass(frozen=True)
class LonLat(Projection):
    """Simple cylindrical grid addressed directly in degrees: x = east longitude, y = latitude."""

    lon_origin_deg: float = 0.0

    def forward(self, lat_deg, lon_deg):
        lon = np.mod(np.asarray(lon_deg, dtype=float) - self.lon_origin_deg, 360.0) + self.lon_origin_deg
        return lon, np.asarray(lat_deg, dtype=float)

    def inverse(self, x, y):
        return np.asarray(y, dtype=float), np.mod(np.asarray(x, dtype=float), 360.0)

    def describe(self) -> str:
        return "simple cylindrical, degrees"


class PyprojProjection(Projection):
    """Any CRS that pyproj knows, through a Transformer to the lunar geographic CRS (slow path)."""

    def __init__(self, crs, geographic_crs):
        from pyproj import Transformer

        self.crs = crs
        self._fwd = Transformer.from_crs(geographic_crs, crs, always_xy=True)
        self._inv = Transformer.from_crs(crs, geographic_crs, always_xy=True)

    def forward(self, lat_deg, lon_deg):
        lon = np.asarray(lon_deg, dtype=float)
        lon = np.where(lon > 180.0, lon - 360.0, lon)
        return self._fwd.transform(lon, np.asarray(lat_deg, dtype=float))

    def inverse(self, x, y):
        lon, lat = self._inv.transform(np.asarray(x, dtype=float), np.asarray(y, dtype=float))
        return np.asarray(lat), np.mod(np.asarray(lon), 360.0)

    def describe(self) -> str:
        return self.crs.name
