"""``ilrs site horizon``, ``ilrs site map`` and ``ilrs site rank`` end to end, including bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest
import rasterio

from ilrs.constants import MOON_RADIUS_M
from ilrs.core import horizon as hz
from tests.clirunner import assert_ok, assert_user_error, invoke, output


def _write_dem(path, z, crs="IAU_2015:30135", x0=-20_000.0, y0=20_000.0, cell=240.0):
    from rasterio.transform import from_origin

    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=z.shape[1],
        height=z.shape[0],
        count=1,
        dtype="float32",
        crs=crs,
        transform=from_origin(x0, y0, cell, cell),
    ) as dst:
        dst.write(z.astype(np.float32), 1)


def test_horizon_netcdf_matches_the_kernel(tmp_path, pole_dem):
    import xarray as xr

    crop = pole_dem.crop(700, 764, 700, 764)
    src = tmp_path / "crop.tif"
    from ilrs.iotools.geotiff import write_geotiff

    write_geotiff(src, crop)
    out = tmp_path / "h.nc"
    r = assert_ok(invoke("site", "horizon", "--dem", src, "--azimuths", 72, "--height", 2, "--out", out, "--json"))
    summary = json.loads(r.stdout)
    ds = xr.open_dataset(out, engine="h5netcdf")
    h = ds["horizon"].values
    assert summary["out"] == str(out) and (summary["azimuths"], summary["rows"], summary["cols"]) == (72, 64, 64)
    # the JSON's figures are the file's (the file holds hundredths of a degree: 0.005 deg of rounding)
    assert summary["horizon_max_deg"] == pytest.approx(np.nanmax(h), abs=0.005)
    assert summary["horizon_min_deg"] == pytest.approx(np.nanmin(h), abs=0.005)
    assert summary["horizon_mean_deg"] == pytest.approx(np.nanmean(h), abs=0.005)
    assert ds["horizon"].shape == (72, 64, 64)
    betas = np.radians(np.arange(72) * 5.0)
    ref = hz.to_degrees(
        hz.horizon_sweep(crop.heights_m, 240.0, crop.x0, crop.y0, crop.dx, crop.dy, betas, 2.0, MOON_RADIUS_M, True)
    )
    got = ds["horizon"].values
    both = np.isfinite(ref) & np.isfinite(got)
    assert np.isfinite(got).sum() == np.isfinite(ref).sum()
    # the served map is quantised to 0.03 deg for the cache (docs/horizons.md): at most 0.01 deg from the sweep's
    # hundredths, plus the file's float32 of hundredths; the file states the bound
    assert ds["horizon"].attrs["quantisation_step_deg"] == pytest.approx(0.03)
    assert ds["horizon"].attrs["quantisation_max_error_deg"] == pytest.approx(0.015)
    assert np.allclose(got[both], ref[both], atol=0.01 + 0.001)


@pytest.mark.parametrize(
    "kind, needle",
    [("nan", "no valid height"), ("earth", "not on the moon"), ("holes", "no-data cells that no coarser dem covers")],
)
def test_horizon_bad_dem(tmp_path, kind, needle):
    z = np.full((32, 32), 100.0)
    crs = "IAU_2015:30135"
    if kind == "nan":
        z[:] = np.nan
    elif kind == "holes":
        z[10:12, 10:12] = np.nan
    else:
        crs = "EPSG:3031"
    src = tmp_path / f"{kind}.tif"
    _write_dem(src, z, crs=crs)
    out = tmp_path / "never.nc"
    assert_user_error(invoke("site", "horizon", "--dem", src, "--out", out, "--quiet"), needle)
    assert not out.exists()


@pytest.mark.slow
def test_rank_and_map_end_to_end(tmp_path):
    """The whole chain on the embedded 240 m DEM (the horizon map is computed once, then cached)."""
    args = ["--start", "2025-01-01", "--end", "2025-01-31", "--step", "6h"]
    r = assert_ok(invoke("site", "rank", "--top", 5, "--json", *args))
    ranked = json.loads(r.stdout)
    assert [s["rank"] for s in ranked] == [1, 2, 3, 4, 5]
    for s in ranked:
        assert -90 <= s["lat_deg"] <= -84 and 0 <= s["lon_deg"] < 360
        assert s["slope_deg"] <= 15.0 and 0 < s["sun_visible_fraction"] <= 1
    # the text says which ranked sites the 240 m DEM cannot resolve, as the JSON's warnings do (maps cached now)
    flagged = [s["rank"] for s in ranked if s["warnings"]]
    text = output(assert_ok(invoke("site", "rank", "--top", 5, "--quiet", *args)))
    if flagged:
        assert f"cannot resolve the terrain at {len(flagged)} of these sites" in text and "--dem" in text
    else:
        assert "cannot resolve" not in text
    out = tmp_path / "maps"
    summary = json.loads(assert_ok(invoke("site", "map", *args, "--region-km", 40, "--out", out, "--json")).stdout)
    # the summary names every map and the STAC catalogue (its items sit in a folder per layer beside them)
    assert sorted(summary["files"]) == sorted(str(p) for p in out.iterdir() if p.is_file())
    for name in (
        "sun_visible_fraction",
        "mean_disk_fraction",
        "longest_dark_hours",
        "earth_visible_fraction",
        "slope_deg",
        "never_lit",
        "distance_to_shadow_km",
    ):
        assert (out / f"{name}.png").stat().st_size > 10_000
        with rasterio.open(out / f"{name}.tif") as ds:
            assert ds.crs is not None and ds.width == ds.height
            a = ds.read(1).astype(float)
        assert np.isfinite(a).any()
        # the JSON's range is the GeoTIFF's (float32 in the file: relative rounding 6e-8)
        layer = summary["layers"][name]
        assert layer["max"] == pytest.approx(np.nanmax(a), rel=1e-6, abs=1e-6)
        assert layer["min"] == pytest.approx(np.nanmin(a), rel=1e-6, abs=1e-6)


def test_holes_are_filled_from_the_far_dem(tmp_path, pole_dem):
    """A DEM with a hole plus --far-dem: the hole takes the coarser DEM's heights, and the run succeeds."""
    from ilrs.config import PACKAGE_DATA
    from ilrs.iotools.geotiff import write_geotiff
    from ilrs.services.horizon_maps import fill_holes
    from ilrs.terrain.dem import Dem

    crop = pole_dem.crop(700, 748, 700, 748)
    z = crop.heights_m.copy()
    z[20:24, 20:24] = np.nan
    holed = Dem(z, crop.x0, crop.y0, crop.dx, crop.dy, crop.projection, "holed", "")
    filled, n = fill_holes(holed, pole_dem)
    assert n == 16
    assert np.allclose(filled.heights_m[20:24, 20:24], crop.heights_m[20:24, 20:24], atol=0.01)
    src = tmp_path / "holed.tif"
    write_geotiff(src, holed)
    out = tmp_path / "h.nc"
    r = invoke(
        "site",
        "horizon",
        "--dem",
        src,
        "--azimuths",
        8,
        "--out",
        out,
        "--quiet",
        "--far-dem",
        PACKAGE_DATA / "lola/south_pole_240m.tif",
    )
    assert_ok(r)
    assert out.exists()
