"""GeoTIFF products read back with rasterio (GDAL): the IAU CRS and its code, band descriptions and units, uint8
masks, Cloud-Optimized layout with overviews; map PNGs with latitude rings and labels that do not overlap."""

from __future__ import annotations

import numpy as np
import pyproj
import pytest
import rasterio

from ilrs.iotools.geotiff import CRS_WKT2_TAG, read_crs, read_geotiff, write_geotiff

IAU_POLAR = pyproj.CRS("IAU_2015:30135")


@pytest.fixture(scope="module")
def region(pole_dem):
    """A 600 x 600 window (144 km) around the pole: large enough for two overview levels of 256-pixel tiles."""
    r0, c0 = pole_dem.shape[0] // 2 - 300, pole_dem.shape[1] // 2 - 300
    return pole_dem.crop(r0, r0 + 600, c0, c0 + 600)


@pytest.fixture(scope="module")
def slope_tif(region, tmp_path_factory):
    from ilrs.terrain.slope import slope_map_deg

    path = tmp_path_factory.mktemp("tif") / "slope_deg.tif"
    return write_geotiff(
        path, slope_map_deg(region), grid=region, band_names=["slope_deg"], units=["degree"], long_names=["Slope"]
    )


def test_geotiff_is_a_cog_with_overviews_descriptions_and_units(slope_tif):
    with rasterio.open(slope_tif) as ds:
        assert ds.tags(ns="IMAGE_STRUCTURE")["LAYOUT"] == "COG"  # GDAL recognises the COG header layout
        assert ds.overviews(1) == [2, 4]
        assert ds.block_shapes == [(256, 256)] and ds.profile["tiled"]
        assert ds.descriptions == ("slope_deg",) and ds.units == ("degree",)
        assert ds.tags(1)["LONG_NAME"] == "Slope"
        assert ds.dtypes == ("float32",)


def test_geotiff_crs_round_trips_with_its_iau_code(slope_tif, region):
    """The exact CRS, read back by rasterio from the file, equals IAU_2015:30135 and carries its code.

    GeoTIFF's GeoKeys hold EPSG codes only: GDAL writes IAU_2015:30135 as user-defined keys and reads them back as
    'Polar Stereographic (variant B)' with its standard parallel at the pole, which is the same projection but
    not ``equals`` for PROJ (nor, through WKT1, is the axis order of the base CRS). The GeoKeys' CRS is
    therefore checked by the coordinates GDAL computes with it, and the exact CRS by the WKT2 in the file."""
    from rasterio.warp import transform

    with rasterio.open(slope_tif) as ds:
        exact = pyproj.CRS.from_user_input(ds.tags()[CRS_WKT2_TAG])
        assert exact.equals(IAU_POLAR) and exact.to_authority() == ("IAU_2015", "30135")
        assert ds.tags()["CRS_AUTHORITY"] == "IAU_2015:30135"
        lon = np.arange(0.0, 360.0, 15.0)
        lat = np.linspace(-89.9, -80.0, lon.size)
        gx, gy = transform("IAU_2015:30100", ds.crs, lon, lat)  # GDAL, with the CRS of the GeoKeys
    px, py = pyproj.Transformer.from_crs("IAU_2015:30100", IAU_POLAR, always_xy=True).transform(lon, lat)
    assert np.allclose(gx, px, atol=1e-6) and np.allclose(gy, py, atol=1e-6)
    assert read_crs(slope_tif).equals(IAU_POLAR)
    back = read_geotiff(slope_tif)
    assert back.projection == region.projection and back.x0 == region.x0 and back.dy == region.dy


def test_boolean_mask_is_uint8_with_nodata_255(region, tmp_path):
    never = region.heights_m < np.nanpercentile(region.heights_m, 5)
    path = write_geotiff(tmp_path / "never_lit.tif", never, grid=region, band_names=["never_lit"], units=["1"])
    with rasterio.open(path) as ds:
        assert ds.dtypes == ("uint8",) and ds.nodata == 255
        assert np.array_equal(ds.read(1), never.astype(np.uint8))
        assert set(np.unique(ds.read(1, out_shape=(150, 150)))) <= {0, 1}  # nearest overviews stay 0/1
        assert ds.overviews(1)


def test_map_files_write_cogs_with_units(region, tmp_path):
    from ilrs.reports.map_files import GEOTIFF_UNITS, write_map_files
    from ilrs.services.site_maps import LAYERS, SiteMaps

    rng = np.random.default_rng(1)
    layers = {name: rng.random(region.shape).astype(np.float32) for name in LAYERS}
    layers["never_lit"] = (layers["never_lit"] > 0.9).astype(np.float32)
    maps = SiteMaps(region, 2.0, "2025-01-01", "2025-02-01", 21600.0, 124, layers)
    write_map_files(tmp_path, maps)
    for name in LAYERS:
        with rasterio.open(tmp_path / f"{name}.tif") as ds:
            assert ds.descriptions == (name,) and ds.units == (GEOTIFF_UNITS[name],)
            assert ds.tags(ns="IMAGE_STRUCTURE")["LAYOUT"] == "COG" and ds.overviews(1)
            assert ds.dtypes == (("uint8",) if name == "never_lit" else ("float32",))


def test_latitude_rings_on_a_polar_map(region):
    import matplotlib.pyplot as plt

    from ilrs.reports.figures import latitude_rings

    fig, ax = plt.subplots()
    rings = latitude_rings(ax, region)
    plt.close(fig)
    # the corners are 72 * sqrt(2) = 101.8 km from the pole, colatitude 2 atan(101.8 / 3474.8) = 3.36 deg
    # (stereographic, true scale at the pole): 86.64 S, so every 0.5 deg from 89.5 S to 87 S (0.25 gives 13)
    assert rings == [-89.5, -89.0, -88.5, -88.0, -87.5, -87.0]


