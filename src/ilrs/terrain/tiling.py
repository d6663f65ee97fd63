"""Tiles of a large grid for out-of-core horizon and illumination products: pure geometry, no I/O.

A tile's horizons need the terrain around it. Each tile is computed on a *window*: its core cells plus a halo
of ``halo`` cells on every side (clipped at the grid's edges), swept at full resolution; terrain beyond the
window comes from a coarser far-field grid (the DEM block-averaged, nested in the embedded coarser layers) as the
untiled path takes terrain beyond the DEM's edge from its far-field DEM (Mazarico et al. 2011, Icarus 211:
the same near/far split). Only the core cells of a window are kept, so the seams between tiles carry no edge
effect: every kept cell sits at least ``halo`` cells inside its window, or on the grid's own edge where the
untiled run has the same edge.

The halo is the *full-resolution* overlap, not the horizon distance (350 km by default): tiles may be much
smaller than the horizon distance, the far field covers the rest. A tile smaller than its halo is refused: its
window would be mostly halo (more than 9x the core's cells), which costs more than it saves.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from ilrs.errors import IlrsError

#: Full-resolution overlap around each tile by default [m] (accuracy against the untiled run: docs/terrain.md).
DEFAULT_HALO_M = 30_000.0


@dataclass(frozen=True)
class Tile:
    """One tile: core rows ``r0:r1`` and cols ``c0:c1`` of the grid, computed on the window ``wr0:wr1, wc0:wc1``."""

    row: int
    col: int
    r0: int
    r1: int
    c0: int
    c1: int
    wr0: int
    wr1: int
    wc0: int
    wc1: int

    @property
    def name(self) -> str:
        """A file-name-safe name, ``r0003_c0012`` (tile row and column)."""
        return f"r{self.row:04d}_c{self.col:04d}"

    @property
    def shape(self) -> tuple[int, int]:
        return self.r1 - self.r0, self.c1 - self.c0

    @property
    def window_shape(self) -> tuple[int, int]:
        return self.wr1 - self.wr0, self.wc1 - self.wc0

    @property
    def core_in_window(self) -> tuple[slice, slice]:
        """Slices of the window's arrays that hold the core cells."""
        return slice(self.r0 - self.wr0, self.r1 - self.wr0), slice(self.c0 - self.wc0, self.c1 - self.wc0)

    @property
    def core(self) -> tuple[slice, slice]:
        """Slices of the whole grid that hold the core cells."""
        return slice(self.r0, self.r1), slice(self.c0, self.c1)


@dataclass(frozen=True)
class TileGrid:
    """A ``rows`` x ``cols`` grid cut into tiles of ``tile`` x ``tile`` cells (smaller at the far edges), each
    computed on its core plus ``halo`` cells around it."""

    rows: int
    cols: int
    tile: int
    halo: int

    def __post_init__(self) -> None:
        if self.rows < 1 or self.cols < 1:
            raise IlrsError(f"an empty grid ({self.rows} x {self.cols} cells) cannot be tiled", source="DEM")
        if self.tile < 1:
            raise IlrsError(f"tile size {self.tile} cells must be at least 1", source="--tile")
        if self.halo < 0:
            raise IlrsError(f"halo {self.halo} cells must not be negative", source="--halo-km")
        if self.tile < self.halo:
            raise IlrsError(
                f"tile size {self.tile} cells is below the overlap of {self.halo} cells each tile's horizons need",
                source="--tile",
                hint=f"use --tile {self.halo} or more, or a smaller --halo-km",
            )

    @property
    def n_tile_rows(self) -> int:
        return math.ceil(self.rows / self.tile)

    @property
    def n_tile_cols(self) -> int:
        return math.ceil(self.cols / self.tile)

    def __len__(self) -> int:
        return self.n_tile_rows * self.n_tile_cols

    def tiles(self) -> Iterator[Tile]:
        """Every tile, row by row: they cover the grid exactly once."""
        for i in range(self.n_tile_rows):
            r0, r1 = i * self.tile, min(self.rows, (i + 1) * self.tile)
            for j in range(self.n_tile_cols):
                c0, c1 = j * self.tile, min(self.cols, (j + 1) * self.tile)
                yield Tile(
                    i,
                    j,
                    r0,
                    r1,
                    c0,
                    c1,
                    max(0, r0 - self.halo),
                    min(self.rows, r1 + self.halo),
                    max(0, c0 - self.halo),
                    min(self.cols, c1 + self.halo),
                )

    def coverage(self) -> np.ndarray:
        """How many tiles' cores hold each cell (all ones for a correct tiling; for tests and checks)."""
        out = np.zeros((self.rows, self.cols), dtype=np.int32)
        for t in self.tiles():
            out[t.core] += 1
        return out


def halo_cells(halo_m: float, cell_m: float) -> int:
    """The halo [cells] that covers at least ``halo_m`` [m] of ground on a grid of ``cell_m`` [m] cells."""
    if not (math.isfinite(halo_m) and halo_m >= 0):
        raise IlrsError(f"halo {halo_m} m must be a finite distance >= 0", source="--halo-km")
    if not (math.isfinite(cell_m) and cell_m > 0):
        raise IlrsError(f"cell size {cell_m} m must be positive", source="DEM")
    return math.ceil(halo_m / cell_m - 1e-9)


def default_tile_cells(halo: int, n_azimuths: int, budget_bytes: float = 1.0e9) -> int:
    """The largest tile whose window's horizon cube (int16, plus the sweep's float64 heights and the cell-major
    copy: about 4 bytes per cell-azimuth) fits in ``budget_bytes``, and at least the halo."""
    side = math.isqrt(int(budget_bytes / (4.0 * max(1, n_azimuths))))
    return max(halo, side - 2 * halo, 64)
