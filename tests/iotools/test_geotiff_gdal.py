"""GeoTIFF products checked by GDAL's own tools, outside ilrs and outside rasterio's bundled GDAL: Debian's
``gdalinfo`` reads the exact IAU CRS back (from the PAM sidecar) and GDAL's ``validate_cloud_optimized_geotiff.py``
accepts the COG layout. ``.ci/run`` installs ``gdal-bin`` (which brings ``python3-gdal`` and the validator)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pyproj
import pytest
import rasterio
import rasterio.enums

from ilrs.iotools.geotiff import pam_sidecar, write_geotiff

IAU_POLAR = pyproj.CRS("IAU_2015:30135")
#: GDAL's COG validator, as packaged by Debian's python3-gdal (run by the system Python, which has osgeo)
COG_VALIDATOR = Path("/usr/lib/python3/dist-packages/osgeo_utils/samples/validate_cloud_optimized_geotiff.py")
SYSTEM_PYTHON = "/usr/bin/python3"


def _need(tool: str, present: bool) -> None:
    if not present:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{tool} is missing (.ci/run installs Debian's gdal-bin)")
        pytest.skip(f"{tool} is missing (apt-get install -y gdal-bin)")


def gdalinfo(path: Path) -> dict:
    exe = shutil.which("gdalinfo")
    _need("gdalinfo", exe is not None)
    done = subprocess.run([exe, "-json", str(path)], capture_output=True, text=True, check=True, timeout=60)
    return json.loads(done.stdout)


def validate_cog(path: Path) -> subprocess.CompletedProcess:
    _need(str(COG_VALIDATOR), COG_VALIDATOR.exists() and os.path.exists(SYSTEM_PYTHON))
    return subprocess.run(
        [SYSTEM_PYTHON, str(COG_VALIDATOR), "--full-check=yes", str(path)], capture_output=True, text=True, timeout=60
    )


@pytest.fixture(scope="module")
def region(pole_dem):
    """A 600 x 600 window (144 km) of the embedded LOLA DEM around the pole: two overview levels of 256 tiles."""
    r0, c0 = pole_dem.shape[0] // 2 - 300, pole_dem.shape[1] // 2 - 300
    return pole_dem.crop(r0, r0 + 600, c0, c0 + 600)


@pytest.fixture(scope="module")
def heights_tif(region, tmp_path_factory):
    path = tmp_path_factory.mktemp("gdal") / "heights_m.tif"
    return write_geotiff(path, region, band_names=["height_m"], units=["m"])


def test_gdalinfo_reads_the_iau_crs_and_its_code(heights_tif):
    """``gdalinfo`` (Debian's GDAL, not the one inside rasterio) gives back exactly IAU_2015:30135, code included,
    and the grid as written."""
    info = gdalinfo(heights_tif)
    crs = pyproj.CRS.from_wkt(info["coordinateSystem"]["wkt"])
    assert crs.equals(IAU_POLAR) and crs.to_authority(min_confidence=100) == ("IAU_2015", "30135")
    assert info["coordinateSystem"]["dataAxisToSRSAxisMapping"] == [1, 2]
    assert str(pam_sidecar(heights_tif)) in info["files"]
    with rasterio.open(heights_tif) as ds:
        assert info["geoTransform"] == list(ds.transform.to_gdal())
    assert info["bands"][0]["unit"] == "m" and info["bands"][0]["description"] == "height_m"


def test_gdalinfo_reads_the_geographic_iau_crs(pole_dem, tmp_path):
    """A lon/lat grid (IAU_2015:30100, latitude first in the CRS) keeps its code and its axis mapping (x is
    longitude), so GDAL places it the right way round: the corner coordinates match the grid's edges."""
    from ilrs.terrain.dem import Dem
    from ilrs.terrain.projection import LonLat

    # the heights of a 1-degree lon/lat grid from 0 to 360 E, 90 to 80 S (values only matter as plausible heights)
    z = np.resize(pole_dem.heights_m[:10, :360], (10, 360))
    grid = Dem(z, 0.5, -80.5, 1.0, -1.0, LonLat(), "lonlat")
    path = write_geotiff(tmp_path / "lonlat.tif", grid)
    info = gdalinfo(path)
    crs = pyproj.CRS.from_wkt(info["coordinateSystem"]["wkt"])
    assert crs.equals(pyproj.CRS("IAU_2015:30100")) and crs.to_authority() == ("IAU_2015", "30100")
    assert info["coordinateSystem"]["dataAxisToSRSAxisMapping"] == [2, 1]
    assert info["cornerCoordinates"]["upperLeft"] == [0.0, -80.0]
    assert info["cornerCoordinates"]["lowerRight"] == [360.0, -90.0]


def test_without_its_sidecar_the_geotiff_loses_the_iau_code(heights_tif, tmp_path):
    """Why the sidecar: GeoTIFF's GeoKeys hold EPSG codes only (OGC 19-008r4), so the TIFF alone reads back in GDAL
    as a user-defined polar stereographic with no IAU code (variant A in GDAL 3.6, variant B in rasterio's
    3.10): the same projection but not ``equals`` for PROJ. If a future GDAL or GeoTIFF carries IAU codes in the
    keys, this test says so."""
    alone = tmp_path / "alone.tif"
    shutil.copyfile(heights_tif, alone)
    crs = pyproj.CRS.from_wkt(gdalinfo(alone)["coordinateSystem"]["wkt"])
    assert crs.to_authority(min_confidence=100) is None and not crs.equals(IAU_POLAR)
    assert crs.coordinate_operation.method_name.startswith("Polar Stereographic")


def test_rasterio_reads_the_iau_code_but_through_wkt1(heights_tif):
    """rasterio 1.4's ``dataset.crs`` is built from GDAL's WKT1 (``GDALGetProjectionRef``), which has no way to say
    'variant A, scale 1 at the pole': PROJ reads WKT1 ``Polar_Stereographic`` at latitude -90 as variant B, so even
    pyproj's own WKT1 of IAU_2015:30135 does not ``equals`` it (shown below). What the WKT1 does carry, from the
    sidecar, is the code: ``AUTHORITY["IAU","30135"]``, which resolves to the exact CRS."""
    assert not pyproj.CRS.from_wkt(IAU_POLAR.to_wkt("WKT1_GDAL")).equals(IAU_POLAR)  # the WKT1 limit itself
    with rasterio.open(heights_tif) as ds:
        wkt1 = ds.crs.to_wkt()
    crs = pyproj.CRS.from_wkt(wkt1)
    ident = crs.to_json_dict()["id"]
    assert (ident["authority"], ident["code"]) == ("IAU", 30135)
    assert pyproj.CRS(f"{ident['authority']}:{ident['code']}").equals(IAU_POLAR)
    # and the CRS rasterio gives places points where IAU_2015:30135 does (to 1 um: both are closed-form)
    lon, lat = np.arange(0.0, 360.0, 15.0), np.linspace(-89.9, -80.0, 24)
    a = pyproj.Transformer.from_crs("IAU_2015:30100", crs, always_xy=True).transform(lon, lat)
    b = pyproj.Transformer.from_crs("IAU_2015:30100", IAU_POLAR, always_xy=True).transform(lon, lat)
    assert np.allclose(a, b, rtol=0.0, atol=1e-6)


def test_gdal_validates_the_cogs(heights_tif, region, tmp_path):
    """GDAL's ``validate_cloud_optimized_geotiff.py --full-check=yes`` (IFDs before data, tiles, overviews in order,
    the ghost header) accepts a height map and a uint8 mask; a striped 600 x 600 GeoTIFF is the negative control."""
    mask = write_geotiff(tmp_path / "mask.tif", region.heights_m < np.nanmedian(region.heights_m), grid=region)
    for path in (heights_tif, mask):
        done = validate_cog(path)
        assert done.returncode == 0 and "is a valid cloud optimized GeoTIFF" in done.stdout, done.stdout + done.stderr
        assert "warning" not in done.stdout.lower(), done.stdout
        assert gdalinfo(path)["metadata"]["IMAGE_STRUCTURE"]["LAYOUT"] == "COG"
        assert len(gdalinfo(path)["bands"][0]["overviews"]) == 2
    # negative control: the same tiles with overviews added afterwards (as gdaladdo does), so their IFDs and data
    # come after the full-resolution image's
    late = write_geotiff(tmp_path / "late_overviews.tif", region, cog=False)
    with rasterio.open(late, "r+") as ds:
        ds.build_overviews([2, 4], rasterio.enums.Resampling.average)
    done = validate_cog(late)
    assert done.returncode != 0 and "is NOT a valid cloud optimized GeoTIFF" in done.stdout, done.stdout


def test_a_stale_sidecar_never_outlives_its_geotiff(region, tmp_path, monkeypatch):
    """Rewriting a GeoTIFF removes its old sidecar before the new file replaces it: were the writing interrupted
    between the two, GDAL (which reads the sidecar first) would otherwise give the new raster the old CRS."""
    import ilrs.iotools.geotiff as geotiff

    path = write_geotiff(tmp_path / "h.tif", region)
    sidecar = pam_sidecar(path)
    sidecar.write_text(sidecar.read_text().replace("30135", "99999"))  # an old, different CRS

    def interrupted(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(geotiff, "atomic_write_text", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_geotiff(path, region)
    assert path.exists() and not sidecar.exists()
