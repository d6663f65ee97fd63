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


def _tile_arrays(res) -> dict[str, dict[str, np.ndarray]]:
    out = {}
    for t in res.tile_grid.tiles():
        with np.load(res.tile_path(t)) as f:
            out[t.name] = {k: f[k] for k in f.files if not k.startswith("meta_")}  # meta: how it ran
    return out


@pytest.mark.slow
def test_results_are_identical_for_0_1_and_2_workers(small_grid, tmp_path):
    """Tiles are independent tasks with deterministic kernels: where they run must not change a bit."""
    runs = [run_tiled(small_grid, SMALL, tmp_path / f"w{n}", workers=n) for n in (0, 1, 2)]
    assert runs[0].where.startswith("in process") and "2 workers" in runs[2].where
    base = _tile_arrays(runs[0])
    for res in runs[1:]:
        other = _tile_arrays(res)
        assert other.keys() == base.keys()
        for name, arrays in base.items():
            for k, v in arrays.items():
                np.testing.assert_array_equal(other[name][k], v, err_msg=f"{name}/{k}")


def test_rerun_redoes_only_missing_or_broken_tiles(small_grid, tmp_path):
    first = run_tiled(small_grid, SMALL, tmp_path, workers=0)
    assert len(first.computed) == 9 and not first.reused
    want = first.horizons()
    tiles = list(first.tile_grid.tiles())
    first.tile_path(tiles[1]).unlink()  # a run killed before this tile was written
    broken = first.tile_path(tiles[4])
    broken.write_bytes(broken.read_bytes()[:100])  # a torn file (copied by hand, or a disk that lied)
    again = run_tiled(small_grid, SMALL, tmp_path, workers=0)
    assert again.computed == sorted([tiles[1].name, tiles[4].name])
    assert len(again.reused) == 7
    np.testing.assert_array_equal(again.horizons(), want)
    third = run_tiled(small_grid, SMALL, tmp_path, workers=0)
    assert third.computed == [] and third.where == "nothing to compute"


def test_a_killed_run_resumes(small_grid, tmp_path):
    """A run killed half-way (a subprocess, SIGKILL after its third tile file appears) resumes from the tiles
    it wrote; the final product equals an uninterrupted run's."""
    import os
    import signal
    import subprocess
    import sys
    import time

    script = """
import sys
from ilrs.services.data import pole_dem
from ilrs.iotools.dem_grid import DemGrid
from ilrs.services.tiled import TiledSpec, run_tiled
import ilrs.services.tiled as T
import time
orig = T._write_tile
def slow(path, arrays):
    orig(path, arrays)
    time.sleep(2.5)  # leave the parent (on a loaded machine) time to kill us between tiles
T._write_tile = slow
grid = DemGrid.from_dem(pole_dem().crop(700, 900, 650, 850))
run_tiled(grid, TiledSpec(2.0, 16, 96, 32, stride=8, keep_horizons=True), sys.argv[1], workers=0)
"""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.Popen([sys.executable, "-c", script, str(tmp_path)], env=env)
    tiles_dir = tmp_path / "tiles"

    def tile_files():
        # finished tile files only: the one being written is a hidden temporary that also ends in .npz
        return [p for p in tiles_dir.glob("*.npz") if not p.name.startswith(".")]

    deadline = time.monotonic() + 600
    while time.monotonic() < deadline and proc.poll() is None:
        if tiles_dir.is_dir() and len(tile_files()) >= 3:
            break
        time.sleep(0.05)
    assert proc.poll() is None, "the run ended before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    written = len(tile_files())
    assert 3 <= written < 9
    resumed = run_tiled(small_grid, SMALL, tmp_path, workers=0)
    assert len(resumed.reused) == written and len(resumed.computed) == 9 - written
    clean = run_tiled(small_grid, SMALL, tmp_path / "clean", workers=0)
    np.testing.assert_array_equal(resumed.horizons(), clean.horizons())


def test_a_full_disk_leaves_no_corrupt_tile_and_the_rerun_redoes_only_those(small_grid, tmp_path, monkeypatch):
    import errno

    import ilrs.services.tiled as tiled

    real = tiled._write_tile
    failing = {"r0001_c0001", "r0002_c0000"}

    def full_disk(path, arrays):
        if path.stem in failing:
            # what a full disk does: part of the file is written, then ENOSPC
            from ilrs.iotools.atomic import atomic_path

            with atomic_path(path) as tmp:
                tmp.write_bytes(b"PK\x03\x04 partial")
                raise OSError(errno.ENOSPC, "No space left on device")
        real(path, arrays)

    monkeypatch.setattr(tiled, "_write_tile", full_disk)
    with pytest.raises(IlrsError, match="2 of 9 tiles failed.*No space left") as exc:
        run_tiled(small_grid, SMALL, tmp_path, workers=0)
    assert "free disk space" in (exc.value.hint or "")
    left = sorted(p.name for p in (tmp_path / "tiles").iterdir())
    assert len(left) == 7 and all(n.endswith(".npz") for n in left)  # no partial or temporary file
    monkeypatch.setattr(tiled, "_write_tile", real)
    again = run_tiled(small_grid, SMALL, tmp_path, workers=0)
    assert again.computed == sorted(failing)


