"""iotools: the real LOLA DEMs read and cross-checked, every bad input refused, and the atomic writers,
the disk cache and the table writers tested against independent readers (rasterio, zipfile, csv, json)."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import enum
import json
import os
import signal
import stat
import struct
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import rasterio
from pyproj import Transformer

from ilrs.errors import IlrsError
from ilrs.iotools import cache as cache_module
from ilrs.iotools.atomic import atomic_path, atomic_write_bytes, atomic_write_text
from ilrs.iotools.cache import DiskCache, load_npz_mmap
from ilrs.iotools.geotiff import read_geotiff, write_geotiff
from ilrs.iotools.pds3 import parse_label, read_pds3
from ilrs.iotools.tables import write_csv, write_json
from ilrs.terrain.projection import LonLat, PyprojProjection, SouthPolarStereographic

DATA = Path(__file__).resolve().parents[2] / "src" / "ilrs" / "data" / "lola"
POLAR_240 = DATA / "south_pole_240m.tif"
SITE01_10 = DATA / "site01_connecting_ridge_10m.tif"
LDEM_4 = DATA / "LDEM_4.LBL"
POLAR_PROJ = "+proj=stere +lat_0=-90 +lat_ts=-90 +lon_0=0 +k=1 +x_0=0 +y_0=0 +R=1737400 +units=m +no_defs"


@pytest.fixture(scope="module")
def polar():
    return read_geotiff(POLAR_240)


@pytest.fixture(scope="module")
def site01():
    return read_geotiff(SITE01_10)


@pytest.fixture(scope="module")
def ldem4():
    return read_pds3(LDEM_4)


def from_origin(west, north, dx, dy):
    """North-up geotransform (rasterio.transform.from_origin without its deprecated Affine product)."""
    return rasterio.Affine(dx, 0.0, west, 0.0, -dy, north)


def write_raster(path, z, crs, transform, nodata=None, dtype="float32"):
    """A test raster written with plain rasterio (independent of write_geotiff)."""
    z = np.asarray(z)
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=z.shape[-1],
        height=z.shape[-2],
        count=1,
        dtype=dtype,
        crs=crs,
        transform=transform,
        nodata=nodata,
    ) as dst:
        dst.write(z.astype(dtype), 1)
    return path


def residue(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if ".tmp" in p.name)


# ----------------------------------------------------------------------------------------------------
# the real DEMs (src/ilrs/data/PROVENANCE.md)


def test_polar_240m_georeferencing(polar):
    assert polar.shape == (1536, 1536)
    assert isinstance(polar.projection, SouthPolarStereographic)
    assert polar.projection.radius_m == 1_737_400.0
    assert polar.bounds == (-184320.0, 184320.0, -184320.0, 184320.0)
    assert (polar.dx, polar.dy) == (240.0, -240.0) and polar.cell_size_m == 240.0
    assert np.isfinite(polar.heights_m).all()
    # PROVENANCE.md: "reaches ~84.0 S on the axes, ~82.3 S in the corners". The axes check out; the corners
    # are at 81.4 S (rho = 260.7 km), and the corner data do agree with LDEM_4 there (correlation 0.996),
    # so it is PROVENANCE.md's corner figure that is off, not the file.
    lat_axis, _ = polar.projection.inverse(184320.0, 0.0)
    lat_corner, _ = polar.projection.inverse(184320.0, 184320.0)
    assert lat_axis == pytest.approx(-84.0, abs=0.1) and lat_corner == pytest.approx(-81.42, abs=0.01)
    # the pole sits at the centre, in the middle of the 1536 cells
    row, col = polar.fractional_index(0.0, 0.0)
    assert (row, col) == (767.5, 767.5)
    # lunar heights near the south pole: a few km either way
    assert -8000.0 < polar.heights_m.min() < polar.heights_m.max() < 9000.0


def test_site01_10m_georeferencing(site01):
    assert site01.shape == (1600, 1600)
    assert isinstance(site01.projection, SouthPolarStereographic)
    assert site01.bounds == (-19000.0, -3000.0, -20000.0, -4000.0)
    assert site01.cell_size_m == 10.0
    lat, lon = site01.latlon_grid()
    # "about 89.1-89.9 S, 200-250 E": the latitudes hold; 200-250 E is the middle of the tile (its corners
    # span 188.5-258.1 E, as they must this close to the pole)
    assert -89.9 < lat.min() < -89.8 and -89.1 < lat.max() < -89.0
    assert 188.0 < lon.min() and lon.max() < 258.5
    assert 200.0 < site01.projection.inverse(-11000.0, -12000.0)[1] < 250.0


def test_ldem4_georeferencing(ldem4):
    assert ldem4.shape == (720, 1440)
    assert isinstance(ldem4.projection, LonLat)
    assert ldem4.bounds == (0.0, 360.0, -90.0, 90.0)
    assert (ldem4.x0, ldem4.y0, ldem4.dx, ldem4.dy) == (0.125, 89.875, 0.25, -0.25)
    # LOLA's global range is about -9.1 km to +10.8 km (Smith et al. 2010); LDEM_4 is smoothed a little
    assert -9200.0 < ldem4.heights_m.min() < -8000.0 and 10000.0 < ldem4.heights_m.max() < 10900.0


def test_site01_agrees_with_polar_240m_where_they_overlap(polar, site01):
    """PROVENANCE.md's outside-world check: block-average the 10 m tile onto the 240 m cells.

    The two are different LOLA products (PGDA 78 at 5 m vs LDEM_75S_120M), and the 240 m map is a bilinear
    resampling of the 120 m one, i.e. a smoothed point sample rather than a block mean: on this ridge's
    ~30 m of relief per 240 m cell that leaves a few metres RMS (PROVENANCE.md measured 3.7 m with its own
    smoothing). So: bias within 1 m, RMS within 5 m, and the same comparison shifted by a quarter cell must be
    clearly worse, which pins the georeferencing of both files to better than ~60 m.
    """
    n = round(polar.dx / site01.dx)
    assert n == 24
    # first fine row/column whose top/left edge lies on a coarse cell edge
    col_edge = (site01.x0 - site01.dx / 2 - (polar.x0 - polar.dx / 2)) / polar.dx
    row_edge = (site01.y0 - site01.dy / 2 - (polar.y0 - polar.dy / 2)) / polar.dy
    col0 = round((np.ceil(col_edge) - col_edge) * n)
    row0 = round((np.ceil(row_edge) - row_edge) * n)
    z = site01.heights_m[row0:, col0:]
    rows, cols = z.shape[0] // n, z.shape[1] // n
    blocks = z[: rows * n, : cols * n].reshape(rows, n, cols, n).mean(axis=(1, 3))
    xc = site01.x0 + (col0 + (n - 1) / 2) * site01.dx + polar.dx * np.arange(cols)
    yc = site01.y0 + (row0 + (n - 1) / 2) * site01.dy + polar.dy * np.arange(rows)
    xx, yy = np.meshgrid(xc, yc)
    r, c = polar.fractional_index(xx, yy)
    np.testing.assert_allclose(r, np.round(r), atol=1e-9)  # the blocks are exactly the coarse cells
    np.testing.assert_allclose(c, np.round(c), atol=1e-9)
    diff = blocks - polar.sample(xx, yy)
    assert diff.size > 4000 and np.isfinite(diff).all()
    bias, rms = diff.mean(), np.sqrt(np.mean(diff**2))
    assert abs(bias) < 1.0, bias
    assert rms < 5.0, rms
    for dx, dy in ((60.0, 0.0), (-60.0, 0.0), (0.0, 60.0), (0.0, -60.0)):
        shifted = blocks - polar.sample(xx + dx, yy + dy)
        assert np.sqrt(np.mean(shifted**2)) > 2.0 * rms


def test_ldem4_agrees_with_polar_240m_in_84_to_88_south(polar, ldem4):
    """Two independent LOLA gridding runs (global 4 px/deg vs polar 120 m) over the same terrain."""
    lat, lon = np.meshgrid(np.arange(-88.0, -84.0 + 1e-9, 0.05), np.arange(0.0, 360.0, 0.25))
    a = polar.sample_latlon(lat, lon)
    b = ldem4.sample_latlon(lat, lon)
    ok = np.isfinite(a) & np.isfinite(b)
    assert ok.mean() > 0.95
    assert np.corrcoef(a[ok], b[ok])[0, 1] > 0.95
    # no systematic offset between the two products' reference spheres either
    assert abs(np.mean(a[ok] - b[ok])) < 10.0


# ----------------------------------------------------------------------------------------------------
# GeoTIFFs in other lunar CRSs


def test_equirectangular_geotiff_samples_like_the_polar_dem(polar, tmp_path):
    """Resample the polar DEM onto the lunar equirectangular map IAU_2015:30110 (cell lat/lon from pyproj),
    write it with plain rasterio, read it back: it goes through PyprojProjection and gives the same heights.

    At the grid's own cell centres that is exact (float32); at random points the two bilinear resamplings
    differ by interpolation error only: RMS ~1 m against ~30 m of height change between neighbouring 240 m
    cells. The control shows what a quarter-cell (60 m) georeferencing error would do.
    """
    radius = 1_737_400.0
    lon_w, lon_e, lat_s, lat_n = 30.0, 60.0, -86.0, -84.5
    dx, dy = 1000.0, 240.0  # about 87 m x 240 m on the ground at 85 S
    x_w, y_n = radius * np.radians(lon_w), radius * np.radians(lat_n)
    cols = int(radius * np.radians(lon_e - lon_w) / dx)
    rows = int(radius * np.radians(lat_n - lat_s) / dy)
    xx, yy = np.meshgrid(x_w + dx * (np.arange(cols) + 0.5), y_n - dy * (np.arange(rows) + 0.5))
    lon, lat = Transformer.from_crs("IAU_2015:30110", "IAU_2015:30100", always_xy=True).transform(xx, yy)
    z = polar.sample_latlon(lat, lon).astype(np.float32)
    assert np.isfinite(z).all()
    path = write_raster(tmp_path / "eqc.tif", z, "IAU_2015:30110", from_origin(x_w, y_n, dx, dy))

    eqc = read_geotiff(path)
    assert isinstance(eqc.projection, PyprojProjection)
    assert eqc.cell_size_m == dx
    np.testing.assert_allclose(eqc.sample_latlon(lat, lon), z, rtol=0, atol=1e-3)

    rng = np.random.default_rng(7)
    la, lo = rng.uniform(-85.9, -84.6, 20000), rng.uniform(30.1, 59.9, 20000)
    diff = eqc.sample_latlon(la, lo) - polar.sample_latlon(la, lo)
    assert np.isfinite(diff).all()
    rms = np.sqrt(np.mean(diff**2))
    assert rms < 2.0, rms
    x, y = polar.projection.forward(la, lo)
    control = eqc.sample_latlon(la, lo) - polar.sample(x + 60.0, y)
    assert np.sqrt(np.mean(control**2)) > 3.0 * rms


def test_polar_geotiff_from_a_proj_string_takes_the_fast_path(polar, tmp_path):
    crop = polar.crop(700, 800, 650, 760)
    t = from_origin(crop.x0 - crop.dx / 2, crop.y0 - crop.dy / 2, crop.dx, -crop.dy)
    dem = read_geotiff(write_raster(tmp_path / "proj.tif", crop.heights_m, POLAR_PROJ, t))
    assert isinstance(dem.projection, SouthPolarStereographic)
    assert dem.projection.radius_m == 1_737_400.0
    assert (dem.x0, dem.y0, dem.dx, dem.dy) == (crop.x0, crop.y0, crop.dx, crop.dy)
    np.testing.assert_array_equal(dem.heights_m, crop.heights_m.astype(np.float32))


def test_polar_geotiff_with_another_true_scale_latitude_goes_through_pyproj(polar, tmp_path):
    """lat_ts = -80 rescales the map by k = 0.992: not the closed form, so PROJ must handle it, correctly."""
    crop = polar.crop(700, 760, 650, 720)
    lat, lon = crop.latlon_grid()
    crs = POLAR_PROJ.replace("+lat_ts=-90", "+lat_ts=-80")
    x, y = Transformer.from_crs("IAU_2015:30100", crs, always_xy=True).transform(lon, lat)
    z = crop.heights_m
    # a grid whose cell centres are the crop's points mapped into the rescaled plane (it stays regular)
    dx, dy = x[0, 1] - x[0, 0], y[1, 0] - y[0, 0]
    t = from_origin(x[0, 0] - dx / 2, y[0, 0] - dy / 2, dx, -dy)
    dem = read_geotiff(write_raster(tmp_path / "ts80.tif", z, crs, t))
    assert isinstance(dem.projection, PyprojProjection)
    np.testing.assert_allclose(
        dem.sample_latlon(lat[1:-1, 1:-1], lon[1:-1, 1:-1]), z[1:-1, 1:-1].astype(np.float32), rtol=0, atol=1e-3
    )


def test_geotiff_scale_offset_and_nodata_are_applied(tmp_path):
    raw = np.array([[100, 200], [-32768, 400]], dtype=np.int16)
    path = write_raster(
        tmp_path / "scaled.tif", raw, "IAU_2015:30135", from_origin(0, 0, 10, 10), nodata=-32768, dtype="int16"
    )
    with rasterio.open(path, "r+") as dst:
        dst.scales, dst.offsets = (0.5,), (-10.0,)
    dem = read_geotiff(path)
    np.testing.assert_array_equal(dem.heights_m, [[40.0, 90.0], [np.nan, 190.0]])


# ----------------------------------------------------------------------------------------------------
# bad GeoTIFFs: one IlrsError naming the file and saying what to do


def expect_error(fn, path, *fragments):
    with pytest.raises(IlrsError) as info:
        fn(path)
    message = str(info.value)
    assert str(path) in message, message
    assert info.value.hint, message
    for fragment in fragments:
        assert fragment.lower() in message.lower(), message
    return message


def test_missing_geotiff(tmp_path):
    expect_error(read_geotiff, tmp_path / "nope.tif", "not found")


def test_truncated_real_geotiff(tmp_path):
    data = POLAR_240.read_bytes()
    cut = tmp_path / "cut.tif"
    cut.write_bytes(data[: len(data) // 2])
    expect_error(read_geotiff, cut, "cannot read", "truncated")


def test_truncated_geotiff_with_header_first(tmp_path, site01):
    """A file whose directory comes first opens fine; the read of the missing half must still fail."""
    path = write_geotiff(tmp_path / "whole.tif", site01)
    data = path.read_bytes()
    assert struct.unpack("<I", data[4:8])[0] < len(data) // 2  # the directory is in the first half
    cut = tmp_path / "cut.tif"
    cut.write_bytes(data[: len(data) // 2])
    expect_error(read_geotiff, cut, "cannot read")


@pytest.mark.parametrize("content", [os.urandom(4096), b"0 0 1\n1 0 2\n0 1 3\n1 1 4\n", b"hello\n"])
def test_not_a_raster(tmp_path, content):
    """Random bytes, and text files, including an XYZ grid that GDAL would happily open as a raster."""
    path = tmp_path / "thing.tif"
    path.write_bytes(content)
    expect_error(read_geotiff, path, "not a TIFF")


def test_directory_instead_of_geotiff(tmp_path):
    expect_error(read_geotiff, tmp_path, "not a file")


@pytest.mark.parametrize("crs", ["EPSG:4326", "EPSG:3031"])
def test_earth_crs_is_not_on_the_moon(tmp_path, crs):
    path = write_raster(tmp_path / "earth.tif", np.ones((4, 4)), crs, from_origin(1000, 2000, 10, 10))
    expect_error(read_geotiff, path, "not on the Moon", "reproject")


def test_geotiff_without_crs(tmp_path):
    path = write_raster(tmp_path / "nocrs.tif", np.ones((4, 4)), None, from_origin(1000, 2000, 10, 10))
    expect_error(read_geotiff, path, "no CRS")


def test_geotiff_with_an_unknown_crs_code(tmp_path):
    """A ProjectedCSTypeGeoKey that no registry knows: GDAL falls back to a datum-less local CRS."""
    path = write_raster(tmp_path / "known.tif", np.ones((4, 4)), "EPSG:3031", from_origin(1000, 2000, 10, 10))
    data = bytearray(path.read_bytes())
    key = struct.pack("<4H", 3072, 0, 1, 3031)  # GeoKey ProjectedCSTypeGeoKey = 3031
    at = data.find(key)
    assert at > 0
    data[at : at + 8] = struct.pack("<4H", 3072, 0, 1, 29999)
    path.write_bytes(bytes(data))
    expect_error(read_geotiff, path, "unknown")


def test_malformed_crs_text(tmp_path):
    from ilrs.iotools.geotiff import _projection_from_crs

    expect_error(lambda p: _projection_from_crs("PROJCS[nonsense", p, 0.0), tmp_path / "x.tif", "CRS")


@pytest.mark.parametrize("fill, nodata", [(np.nan, None), (-9999.0, -9999.0)])
def test_dem_without_any_valid_height(tmp_path, fill, nodata):
    path = write_raster(
        tmp_path / "empty.tif", np.full((5, 5), fill), "IAU_2015:30135", from_origin(0, 0, 10, 10), nodata=nodata
    )
    expect_error(read_geotiff, path, "no valid height")


def test_dem_of_radii_instead_of_heights(tmp_path):
    path = write_raster(
        tmp_path / "radii.tif",
        np.full((5, 5), 1_737_400.0 + 1234.0),
        "IAU_2015:30135",
        from_origin(0, 0, 10, 10),
        dtype="float64",
    )
    expect_error(read_geotiff, path, "radii")


@pytest.mark.filterwarnings("ignore::rasterio.errors.NotGeoreferencedWarning")
def test_geotiff_with_a_crs_but_no_geotransform(tmp_path):
    path = tmp_path / "nogt.tif"
    with rasterio.open(
        path, "w", driver="GTiff", width=4, height=4, count=1, dtype="float32", crs="IAU_2015:30135"
    ) as dst:
        dst.write(np.ones((1, 4, 4), dtype=np.float32))
    expect_error(read_geotiff, path, "georeferencing")


def test_bad_band_and_rotated_grid(tmp_path):
    path = write_raster(tmp_path / "one.tif", np.ones((4, 4)), "IAU_2015:30135", from_origin(1000, 2000, 10, 10))
    with pytest.raises(IlrsError, match="band 2"):
        read_geotiff(path, band=2)
    rotated = rasterio.Affine(10.0, 2.0, 1000.0, 1.0, -10.0, 2000.0)
    path = write_raster(tmp_path / "rot.tif", np.ones((4, 4)), "IAU_2015:30135", rotated)
    expect_error(read_geotiff, path, "rotated")


# ----------------------------------------------------------------------------------------------------
# write_geotiff


def test_write_geotiff_round_trip(polar, tmp_path):
    path = write_geotiff(tmp_path / "out.tif", polar)
    with rasterio.open(path) as src:  # what other tools see
        assert src.dtypes == ("float32",) and src.compression.name.lower() == "deflate"
        assert src.crs.to_epsg() is None and "South Polar" in src.crs.to_wkt()
        assert src.transform == rasterio.Affine(240.0, 0.0, -184320.0, 0.0, -240.0, 184320.0)
    back = read_geotiff(path)
    assert isinstance(back.projection, SouthPolarStereographic)
    assert (back.x0, back.y0, back.dx, back.dy) == (polar.x0, polar.y0, polar.dx, polar.dy)
    np.testing.assert_array_equal(back.heights_m, polar.heights_m)  # the source is float32 already
    assert residue(tmp_path) == []


def test_write_geotiff_multiband_with_nodata(site01, tmp_path):
    stack = np.stack([site01.heights_m, site01.heights_m + 0.25, np.full(site01.shape, np.nan)])
    stack[0, 5, 7] = np.nan
    path = write_geotiff(
        tmp_path / "stack.tif", stack, grid=site01, nodata=-32768.0, band_names=["h", "h_plus", "empty"]
    )
    with rasterio.open(path) as src:
        assert src.count == 3 and src.descriptions == ("h", "h_plus", "empty") and src.nodata == -32768.0
        assert src.read(1)[5, 7] == -32768.0
    second = read_geotiff(path, band=2)
    np.testing.assert_allclose(second.heights_m, (site01.heights_m + 0.25).astype(np.float32))
    assert np.isnan(read_geotiff(path, band=1).heights_m[5, 7])
    with pytest.raises(IlrsError, match="no valid height"):
        read_geotiff(path, band=3)


def test_write_geotiff_lonlat_and_pyproj_grids(ldem4, tmp_path):
    back = read_geotiff(write_geotiff(tmp_path / "ldem4.tif", ldem4))
    assert isinstance(back.projection, LonLat)
    assert (back.x0, back.y0, back.dx, back.dy) == (ldem4.x0, ldem4.y0, ldem4.dx, ldem4.dy)
    lat, lon = np.array([-85.3, 0.05, 45.0]), np.array([359.9, 0.01, 181.0])
    np.testing.assert_allclose(back.sample_latlon(lat, lon), ldem4.sample_latlon(lat, lon), atol=1e-3)


def test_write_geotiff_is_atomic(site01, tmp_path):
    path = write_geotiff(tmp_path / "dem.tif", site01)
    before = path.read_bytes()
    with pytest.raises(AttributeError):  # fails inside the GDAL write, after the data went out
        write_geotiff(path, site01.heights_m * 2, grid=site01, band_names=[object()])
    assert path.read_bytes() == before and residue(tmp_path) == []
    with pytest.raises(ValueError, match="does not match"):
        write_geotiff(path, site01.heights_m[:10], grid=site01)
    with pytest.raises(TypeError, match="grid="):
        write_geotiff(path, site01.heights_m)
    assert path.read_bytes() == before and residue(tmp_path) == []


# ----------------------------------------------------------------------------------------------------
# PDS3


def ldem4_copy(tmp_path: Path, label_edit=None, image_bytes: bytes | None = None) -> Path:
    label = LDEM_4.read_text()
    if label_edit is not None:
        label = label_edit(label)
    (tmp_path / "LDEM_4.LBL").write_text(label)
    data = (DATA / "LDEM_4.IMG").read_bytes() if image_bytes is None else image_bytes
    (tmp_path / "LDEM_4.IMG").write_bytes(data)
    return tmp_path / "LDEM_4.LBL"


def test_parse_label_objects_units_and_multiline():
    """pvl's types: integers, quoted text without quotes, values with units, multi-line lists, based integers."""
    from pvl.collections import Quantity

    label = parse_label(LDEM_4.read_text())
    assert label["IMAGE"]["LINES"] == 720 and label["IMAGE"]["SAMPLE_TYPE"] == "LSB_INTEGER"
    assert label["IMAGE_MAP_PROJECTION"]["MAP_RESOLUTION"] == Quantity(4, "pix/deg")
    assert label["IMAGE"]["DESCRIPTION"].startswith("Each sample is a height")
    assert label["^IMAGE"] == "LDEM_4.IMG"
    nested = parse_label('A = (1,\n 2)\nD = "a (b"\nM = 16#FF7FFFFB#\nGROUP = G\n B = "x"\nEND_GROUP = G\nEND\nC = 3\n')
    assert nested == {"A": [1, 2], "D": "a (b", "M": 0xFF7FFFFB, "G": {"B": "x"}}


