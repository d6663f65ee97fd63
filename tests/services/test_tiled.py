"""Tiled horizons and maps against the untiled path on the real 240 m LOLA DEM, restart, workers, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from ilrs.errors import IlrsError
from ilrs.iotools.dem_grid import DemGrid
from ilrs.services.tiled import TiledSpec, run_tiled
from ilrs.terrain.dem import Mosaic
from ilrs.terrain.tiling import TileGrid

N_AZ = 36  # the seams do not depend on the number of azimuths; 36 keeps the untiled reference cheap


@pytest.fixture(scope="module")
def untiled_36(pole_dem):
    """The untiled horizon map of the whole 1536 x 1536 DEM with LDEM_4 as far field (the product's path)."""
    from ilrs.services.data import global_dem
    from ilrs.services.horizon_maps import compute_horizon_map

    return compute_horizon_map(pole_dem, 2.0, N_AZ, global_dem())


def _central_tiles(tg: TileGrid, lo: int = 640, hi: int = 896) -> list[str]:
    return [t.name for t in tg.tiles() if t.r1 > lo and t.r0 < hi and t.c1 > lo and t.c0 < hi]


@pytest.mark.slow
@pytest.mark.parametrize("tile", [128, 200, 256])
def test_tiled_horizons_equal_the_untiled_map(tile, pole_dem, untiled_36, tmp_path):
    """Tiles of 30-61 km, far below the 350 km horizon distance, with the 128-cell (31 km) default halo.

    Tolerance: the sweep's own accuracy against the brute-force ray march (tests/core/test_horizon.py: p99
    0.05 deg, max 0.2 deg) with 0.05 deg more at the maximum for the far field beyond the halo, which is
    interpolated between observers 4 cells apart (parallax about 4/128 rad on terrain 128 cells away); measured
    here: p99 0.01 deg, max 0.21 deg.
    """
    from ilrs.services.data import global_dem

    spec = TiledSpec(2.0, N_AZ, tile, 128)
    tg = TileGrid(*pole_dem.shape, tile, 128)
    names = _central_tiles(tg)
    assert len(names) >= 4  # the region holds seams in both directions
    res = run_tiled(
        DemGrid.from_dem(pole_dem), spec, tmp_path, far=Mosaic((global_dem(),)), workers=0, only_tiles=names
    )
    assert sorted(res.computed) == sorted(names)
    err = []
    for t in tg.tiles():
        if t.name in names:
            with np.load(res.tile_path(t)) as f:
                err.append(np.abs(f["horizons"].astype(float) - untiled_36[(slice(None), *t.core)]).ravel() / 100)
    e = np.concatenate(err)
    assert np.percentile(e, 99) <= 0.05
    assert e.max() <= 0.25


SMALL = TiledSpec(2.0, 16, 96, 32, stride=8, period=None, keep_horizons=True)


@pytest.fixture(scope="module")
def small_grid(pole_dem):
    """A 200 x 200 crop (48 km) near the pole: 3 x 3 tiles of 96 cells, cheap enough for the run-mechanics tests."""
    return DemGrid.from_dem(pole_dem.crop(700, 900, 650, 850))


def _period():
    from ilrs.services.tiled import Period

    return Period("2025-01-01", "2025-01-15", 6 * 3600.0)


def test_streamed_maps_equal_the_untiled_maps_of_the_same_horizons(small_grid, tmp_path):
    """Each tile reduces its own horizons over the time series; the untiled path (site_maps.compute_site_maps)
    reduces the whole cube. Cell by cell they must agree exactly: the same kernels, cell-independent statistics
    (slope, from central differences, needs the one-cell halo a tile has)."""
    from dataclasses import replace

    from ilrs.services.horizon_maps import HorizonMap
    from ilrs.services.site_maps import compute_site_maps
    from ilrs.services.tiled import TILE_LAYERS, tiled_site_maps

    p = _period()
    spec = replace(SMALL, period=p)
    res = run_tiled(small_grid, spec, tmp_path, workers=0)
    dem = small_grid.read(0, small_grid.rows, 0, small_grid.cols)
    hmap = HorizonMap(dem, 2.0, res.horizons())
    ref = compute_site_maps(hmap, (0, dem.shape[0], 0, dem.shape[1]), p.start, p.end, p.step_s)
    maps = tiled_site_maps(res)
    for name in (*TILE_LAYERS, "distance_to_shadow_km"):
        np.testing.assert_array_equal(maps.layers[name], ref[name], err_msg=name)
    assert maps.n_steps == 56


def test_kept_horizons_go_to_chunked_compressed_netcdf(small_grid, tmp_path):
    import netCDF4

    from ilrs.services.tiled import save_tiled_horizons

    res = run_tiled(small_grid, SMALL, tmp_path / "run", workers=0)
    path = save_tiled_horizons(res, tmp_path / "h.nc")
    with netCDF4.Dataset(path) as ds:
        h = ds["horizon"]
        assert h.dtype == np.int16 and h.filters()["zlib"] and h.chunking() == [16, 96, 96]
        assert "0.01 deg" in ds.quantisation
        h.set_auto_maskandscale(False)
        np.testing.assert_array_equal(h[:], res.horizons())
    # CF readers see degrees
    import xarray as xr

    with xr.open_dataset(path) as ds:
        got = ds["horizon"].values
    want = res.horizons().astype(np.float32) * np.float32(0.01)
    want[res.horizons() == -9000] = np.nan
    np.testing.assert_allclose(got, want, atol=1e-6, equal_nan=True)