def test_bad_runs_are_refused_with_the_input_named(small_grid, tmp_path):
    from dataclasses import replace

    with pytest.raises(IlrsError, match="below the overlap") as exc:
        run_tiled(small_grid, replace(SMALL, tile=16), tmp_path, workers=0)
    assert exc.value.source == "--tile"
    with pytest.raises(IlrsError, match="observer spacings"):
        run_tiled(small_grid, replace(SMALL, halo=16), tmp_path, workers=0)
    run_tiled(small_grid, replace(SMALL, n_azimuths=8), tmp_path, workers=0, only_tiles=["r0000_c0000"])
    with pytest.raises(IlrsError, match="other inputs or parameters") as exc:
        run_tiled(small_grid, SMALL, tmp_path, workers=0)
    assert exc.value.source == str(tmp_path)


def _write_tiles(tmp_path, dem, crs_second="IAU_2015:30135", step_second=1):
    from ilrs.iotools.geotiff import write_geotiff

    a = dem.crop(0, 100, 0, 200)
    b = dem.crop(100, 200, 0, 200)
    if step_second != 1:
        from ilrs.terrain.dem import Dem

        b = Dem(
            b.heights_m[::step_second, ::step_second],
            b.x0,
            b.y0,
            b.dx * step_second,
            b.dy * step_second,
            b.projection,
            "b",
        )
    pa, pb = tmp_path / "a.tif", tmp_path / "b.tif"
    write_geotiff(pa, a, cog=False)
    write_geotiff(pb, b, crs=crs_second, cog=False)
    return pa, pb


def test_geotiff_tiles_form_one_grid_and_disagreeing_tiles_are_named(pole_dem, tmp_path):
    from ilrs.iotools.dem_grid import open_dem_grid

    dem = pole_dem.crop(700, 900, 650, 850)
    pa, pb = _write_tiles(tmp_path, dem)
    grid = open_dem_grid([pb, pa])  # any order
    assert grid.shape == dem.shape and grid.x0 == dem.x0 and grid.y0 == dem.y0
    w = grid.read(90, 130, 10, 60)  # across the two files
    np.testing.assert_array_equal(w.heights_m, dem.heights_m[90:130, 10:60].astype(np.float32))
    (tmp_path / "res").mkdir()
    pa, pb = _write_tiles(tmp_path / "res", dem, step_second=2)
    with pytest.raises(IlrsError, match="cells are 480 x 480") as exc:
        open_dem_grid([pa, pb])
    assert exc.value.source == str(pb)
    (tmp_path / "crs").mkdir()
    pa, pb = _write_tiles(tmp_path / "crs", dem, crs_second="+proj=stere +lat_0=-90 +lon_0=10 +R=1737400 +units=m")
    with pytest.raises(IlrsError, match="CRS differs") as exc:
        open_dem_grid([pa, pb])
    assert exc.value.source == str(pb)


