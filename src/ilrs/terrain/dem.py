"""DEM objects: a height grid with its geometry, and nested mosaics of several DEMs."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ilrs.constants import MOON_RADIUS_M
from ilrs.core.interp import bilinear
from ilrs.errors import IlrsError
from ilrs.terrain.projection import LonLat, Projection


@dataclass(frozen=True, eq=False)
class Dem:
    """A regular grid of heights above the lunar reference sphere.

    ``heights_m[row, col]`` is the height [m] at the cell centre ``x = x0 + col * dx``, ``y = y0 + row * dy``
    (grid units of ``projection``: metres for map projections, degrees for :class:`LonLat`). NaN marks no data.
    """

    heights_m: np.ndarray
    x0: float
    y0: float
    dx: float
    dy: float
    projection: Projection
    name: str = "dem"
    source: str = ""
    cell_size_m: float = field(default=0.0)

    def __post_init__(self):
        if self.heights_m.ndim != 2:
            raise IlrsError("a DEM must be a 2-D grid", source=self.source or self.name)
        if self.cell_size_m <= 0.0:
            size = abs(self.dx)
            if isinstance(self.projection, LonLat):
                size = np.radians(abs(self.dx)) * MOON_RADIUS_M
            object.__setattr__(self, "cell_size_m", float(size))

    @property
    def shape(self) -> tuple[int, int]:
        return self.heights_m.shape

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(xmin, xmax, ymin, ymax) of the cell edges in grid units."""
        rows, cols = self.shape
        xs = (self.x0 - self.dx / 2, self.x0 + (cols - 0.5) * self.dx)
        ys = (self.y0 - self.dy / 2, self.y0 + (rows - 0.5) * self.dy)
        return min(xs), max(xs), min(ys), max(ys)

    def x_coords(self) -> np.ndarray:
        return self.x0 + self.dx * np.arange(self.shape[1])

    def y_coords(self) -> np.ndarray:
        return self.y0 + self.dy * np.arange(self.shape[0])

    def fractional_index(self, x, y):
        """Fractional (row, col) of grid coordinates."""
        return (np.asarray(y, dtype=float) - self.y0) / self.dy, (np.asarray(x, dtype=float) - self.x0) / self.dx

    def sample(self, x, y) -> np.ndarray:
        """Bilinear height [m] at grid coordinates; NaN outside the grid or next to a NaN cell."""
        r, c = self.fractional_index(x, y)
        wrap = isinstance(self.projection, LonLat) and abs(self.dx * self.shape[1] - 360.0) < 1e-6
        return bilinear(self.heights_m, r, c, wrap_columns=wrap)

    def sample_latlon(self, lat_deg, lon_deg) -> np.ndarray:
        x, y = self.projection.forward(lat_deg, lon_deg)
        return self.sample(x, y)

    def latlon_grid(self) -> tuple[np.ndarray, np.ndarray]:
        """Latitude and longitude [deg] of every cell centre, each shape ``self.shape``."""
        xx, yy = np.meshgrid(self.x_coords(), self.y_coords())
        return self.projection.inverse(xx, yy)

    def crop(self, row0: int, row1: int, col0: int, col1: int, name: str | None = None) -> Dem:
        """A window of this DEM (rows row0:row1, cols col0:col1)."""
        return Dem(
            np.ascontiguousarray(self.heights_m[row0:row1, col0:col1]),
            self.x0 + col0 * self.dx,
            self.y0 + row0 * self.dy,
            self.dx,
            self.dy,
            self.projection,
            name or f"{self.name}[{row0}:{row1},{col0}:{col1}]",
            self.source,
        )


@dataclass(frozen=True, eq=False)
class Mosaic:
    """Nested DEM layers, finest first: a point takes its height from the first layer that has data there."""

    layers: tuple[Dem, ...]

    def __post_init__(self):
        if not self.layers:
            raise IlrsError("a mosaic needs at least one DEM layer")

    def sample_latlon(self, lat_deg, lon_deg) -> np.ndarray:
        lat = np.asarray(lat_deg, dtype=float)
        lon = np.asarray(lon_deg, dtype=float)
        out = np.full(np.broadcast(lat, lon).shape, np.nan)
        for layer in self.layers:
            need = np.isnan(out)
            if not need.any():
                break
            out[need] = layer.sample_latlon(
                np.broadcast_to(lat, out.shape)[need], np.broadcast_to(lon, out.shape)[need]
            )
        return out

    def layer_index_latlon(self, lat_deg, lon_deg) -> np.ndarray:
        """Index of the layer that serves each point (-1 where none has data)."""
        lat = np.asarray(lat_deg, dtype=float)
        lon = np.asarray(lon_deg, dtype=float)
        idx = np.full(np.broadcast(lat, lon).shape, -1, dtype=np.int64)
        for i, layer in enumerate(self.layers):
            need = idx < 0
            if not need.any():
                break
            ok = np.isfinite(
                layer.sample_latlon(np.broadcast_to(lat, idx.shape)[need], np.broadcast_to(lon, idx.shape)[need])
            )
            sub = idx[need]
            sub[ok] = i
            idx[need] = sub
        return idx

    def layer_at_latlon(self, lat_deg: float, lon_deg: float) -> Dem:
        """The layer that serves one point: the finest with data there."""
        i = int(self.layer_index_latlon(np.array([lat_deg]), np.array([lon_deg]))[0])
        if i < 0:
            raise ValueError(f"no layer of the mosaic has data at ({lat_deg:.4f}, {lon_deg:.3f})")
        return self.layers[i]

    def cell_size_at(self, lat_deg, lon_deg) -> np.ndarray:
        """Cell size [m] of the layer serving each point (inf where none)."""
        idx = self.layer_index_latlon(lat_deg, lon_deg)
        sizes = np.array([layer.cell_size_m for layer in self.layers] + [np.inf])
        return sizes[idx]