def test_pds3_label_syntax_error_names_file_line_and_column(tmp_path):
    """A label pvl cannot parse (an object closed under another name) is refused with its file, line and column."""
    label = ldem4_copy(tmp_path, lambda t: t.replace("END_OBJECT                = IMAGE\n", "END_OBJECT = IMAGES\n"))
    with pytest.raises(IlrsError, match=r"malformed PDS3 label at line 30, column \d+") as info:
        read_pds3(label)
    assert str(label) in str(info.value) and info.value.hint


@pytest.mark.parametrize(
    "pointer, prefix",
    [
        ('("LDEM_4.IMG", 1)', b""),
        ('("LDEM_4.IMG", 2)', b"\0" * 2880),  # in records of RECORD_BYTES = 2880
        ('("LDEM_4.IMG", 101 <BYTES>)', b"\0" * 100),
    ],
)
def test_pds3_image_pointer_with_offset(tmp_path, ldem4, pointer, prefix):
    data = prefix + (DATA / "LDEM_4.IMG").read_bytes()
    label = ldem4_copy(tmp_path, lambda t: t.replace('"LDEM_4.IMG"', pointer), image_bytes=data)
    np.testing.assert_array_equal(read_pds3(label).heights_m, ldem4.heights_m)


def test_pds3_polar_stereographic_label_follows_lola_convention(polar, tmp_path):
    """Write the 240 m DEM as a LOLA-style polar IMG (int16, 0.5 m, OFFSET = sphere radius, pole-centred
    offsets (N - 1) / 2 as in LDEM_75S_120M.LBL): the label alone must reproduce the GeoTIFF's grid."""
    raw = np.round(polar.heights_m / 0.5).astype("<i2")
    (tmp_path / "POLAR.IMG").write_bytes(raw.tobytes())
    label = textwrap.dedent("""\
        PDS_VERSION_ID = PDS3
        RECORD_TYPE = FIXED_LENGTH
        RECORD_BYTES = 3072
        ^IMAGE = "POLAR.IMG"
        TARGET_NAME = MOON
        OBJECT = IMAGE
          LINES = 1536
          LINE_SAMPLES = 1536
          SAMPLE_TYPE = LSB_INTEGER
          SAMPLE_BITS = 16
          SCALING_FACTOR = 0.5
          OFFSET = 1737400.
        END_OBJECT = IMAGE
        OBJECT = IMAGE_MAP_PROJECTION
          MAP_PROJECTION_TYPE = "POLAR STEREOGRAPHIC"
          A_AXIS_RADIUS = 1737.4 <KM>
          CENTER_LATITUDE = -90. <DEG>
          CENTER_LONGITUDE = 0. <DEG>
          MAP_SCALE = 0.24 <KM/PIXEL>
          LINE_PROJECTION_OFFSET = 767.5 <PIXEL>
          SAMPLE_PROJECTION_OFFSET = 767.5 <PIXEL>
        END_OBJECT = IMAGE_MAP_PROJECTION
        END
        """)
    (tmp_path / "POLAR.LBL").write_text(label)
    dem = read_pds3(tmp_path / "POLAR.LBL")
    assert isinstance(dem.projection, SouthPolarStereographic)
    assert (dem.x0, dem.y0, dem.dx, dem.dy) == (polar.x0, polar.y0, polar.dx, polar.dy)
    np.testing.assert_allclose(dem.heights_m, polar.heights_m, atol=0.25)
    # the same label in metres per pixel
    (tmp_path / "POLAR_M.LBL").write_text(label.replace("0.24 <KM/PIXEL>", "240 <METERS/PIXEL>"))
    assert read_pds3(tmp_path / "POLAR_M.LBL").dx == 240.0


