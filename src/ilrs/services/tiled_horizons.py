"""Horizons of one tile: the full-resolution sweep on its window, and the far field in rings beyond it.

The untiled path (:func:`ilrs.services.horizon_maps.compute_horizon_map`) sweeps the whole DEM and takes terrain
beyond the DEM's edge from a 1 km far-field grid. A tile sweeps only its window (core + halo); the terrain beyond
the window comes in rings (:class:`Ring`), each marched by :func:`ilrs.core.farfield.far_field_march` from
observers every ``stride`` cells of the tile and merged by :func:`ilrs.core.farfield.merge_far_field` (the
untiled path's own kernels):

* the DEM itself beyond the window (at its native cells when the whole DEM fits in an overview of
  ``MAX_OVERVIEW_CELLS``; else at full resolution for ``RING_CELLS`` around the window, then block-averaged),
* beyond the DEM's edge, the coarser layers on the untiled path's own 1 km far-field grid (same origin and step).

The horizon over several pieces of terrain is the highest of their horizons, so the rings and the sweep combine
by maximum (``merge_far_field`` raises the swept horizons to the far ones). What is left of the seams is the
interpolation between far-field observers: their parallax on terrain ``halo`` cells away is about
``stride / halo`` rad, so the halo is the accuracy knob (measured against the untiled map in
tests/services/test_tiled.py and docs/terrain.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ilrs.constants import MOON_RADIUS_M
from ilrs.core import farfield
from ilrs.core import horizon as hz
from ilrs.services.horizon_maps import FAR_TRUST_CELLS
from ilrs.terrain.dem import Dem
from ilrs.terrain.profile import DEFAULT_MAX_DISTANCE_M
from ilrs.terrain.tiling import Tile

#: Far-field observers every this many cells of a tile (the untiled path uses 16 over the whole DEM; with the
#: default halo of 128 cells, 4 keeps the tiled horizons within 0.21 deg of the untiled ones, 8 within 0.33).
TILE_FAR_STRIDE = 4


def far_grid_half_m(bounds: tuple[float, float, float, float]) -> float:
    """Half-width [m] of the untiled path's far-field grid for a DEM of these bounds (same formula)."""
    xmin, xmax, ymin, ymax = bounds
    return max(abs(xmin), abs(xmax), abs(ymin), abs(ymax)) + DEFAULT_MAX_DISTANCE_M


def _march_and_merge(
    stored: np.ndarray,
    core: Dem,
    height_m: float,
    betas: np.ndarray,
    ext_z: np.ndarray,
    ex0: float,
    ey0: float,
    estep: float,
    inner_box: tuple[float, float, float, float],
    max_distance_m: float,
    stride: int,
    trust_m: float,
) -> None:
    rows, cols = core.shape
    cr = int(np.ceil((rows - 1) / stride)) + 1
    cc = int(np.ceil((cols - 1) / stride)) + 1
    ri = np.arange(cr) * stride
    ci = np.arange(cc) * stride
    oz = core.heights_m[np.minimum(ri, rows - 1)][:, np.minimum(ci, cols - 1)] + height_m
    ox, oy = np.meshgrid(core.x0 + ci * core.dx, core.y0 + ri * core.dy)
    tan, dist = farfield.far_field_march(
        ext_z, ex0, ey0, estep, ox, oy, oz, betas, inner_box, max_distance_m, estep, MOON_RADIUS_M
    )
    farfield.merge_far_field(
        stored,
        core.heights_m,
        height_m,
        tan.reshape(betas.size, cr, cc),
        dist.reshape(betas.size, cr, cc),
        oz,
        stride,
        trust_m,
    )


@dataclass(frozen=True)
class Ring:
    """Terrain for the far field of a tile: a north-up grid of square cells (``z[0, 0]`` at ``x0, y0``, ``step``
    [m]) used beyond ``inner_box`` (xmin, xmax, ymin, ymax) [m] of the map, to ``max_distance_m``, marched from
    observers every ``stride`` cells. ``None`` as ``inner_box`` means the tile's window."""

    z: np.ndarray
    x0: float
    y0: float
    step: float
    inner_box: tuple[float, float, float, float] | None
    max_distance_m: float
    stride: int


def tile_horizons(window: Dem, tile: Tile, rings: Sequence[Ring], height_m: float, n_azimuths: int) -> np.ndarray:
    """Horizons (int16, 0.01 deg, shape (n_az, tile rows, tile cols)) of the core cells of ``tile``.

    ``window`` is the DEM on the tile's window (complete: holes already filled); ``rings`` the terrain beyond it,
    finest first (see :class:`Ring`), combined with the swept horizons by maximum.
    """
    betas = np.radians(np.arange(n_azimuths) * (360.0 / n_azimuths))
    swept = hz.horizon_sweep(
        window.heights_m,
        abs(window.dx),
        window.x0,
        window.y0,
        window.dx,
        window.dy,
        betas,
        height_m,
        MOON_RADIUS_M,
        True,
    )
    rs, cs = tile.core_in_window
    stored = np.ascontiguousarray(swept[:, rs, cs])
    del swept
    core = window.crop(rs.start, rs.stop, cs.start, cs.stop)
    for ring in rings:
        # far terrain nearer than this is interpolated between observers unreliably (the untiled path's rule)
        trust_m = FAR_TRUST_CELLS * ring.stride * abs(window.dx) if ring.stride > 1 else 0.0
        _march_and_merge(
            stored,
            core,
            height_m,
            betas,
            ring.z,
            ring.x0,
            ring.y0,
            ring.step,
            window.bounds if ring.inner_box is None else ring.inner_box,
            ring.max_distance_m,
            ring.stride,
            trust_m,
        )
    return stored


__all__ = ["Ring", "far_grid_half_m", "tile_horizons"]