@pytest.mark.slow
def test_out_of_core_run_stays_under_its_memory_ceiling(tmp_path):
    """A 4096 x 4096 SYNTHETIC DEM (60 m, scale test only) with 8 azimuths, in a subprocess whose peak RSS is
    measured. The subprocess first computes one tile: its peak RSS then is the run's fixed cost (the interpreter
    with numpy and numba, the kernels compiled or loaded from numba's cache, the embedded far-field DEMs, GDAL's
    block cache, the DEM's overview), 435-856 MB here depending on whether numba compiles. The ceiling is that
    fixed cost + 150 MB for all 64 tiles. Untiled, the arrays alone would add 576 MiB to the same fixed cost
    (the horizon cube 8 x 4096**2 x 2 B, the DEM as float64, the sweep's float32 copy and transpose and its two
    per-thread tangent buffers of 4096**2 int16): it would not fit under the ceiling."""
    import json
    import os
    import subprocess
    import sys

    from ilrs.services.tiled import write_synthetic_dem

    budget_mb = 150.0  # for all the tiles, over the fixed cost
    dem = write_synthetic_dem(tmp_path / "synthetic_4096.tif", 4096)
    script = """
import json, resource, sys
from ilrs.iotools.dem_grid import open_dem_grid
from ilrs.services.tiled import TiledSpec, far_layers, run_tiled
def peak():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
far, far_id = far_layers(None)
grid = open_dem_grid(sys.argv[1])
spec = TiledSpec(2.0, 8, 512, 64, stride=16)
run_tiled(grid, spec, sys.argv[2] + "/warm", far=far, far_identity=far_id, workers=0, only_tiles=["r0000_c0000"])
base = peak()
res = run_tiled(grid, spec, sys.argv[2] + "/run", far=far, far_identity=far_id, workers=0)
print(json.dumps({"tiles": len(res.computed), "base_mb": base, "peak_mb": peak()}))
"""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run(
        [sys.executable, "-c", script, str(dem), str(tmp_path)], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout.strip().splitlines()[-1])
    assert doc["tiles"] == 64
    ceiling_mb = doc["base_mb"] + budget_mb
    assert doc["peak_mb"] < ceiling_mb, doc
    untiled_arrays_mb = (8 * 4096**2 * 2 + 4096**2 * 8 + 2 * 4096**2 * 4 + 2 * 4096**2 * 2) / 2**20
    assert doc["base_mb"] + untiled_arrays_mb > ceiling_mb, doc
    print(doc)


def test_synthetic_dem_is_labelled_in_its_file_grid_and_every_map(tmp_path):
    """The SYNTHETIC DEM (scale tests only) says so in the GeoTIFF, in the grid's name and in each map file and
    figure title made from it."""
    import rasterio

    from ilrs.iotools.dem_grid import open_dem_grid
    from ilrs.reports.map_files import write_map_files
    from ilrs.services.tiled import Period, far_layers, tiled_site_maps, write_synthetic_dem

    path = write_synthetic_dem(tmp_path / "syn.tif", 128)
    grid = open_dem_grid(path)
    assert grid.name.startswith("SYNTHETIC") and abs(grid.cell_m - 60.0) < 1e-9
    far, far_id = far_layers(None)
    spec = TiledSpec(2.0, 8, 128, 64, stride=16, period=Period("2025-01-01", "2025-01-02", 6 * 3600.0))
    res = run_tiled(grid, spec, tmp_path / "run", far=far, far_identity=far_id, workers=0)
    maps = tiled_site_maps(res)
    written = write_map_files(tmp_path / "maps", maps)
    tifs = [p for p in written if p.suffix == ".tif"]
    assert len(tifs) == 7
    for p in tifs:
        with rasterio.open(p) as src:
            assert "SYNTHETIC" in " ".join(d or "" for d in src.descriptions) + str(src.tags(1))


@pytest.mark.slow
def test_tiled_fine_dem_path_equals_the_untiled_map_on_the_10m_tile(tmp_path):
    """The path of fine DEMs (1024 cells at full resolution around each window, then a block-averaged 240 m
    overview, then the coarser layers) on the embedded 10 m LOLA tile (1600 x 1600), tiles of 400 cells (4 km)
    around its centre, against the untiled map with the 240 m DEM as far field. Same tolerances as the 240 m
    test (the sweep's p99 0.05 deg; 0.25 deg at the maximum for the far field's observer interpolation);
    measured 2026-12-03: p99 0.01 deg, p99.9 0.06 deg, max 0.19 deg."""
    from ilrs.services.data import global_dem, pole_dem, tile_dem
    from ilrs.services.horizon_maps import compute_horizon_map
    from ilrs.services.tiled import overview_factor

    d10 = tile_dem()
    grid = DemGrid.from_dem(d10)
    assert overview_factor(grid) == 24  # the ring-plus-overview path, not the DEM as its own far field
    ref = compute_horizon_map(d10, 2.0, N_AZ, pole_dem())
    tg = TileGrid(*d10.shape, 400, 128)
    c = d10.shape[0] // 2
    names = [t.name for t in tg.tiles() if t.r1 > c - 100 and t.r0 < c + 100 and t.c1 > c - 100 and t.c0 < c + 100]
    assert len(names) == 4
    spec = TiledSpec(2.0, N_AZ, 400, 128)
    res = run_tiled(grid, spec, tmp_path, far=Mosaic((pole_dem(), global_dem())), workers=0, only_tiles=names)
    err = []
    for t in tg.tiles():
        if t.name in names:
            with np.load(res.tile_path(t)) as f:
                err.append(np.abs(f["horizons"].astype(float) - ref[(slice(None), *t.core)]).ravel() / 100)
    e = np.concatenate(err)
    assert np.percentile(e, 99) <= 0.05
    assert e.max() <= 0.25