def test_pds3_attached_label_and_based_missing_constant(tmp_path):
    """An IMG with its label in front (^IMAGE counts records) and a float MISSING_CONSTANT bit pattern."""
    z = np.arange(12, dtype="<f4").reshape(3, 4) * 10.0
    z[1, 2] = np.frombuffer(struct.pack("<I", 0xFF7FFFFB), "<f4")[0]  # LOLA's float no-data pattern
    label = textwrap.dedent("""\
        PDS_VERSION_ID = PDS3
        RECORD_TYPE = FIXED_LENGTH
        RECORD_BYTES = 16
        LABEL_RECORDS = {n}
        ^IMAGE = {start}
        OBJECT = IMAGE
          LINES = 3
          LINE_SAMPLES = 4
          SAMPLE_TYPE = PC_REAL
          SAMPLE_BITS = 32
          MISSING_CONSTANT = 16#FF7FFFFB#
        END_OBJECT = IMAGE
        OBJECT = IMAGE_MAP_PROJECTION
          MAP_PROJECTION_TYPE = "SIMPLE CYLINDRICAL"
          CENTER_LATITUDE = 0.
          CENTER_LONGITUDE = 180.
          MAP_RESOLUTION = 1 <PIX/DEG>
          LINE_PROJECTION_OFFSET = 1.5
          SAMPLE_PROJECTION_OFFSET = 1.5
        END_OBJECT = IMAGE_MAP_PROJECTION
        END
        """)
    text = label.format(n=99, start=100)
    n = -(-len(text) // 16)
    text = label.format(n=n, start=n + 1).ljust(n * 16)
    path = tmp_path / "ATTACHED.IMG"
    path.write_bytes(text.encode("ascii") + z.tobytes())
    dem = read_pds3(path)
    assert np.isnan(dem.heights_m[1, 2]) and np.isnan(dem.heights_m).sum() == 1
    np.testing.assert_array_equal(dem.heights_m[0], [0.0, 10.0, 20.0, 30.0])
    assert (dem.x0, dem.y0) == (178.5, 1.5)


@pytest.mark.parametrize(
    "edit, fragments",
    [
        (lambda t: t.replace("  LINES                   = 720\n", ""), ["lacks LINES"]),
        (lambda t: t.replace("LSB_INTEGER", "VAX_REAL"), ["SAMPLE_TYPE VAX_REAL"]),
        (lambda t: t.replace('"SIMPLE CYLINDRICAL"', '"MERCATOR"'), ["MERCATOR", "supported"]),
        (lambda t: t.replace("SCALING_FACTOR          = 0.5", "SCALING_FACTOR = half"), ["SCALING_FACTOR"]),
        (lambda t: t.replace("TARGET_NAME               = MOON", "TARGET_NAME = MARS"), ["MARS"]),
        (
            lambda t: t.replace("OBJECT                    = IMAGE_MAP_PROJECTION", "OBJECT = MAP"),
            ["IMAGE_MAP_PROJECTION"],
        ),
    ],
)
def test_pds3_bad_labels(tmp_path, edit, fragments):
    label = ldem4_copy(tmp_path, edit)
    expect_error(read_pds3, label, *fragments)


def test_pds3_truncated_and_missing_image(tmp_path):
    data = (DATA / "LDEM_4.IMG").read_bytes()
    label = ldem4_copy(tmp_path, image_bytes=data[: len(data) // 2])
    with pytest.raises(IlrsError, match="truncated") as info:
        read_pds3(label)
    assert "LDEM_4.IMG" in str(info.value) and info.value.hint
    (tmp_path / "LDEM_4.IMG").unlink()
    expect_error(read_pds3, label, "LDEM_4.IMG", "not found")
    expect_error(read_pds3, tmp_path / "NONE.LBL", "not found")


def test_pds3_not_a_label(tmp_path):
    path = tmp_path / "junk.lbl"
    path.write_bytes(os.urandom(2000))
    expect_error(read_pds3, path, "not a PDS3 label")


# ----------------------------------------------------------------------------------------------------
# atomic writes


def test_atomic_write_bytes_and_text(tmp_path):
    path = atomic_write_bytes(tmp_path / "a.bin", b"\x00\x01")
    assert path.read_bytes() == b"\x00\x01"
    atomic_write_text(tmp_path / "a.txt", "Mond\n")
    assert (tmp_path / "a.txt").read_text() == "Mond\n"
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask
    assert residue(tmp_path) == []


def test_exception_mid_write_leaves_no_file_and_no_residue(tmp_path):
    target = tmp_path / "new.dat"
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        assert tmp.parent == tmp_path and tmp.exists()
        tmp.write_bytes(b"half")
        raise RuntimeError("disk on fire")
    assert not target.exists() and list(tmp_path.iterdir()) == []


def test_existing_file_is_never_half_overwritten(tmp_path, monkeypatch):
    target = tmp_path / "keep.dat"
    target.write_bytes(b"old complete contents")
    target.chmod(0o640)
    with pytest.raises(KeyboardInterrupt), atomic_path(target) as tmp, open(tmp, "wb") as f:
        f.write(b"new but")
        raise KeyboardInterrupt
    assert target.read_bytes() == b"old complete contents" and residue(tmp_path) == []

    def failing_replace(src, dst):
        raise OSError("rename failed")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError, match="rename failed"):
        atomic_write_bytes(target, b"new complete contents")
    monkeypatch.undo()
    assert target.read_bytes() == b"old complete contents" and residue(tmp_path) == []
    atomic_write_bytes(target, b"new complete contents")
    assert target.read_bytes() == b"new complete contents"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640  # an existing file keeps its permissions


def test_killed_writer_leaves_the_old_file(tmp_path):
    """SIGKILL in the middle of a write: no cleanup code runs, yet the target is the old file."""
    target = tmp_path / "keep.dat"
    target.write_bytes(b"old")
    code = textwrap.dedent(f"""
        import sys, time
        from ilrs.iotools.atomic import atomic_path
        with atomic_path({str(target)!r}) as tmp, open(tmp, "wb") as f:
            f.write(b"new" * 100000)
            f.flush()
            print("writing", flush=True)
            time.sleep(60)
        """)
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "writing"
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.stdout.close()
        proc.wait(timeout=30)
    assert target.read_bytes() == b"old"


def test_atomic_path_refuses_a_missing_directory(tmp_path):
    with pytest.raises(IlrsError, match="does not exist"):
        atomic_write_text(tmp_path / "no" / "such" / "file.txt", "x")


# ----------------------------------------------------------------------------------------------------
# DiskCache


class Colour(enum.Enum):
    RED = 1


@dataclasses.dataclass(frozen=True)
class Params:
    step_s: float
    name: str


def test_cache_key_is_stable_and_discriminating(tmp_path):
    key = DiskCache.key
    parts = dict(a=1, b=2.5, c="x", d=(1, 2), e=np.arange(6, dtype=np.int32))
    assert key(**parts) == key(**dict(reversed(parts.items())))
    # pinned: the encoding must not drift silently between versions (that would orphan every cache entry)
    assert key(a=1, b=2.5, c="x") == "efe1a8382bd0881c92ef933bde72eca7d5188f4a754181b327f10bc2c78edd64"
    a = np.arange(6, dtype=np.int32)
    variants = [
        key(x=a),
        key(x=a.reshape(2, 3)),
        key(x=a.astype(np.int64)),
        key(x=a.view(np.float32)),
        key(x=1),
        key(x=1.0),
        key(x="1"),
        key(x=True),
        key(x=None),
        key(x=[1]),
        key(x=(1, 2)),
        key(x=-0.0),
        key(x=0.0),
        key(x=float("nan")),
        key(y=1),
        key(x=Colour.RED),
        key(x=Params(1.0, "a")),
        key(x=Params(1.0, "b")),
        key(x=dt.datetime(2030, 1, 1, tzinfo=dt.UTC)),
        key(x={"k": 1}),
    ]
    assert len(set(variants)) == len(variants)
    assert key(x=np.float64(2.5)) == key(x=2.5) and key(x=np.int16(3)) == key(x=3)
    assert key(x=np.asfortranarray(np.eye(3))) == key(x=np.eye(3))  # same values, same key
    with pytest.raises(TypeError, match="cannot hash"):
        key(x=object())


def test_cache_key_hashes_file_contents(tmp_path, monkeypatch):
    one, two = tmp_path / "one.bin", tmp_path / "two.bin"
    one.write_bytes(b"A" * 1000)
    two.write_bytes(b"A" * 1000)
    assert DiskCache.key(dem=one) == DiskCache.key(dem=two)  # by content, not by name
    before = DiskCache.key(dem=one)
    stat_before = one.stat()
    one.write_bytes(b"B" * 1000)  # same size ...
    os.utime(one, ns=(stat_before.st_atime_ns, stat_before.st_mtime_ns))  # ... same mtime
    assert DiskCache.key(dem=two.rename(tmp_path / "three.bin")) == before
    fresh = tmp_path / "fresh.bin"
    fresh.write_bytes(b"B" * 1000)
    os.utime(fresh, ns=(stat_before.st_atime_ns, stat_before.st_mtime_ns))
    assert DiskCache.key(dem=fresh) != before  # size + mtime equal, contents differ: different key

    calls = []
    real = cache_module.hashlib.file_digest
    monkeypatch.setattr(cache_module.hashlib, "file_digest", lambda f, d: calls.append(1) or real(f, d))
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(1 << 20))
    k1, k2 = DiskCache.key(dem=big), DiskCache.key(dem=big)
    assert k1 == k2 and len(calls) == 1  # memoised per (path, size, mtime_ns)
    big.write_bytes(os.urandom(1 << 20))
    os.utime(big, ns=(1, 10**18))
    assert DiskCache.key(dem=big) != k1 and len(calls) == 2
    with pytest.raises(IlrsError, match="not found"):
        DiskCache.key(dem=tmp_path / "missing.tif")


def test_cache_miss_then_hit(tmp_path):
    cache = DiskCache(tmp_path / "cache")
    calls = []
    big = np.random.default_rng(0).normal(size=(300, 200))

    def compute():
        calls.append(1)
        return {
            "horizon": big,
            "az": np.arange(5.0),
            "f": np.asfortranarray(big[:3, :4]),
            "empty": np.zeros((0, 3)),
            "flag": np.array(True),
        }

    key = cache.key(dem="x", step=1)
    first = cache.get_or_compute("horizons", key, compute)
    second = cache.get_or_compute("horizons", key, compute)
    assert len(calls) == 1 and (cache.hits, cache.misses) == (1, 1)
    assert set(second) == set(first)
    for name in first:
        np.testing.assert_array_equal(second[name], first[name])
        assert second[name].dtype == first[name].dtype and second[name].shape == first[name].shape
        assert not second[name].flags.writeable and not first[name].flags.writeable
    assert second["f"].flags.f_contiguous
    path = tmp_path / "cache" / "horizons" / f"{key}.npz"
    assert path.is_file() and residue(path.parent) == []
    assert isinstance(second["horizon"].base, np.memmap) or isinstance(second["horizon"].base.base, np.memmap)
    with np.load(path) as npz:  # a plain .npz that numpy itself reads
        np.testing.assert_array_equal(npz["horizon"], big)


@pytest.mark.parametrize("damage", ["truncate", "flip", "garbage", "empty"])
def test_corrupt_cache_file_is_deleted_and_recomputed(tmp_path, damage, caplog):
    cache = DiskCache(tmp_path)
    good = np.arange(10000.0)
    key = cache.key(n=1)
    cache.get_or_compute("ns", key, lambda: {"v": good})
    path = cache.path("ns", key)
    data = path.read_bytes()
    if damage == "truncate":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "flip":
        i = len(data) // 2  # inside the array's bytes
        path.write_bytes(data[:i] + bytes([data[i] ^ 0x10]) + data[i + 1 :])
    elif damage == "garbage":
        path.write_bytes(os.urandom(len(data)))
    else:
        path.write_bytes(b"")
    with pytest.raises(cache_module.CorruptCacheFile):
        load_npz_mmap(path)
    again = cache.get_or_compute("ns", key, lambda: {"v": good + 0.0})
    np.testing.assert_array_equal(again["v"], good)
    assert cache.misses == 2 and "corrupt" in caplog.text
    np.testing.assert_array_equal(load_npz_mmap(path)["v"], good)  # rewritten whole


def test_disabled_cache_always_computes_and_writes_nothing(tmp_path):
    cache = DiskCache(tmp_path / "c", enabled=False)
    calls = []
    for _ in range(3):
        out = cache.get_or_compute("ns", "k", lambda: calls.append(1) or {"v": np.ones(3)})
        np.testing.assert_array_equal(out["v"], 1.0)
    assert len(calls) == 3 and not (tmp_path / "c").exists()


def test_cache_refuses_bad_names_and_results(tmp_path):
    cache = DiskCache(tmp_path)
    for namespace, key in (("../up", "k"), ("ns", ".hidden"), ("", "k"), ("ns", "a/b")):
        with pytest.raises(ValueError):
            cache.get_or_compute(namespace, key, lambda: {"v": np.ones(1)})
    with pytest.raises(TypeError):
        cache.get_or_compute("ns", "k", lambda: np.ones(3))
    with pytest.raises(TypeError, match="object"):
        cache.get_or_compute("ns", "k", lambda: {"v": np.array([None, 1])})
    with pytest.raises(ValueError):
        cache.get_or_compute("ns", "k", lambda: {"file": np.ones(1)})
    assert not cache.path("ns", "k").exists()


def test_unwritable_cache_still_returns_results(tmp_path, caplog):
    blocker = tmp_path / "root"
    blocker.write_text("a file where the cache directory should be")
    out = DiskCache(blocker).get_or_compute("ns", "k", lambda: {"v": np.ones(2)})
    np.testing.assert_array_equal(out["v"], 1.0)
    assert "cannot write" in caplog.text


def test_cache_clear(tmp_path):
    cache = DiskCache(tmp_path)
    for i in range(3):
        cache.get_or_compute("a" if i else "b", f"k{i}", lambda: {"v": np.ones(1)})
    (tmp_path / "a" / ".k9.0123.tmp.npz").write_bytes(b"left by a killed writer")
    assert cache.clear("a") == 2 and list((tmp_path / "a").iterdir()) == []
    assert cache.clear() == 1


# ----------------------------------------------------------------------------------------------------
# tables


def test_write_csv_200k_rows_round_trips(tmp_path):
    n = 200_000
    rng = np.random.default_rng(3)
    cols = {
        "t_s": np.arange(n) * 60.0,
        "lat_deg": rng.uniform(-90, -80, n),
        "h_m": rng.normal(0, 1e3, n),
        "cell": np.arange(n, dtype=np.int64),
        "lit": rng.random(n) > 0.5,
    }
    path = write_csv(tmp_path / "big.csv", cols, float_format="%.17g")
    back = np.loadtxt(path, delimiter=",", skiprows=1, usecols=(0, 1, 2, 3))
    for i, name in enumerate(["t_s", "lat_deg", "h_m", "cell"]):
        np.testing.assert_array_equal(back[:, i], cols[name])  # %.17g is exact for float64
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == list(cols) and len(rows) == n + 1
    assert [r[4] for r in rows[1:6]] == ["true" if v else "false" for v in cols["lit"][:5]]
    assert residue(tmp_path) == []


def test_write_csv_quoting_missing_values_and_times(tmp_path):
    cols = {
        "name, quoted": np.array(["Shackleton, rim", 'say "hi"', "two\nlines", "plain"]),
        "h_m": np.array([1.23456, np.nan, -0.5, 1e6]),
        "when": np.array(["2030-01-01T00:00", "NaT", "2030-01-01T12:00", "2030-01-02"], dtype="datetime64[m]"),
        "obj": np.array([None, dt.date(2030, 1, 2), 3, "x"], dtype=object),
    }
    path = write_csv(tmp_path / "t.csv", cols, float_format={"h_m": "%.2f"}, na_rep="")
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == list(cols)
    assert [r[0] for r in rows[1:]] == list(cols["name, quoted"])
    assert [r[1] for r in rows[1:]] == ["1.23", "", "-0.50", "1000000.00"]
    assert [r[2] for r in rows[1:]] == ["2030-01-01T00:00Z", "", "2030-01-01T12:00Z", "2030-01-02T00:00Z"]
    assert [r[3] for r in rows[1:]] == ["", "2030-01-02", "3", "x"]
    with pytest.raises(ValueError, match="one length"):
        write_csv(tmp_path / "bad.csv", {"a": np.ones(3), "b": np.ones(4)})
    with pytest.raises(ValueError, match="format"):
        write_csv(tmp_path / "bad.csv", {"a": np.ones(3)}, float_format="%.2f,%.2f")
    assert not (tmp_path / "bad.csv").exists()


def test_write_json_numpy_datetimes_and_strictness(tmp_path):
    obj = {
        "k": np.float32(1.5),
        "n": np.int64(7),
        "b": np.bool_(True),
        "arr": np.array([[1.0, np.nan], [np.inf, 2.0]]),
        "when": dt.datetime(2030, 1, 1, 6, tzinfo=dt.UTC),
        "day": dt.date(2030, 1, 1),
        "t64": np.datetime64("2030-01-01T06:00:00"),
        "dur": np.timedelta64(90, "s"),
        "path": Path("/x/y.tif"),
        "colour": Colour.RED,
        "params": Params(60.0, "p"),
        3: "int key",
        "nested": [(1, 2), {np.int32(4): None}],
    }
    path = write_json(tmp_path / "r.json", obj)
    back = json.loads(path.read_text(), parse_constant=lambda c: pytest.fail(f"non-standard {c}"))
    assert back == {
        "k": 1.5,
        "n": 7,
        "b": True,
        "arr": [[1.0, None], [None, 2.0]],
        "when": "2030-01-01T06:00:00+00:00",
        "day": "2030-01-01",
        "t64": "2030-01-01T06:00:00Z",
        "dur": 90.0,
        "path": "/x/y.tif",
        "colour": 1,
        "params": {"step_s": 60.0, "name": "p"},
        "3": "int key",
        "nested": [[1, 2], {"4": None}],
    }
    with pytest.raises(TypeError, match=r"\$\.bad"):
        write_json(tmp_path / "bad.json", {"bad": object()})
    assert not (tmp_path / "bad.json").exists() and residue(tmp_path) == []


def test_gdal_reads_the_embedded_ldem_4_as_our_pds3_reader_does():
    """A third-party reader of the same label: GDAL's PDS driver (inside rasterio) gives the same heights, cell
    for cell, once its scale (0.5 m) and offset (the 1,737.4 km reference radius) are applied, and the same grid.
    GDAL states the pixel size in metres rounded to the centimetre (7,580.80 m for 0.25 deg), so its cell
    centres drift from the label's exact 0.25 deg by up to 1440 x 0.005 m, i.e. < 0.001 deg; that is the
    tolerance."""
    from ilrs.constants import MOON_RADIUS_M

    ours = read_pds3(LDEM_4)
    with rasterio.open(LDEM_4) as ds:
        assert ds.driver == "PDS" and ds.shape == ours.heights_m.shape
        gdal = ds.read(1).astype(float) * ds.scales[0] + ds.offsets[0] - MOON_RADIUS_M
        t = ds.transform
    np.testing.assert_array_equal(gdal, ours.heights_m)
    deg = MOON_RADIUS_M * np.pi / 180.0  # metres per degree on the reference sphere
    lon_first = (t.c + 0.5 * t.a) / deg + 180.0  # central meridian 180 E
    lat_first = (t.f + 0.5 * t.e) / deg
    assert abs(lon_first - ours.x0) < 1e-3 and abs(lat_first - ours.y0) < 1e-3
    assert abs(t.a / deg - ours.dx) < 1e-5 and abs(t.e / deg - ours.dy) < 1e-5