def test_site_labels_do_not_overlap(region):
    """Named sites 1-2 km apart (Shackleton rim, Chang'e 7 target) and a cluster of ranked sites: no two label
    boxes overlap once placed."""
    import matplotlib.pyplot as plt

    from ilrs.reports.figures import place_labels, site_marks
    from ilrs.terrain.sites import SITES

    marks = site_marks(region, SITES)
    fig, ax = plt.subplots(figsize=(6.4, 5.6))
    ax.set_xlim(-72, 72)
    ax.set_ylim(-72, 72)
    labels = [(x, y, text, {"fontsize": 7}) for x, y, text in marks]
    labels += [(30.0 + 0.5 * k, -20.0, f"site {k}", {"fontsize": 7}) for k in range(4)]
    placed = place_labels(ax, labels, fig)
    renderer = fig.canvas.get_renderer()
    boxes = [a.get_window_extent(renderer) for a in placed]
    plt.close(fig)
    assert len(boxes) == len(labels)
    for i in range(len(boxes)):
        for j in range(i):
            assert not boxes[i].overlaps(boxes[j]), (labels[i][2], labels[j][2])


def test_pds4_map_products_read_back_by_gdal(region, tmp_path):
    """``write_map_files(..., pds4=True)``: each layer's PDS4 label, read by GDAL's PDS4 driver, gives the GeoTIFF's
    pixels, grid, unit and projection; the label's bounding box holds the pole and its LID is lower case."""
    from xml.etree import ElementTree

    from rasterio.warp import transform

    from ilrs.reports.map_files import PDS4_LID_PREFIX, write_map_files
    from ilrs.services.site_maps import LAYERS, SiteMaps

    rng = np.random.default_rng(2)
    layers = {name: rng.random(region.shape).astype(np.float32) for name in LAYERS}
    layers["never_lit"] = (layers["never_lit"] > 0.9).astype(np.float32)
    write_map_files(tmp_path, SiteMaps(region, 2.0, "2025-01-01", "2025-02-01", 21600.0, 124, layers), pds4=True)
    for name in ("slope_deg", "never_lit"):
        label = tmp_path / "pds4" / f"{name}.xml"
        with rasterio.open(label) as p4, rasterio.open(tmp_path / f"{name}.tif") as tif:
            assert p4.driver == "PDS4"
            assert np.array_equal(p4.read(1), tif.read(1), equal_nan=True)
            assert p4.transform == tif.transform and p4.dtypes == tif.dtypes and p4.units == tif.units
            lon, lat = np.array([0.0, 90.0, 200.0]), np.array([-89.5, -88.0, -87.0])
            assert np.allclose(
                transform("IAU_2015:30100", p4.crs, lon, lat), transform("IAU_2015:30100", tif.crs, lon, lat), atol=1e-6
            )
        ns = {"pds": "http://pds.nasa.gov/pds4/pds/v1", "cart": "http://pds.nasa.gov/pds4/cart/v1"}
        root = ElementTree.parse(label).getroot()
        assert root.find("pds:Identification_Area/pds:logical_identifier", ns).text == f"{PDS4_LID_PREFIX}:{name}"
        south = root.find(".//cart:south_bounding_coordinate", ns)
        assert float(south.text) == -90.0
        assert root.find(".//cart:Polar_Stereographic/cart:latitude_of_projection_origin", ns).text == "-90"


def test_stac_catalogue_of_the_maps(region, tmp_path):
    """The maps' ``catalog.json``, read back by pystac: every item and the catalogue validate against the STAC
    1.1 core schemas that pystac bundles (offline: the projection extension's schema would be fetched, so it is
    left out of the validation, and its fields are read back through pystac's ProjectionExtension instead)."""
    import pystac
    from pystac.extensions.projection import ProjectionExtension
    from pystac.validation import validate_dict

    from ilrs.reports.map_files import write_map_files
    from ilrs.services.site_maps import LAYERS, SiteMaps

    rng = np.random.default_rng(3)
    layers = {name: rng.random(region.shape).astype(np.float32) for name in LAYERS}
    write_map_files(tmp_path, SiteMaps(region, 2.0, "2025-01-01", "2025-02-01", 21600.0, 124, layers))
    catalog = pystac.Catalog.from_file(str(tmp_path / "catalog.json"))
    validate_dict(catalog.to_dict(), pystac.STACObjectType.CATALOG)
    items = list(catalog.get_items(recursive=True))
    assert sorted(i.id for i in items) == sorted(LAYERS)
    for item in items:
        core = {**item.to_dict(), "stac_extensions": []}
        validate_dict(core, pystac.STACObjectType.ITEM)
        proj = ProjectionExtension.ext(item)
        assert proj.code == "IAU_2015:30135"
        assert (
            pyproj.CRS.from_wkt(proj.wkt2).equals(IAU_POLAR) and pyproj.CRS.from_json_dict(proj.projjson) == IAU_POLAR
        )
        assert proj.shape == list(region.shape) and item.properties["ssys:targets"] == ["Moon"]
        asset = item.assets["data"]
        assert asset.media_type == pystac.MediaType.COG
        with rasterio.open(asset.get_absolute_href()) as ds:
            assert list(ds.transform)[:6] == proj.transform
        assert item.bbox[1] == -90.0 and item.common_metadata.start_datetime.year == 2025
