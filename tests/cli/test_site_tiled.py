"""``ilrs site horizon|map|rank --dem ... --tile N``: a user's DEM through the tiled path, and its bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.clirunner import invoke, output


@pytest.fixture(scope="module")
def small_tif(tmp_path_factory, pole_dem):
    """A 200 x 200 crop (48 km) of the 240 m DEM near the pole as the user's GeoTIFF."""
    from ilrs.iotools.geotiff import write_geotiff

    p = tmp_path_factory.mktemp("dem") / "site.tif"
    write_geotiff(p, pole_dem.crop(700, 900, 650, 850), cog=False)
    return p


def test_horizon_tiled_writes_the_same_horizons_as_the_service_and_resumes(small_tif, tmp_path):
    args = ["site", "horizon", "--dem", small_tif, "--azimuths", 16, "--tile", 96, "--halo", 32, "--workers", 0]
    r = invoke(*args, "--out", tmp_path / "h.nc", "--json")
    assert r.exit_code == 0, output(r)
    doc = json.loads(r.stdout)
    assert doc["tiles_computed"] == 9 and doc["tiles_reused"] == 0
    import xarray as xr

    with xr.open_dataset(tmp_path / "h.nc") as ds:
        assert ds["horizon"].shape == (16, 200, 200)
        assert np.isfinite(ds["horizon"].values).mean() > 0.99
    r = invoke(*args, "--out", tmp_path / "h.nc", "--json")  # the rerun reuses every tile
    assert json.loads(r.stdout)["tiles_reused"] == 9


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (["--tile", 20], "--tile: tile size 20 cells is below the overlap of 128 cells"),
        (["--tile", 96, "--halo", 8], "observer spacings"),
    ],
)
def test_horizon_tiled_bad_sizes_are_one_clear_line(small_tif, tmp_path, extra, needle):
    r = invoke("site", "horizon", "--dem", small_tif, "--out", tmp_path / "h.nc", "--workers", 0, *extra)
    assert r.exit_code != 0
    assert needle in output(r) and "Traceback" not in output(r)


def test_rank_on_own_dem(small_tif, tmp_path):
    r = invoke(
        "site",
        "rank",
        "--dem",
        small_tif,
        "--tile",
        100,
        "--halo",
        32,
        "--workers",
        0,
        "--start",
        "2025-01-01",
        "--end",
        "2025-01-08",
        "--step",
        "6h",
        "--top",
        3,
        "--json",
        "--work-dir",
        tmp_path / "tiles",
    )
    assert r.exit_code == 0, output(r)
    ranked = json.loads(r.stdout)
    assert 1 <= len(ranked) <= 3
    # every pick lies on the user's DEM
    from ilrs.iotools.dem_grid import open_dem_grid

    xmin, xmax, ymin, ymax = open_dem_grid(small_tif).bounds
    assert all(xmin <= s["x_m"] <= xmax and ymin <= s["y_m"] <= ymax for s in ranked)
