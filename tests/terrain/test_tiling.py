"""Tile geometry: every cell in exactly one tile's core, windows with their halo clipped at the grid, bad sizes."""

from __future__ import annotations

import numpy as np
import pytest

from ilrs.errors import IlrsError
from ilrs.terrain.tiling import TileGrid, halo_cells


@pytest.mark.parametrize(("rows", "cols", "tile", "halo"), [(100, 70, 32, 8), (64, 64, 64, 0), (97, 131, 40, 40)])
def test_tiles_cover_the_grid_once_with_their_halo(rows, cols, tile, halo):
    tg = TileGrid(rows, cols, tile, halo)
    assert (tg.coverage() == 1).all()
    for t in tg.tiles():
        # every core cell sits at least `halo` cells inside its window, or on the grid's own edge
        assert t.wr0 == max(0, t.r0 - halo) and t.wr1 == min(rows, t.r1 + halo)
        assert t.wc0 == max(0, t.c0 - halo) and t.wc1 == min(cols, t.c1 + halo)
        z = np.arange(rows * cols).reshape(rows, cols)
        window = z[t.wr0 : t.wr1, t.wc0 : t.wc1]
        assert (window[t.core_in_window] == z[t.core]).all()
    assert len(list(tg.tiles())) == len(tg)
    assert len({t.name for t in tg.tiles()}) == len(tg)


def test_tile_below_the_overlap_is_refused_with_the_option_named():
    with pytest.raises(IlrsError, match="below the overlap") as exc:
        TileGrid(500, 500, 100, 128)
    assert exc.value.source == "--tile"
    with pytest.raises(IlrsError, match="at least 1"):
        TileGrid(500, 500, 0, 0)


def test_halo_cells_rounds_up_to_whole_cells():
    assert halo_cells(30_000.0, 240.0) == 125
    assert halo_cells(24_000.0, 240.0) == 100  # exact: not 101 from rounding noise
    with pytest.raises(IlrsError, match="halo"):
        halo_cells(float("nan"), 240.0)
