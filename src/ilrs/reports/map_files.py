"""Map products as files: one Cloud-Optimized GeoTIFF (IAU_2015:30135, its exact CRS also in GDAL's ``.aux.xml``
sidecar) and one PNG (colour bar, site marks,
latitude rings) per layer."""

from __future__ import annotations

from pathlib import Path

from ilrs.iotools.atomic import atomic_write_bytes
from ilrs.iotools.geotiff import pam_sidecar, write_geotiff
from ilrs.iotools.pds4 import bounding_degrees, write_pds4
from ilrs.iotools.stac import write_raster_catalog
from ilrs.reports.figures import extent_km, map_png, site_marks
from ilrs.services.site_maps import LAYERS, SiteMaps
from ilrs.terrain.sites import SITES

#: The unit of each layer as stored in its GeoTIFF (UDUNITS spelling): fractions are stored 0..1, not in %
GEOTIFF_UNITS = {
    "sun_visible_fraction": "1",
    "mean_disk_fraction": "1",
    "longest_dark_hours": "h",
    "earth_visible_fraction": "1",
    "slope_deg": "degree",
    "never_lit": "1",
    "distance_to_shadow_km": "km",
}

#: Layers written as uint8 masks (0/1, no-data 255)
MASKS = {"never_lit"}


#: PDS4 logical identifiers of the map products: ``{PDS4_LID_PREFIX}:{layer}`` (a local bundle, not registered with
#: the PDS)
PDS4_LID_PREFIX = "urn:nasa:pds:ilrs_site_maps:data"


def write_map_files(out: str | Path, maps: SiteMaps, pds4: bool = False) -> list[Path]:
    """Write every layer of ``maps`` to ``out`` (created if needed) and a STAC catalogue of the GeoTIFFs
    (``catalog.json``); return the files written. With ``pds4``, also a PDS4 label and raw image per layer
    (``pds4/<layer>.xml`` and ``.img``, GDAL's PDS4 driver)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    extent = extent_km(maps.dem)
    marks = site_marks(maps.dem, SITES)
    written = []
    bounds = bounding_degrees(maps.dem.projection, maps.dem.bounds)
    if pds4:
        (out / "pds4").mkdir(exist_ok=True)
    # a SYNTHETIC DEM (scale tests only) is labelled in every file and figure made from it
    synthetic = "SYNTHETIC DEM, no physical use: " if "SYNTHETIC" in maps.dem.name else ""
    for name, (title, unit) in LAYERS.items():
        layer = maps.layers[name]
        stored_unit = GEOTIFF_UNITS[name]
        long_name = title + (" (fraction of the period, 0..1)" if stored_unit == "1" and unit == "%" else "")
        tif = write_geotiff(
            out / f"{name}.tif",
            layer.astype(bool) if name in MASKS else layer,
            grid=maps.dem,
            band_names=[name],
            units=[stored_unit],
            long_names=[synthetic + long_name],
        )
        written += [tif, pam_sidecar(tif)]
        if pds4:
            label = write_pds4(
                out / "pds4" / f"{name}.xml",
                tif,
                title=f"{synthetic}ilrs site map: {long_name} [{stored_unit}], {maps.period_label}",
                logical_identifier=f"{PDS4_LID_PREFIX}:{name}",
                bounds_deg=bounds,
            )
            written += [label, label.with_suffix(".img")]
        written.append(
            atomic_write_bytes(
                out / f"{name}.png", map_png(layer, extent, synthetic + title, unit, name, marks, dem=maps.dem)
            )
        )
    tifs = [p for p in written if p.suffix == ".tif"]
    written.append(
        write_raster_catalog(
            out,
            tifs,
            catalog_id="ilrs-site-maps",
            description=f"ilrs site maps, {maps.period_label}, {maps.observers_label} above ground",
            start=maps.start,
            end=maps.end,
            bounds_deg=bounds,
        )
    )
    return written
